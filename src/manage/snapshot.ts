// A running Pod (or what is known of it) -> its PodRecord.
import type { Pod } from '../pod/index.js'
import { isSidecar, type PodSpec } from '../spec/index.js'
import { startTicks, stored, type ContainerRecord, type PodRecord, type WaitingReason } from '../state/index.js'

export function podSnapshot(pod: Pod, base: PodRecord): PodRecord {
  const runner = (r: Pod['runners'][number]) => ({ ...stored({ ...r.status, namespaces: r.namespaces }), ...(r.plan && { plan: r.plan }) })
  return {
    ...base,
    phase: pod.phase,
    podIP: pod.podIPs[0] ?? '',
    podIPs: pod.podIPs,
    startTime: base.startTime ?? new Date().toISOString(),
    pause: {
      pid: pod.sandbox.pid,
      startTicks: startTicks(pod.sandbox.pid) ?? base.pause?.startTicks ?? '',
      namespaces: pod.sandbox.namespaces,
      plan: pod.sandbox.plan,
    },
    cgroups: { plan: pod.cgroups.plan, paths: pod.cgroups.paths },
    initContainerStatuses: pod.initRunners.map(runner),
    containerStatuses: pod.runners.map(runner),
  }
}

/** The statuses before the pod exists: each container Waiting, with the reason given or kubelet's default. */
export function waitingStatuses(
  spec: PodSpec,
  waiting: ReadonlyMap<string, { reason: WaitingReason; message?: string }>,
): Pick<PodRecord, 'initContainerStatuses' | 'containerStatuses'> {
  // kubelet's default: PodInitializing for every container of a pod with init containers, else ContainerCreating.
  const reason: WaitingReason = spec.initContainers.length > 0 ? 'PodInitializing' : 'ContainerCreating'
  const status = (c: PodSpec['containers'][number], init: boolean): ContainerRecord => ({
    name: c.name,
    init,
    ...(init && isSidecar(c) && { sidecar: true }),
    state: { waiting: waiting.get(c.name) ?? { reason } },
    restartCount: 0,
    started: false,
    ready: false,
  })
  return { initContainerStatuses: spec.initContainers.map(c => status(c, true)), containerStatuses: spec.containers.map(c => status(c, false)) }
}

/** `spec.containers{name}`: the involvedObject.fieldPath of a container's events. */
export function containerFieldPath(spec: PodSpec, name: string): string {
  return spec.initContainers.some(c => c.name === name) ? `spec.initContainers{${name}}` : `spec.containers{${name}}`
}
