// A running Pod (or what is known of it) -> its PodRecord.
import type { Pod } from '../pod/index.js'
import { startTicks, stored, type PodRecord } from '../state/index.js'

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
