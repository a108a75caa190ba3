// A pod record as the Kubernetes Pod object `kubectl get pod -o yaml` would
// show: metadata, the spec as the API server stores it (kube-spec.ts), and
// the status kubelet writes (conditions with their transition times,
// container statuses with containerID and imageID, qosClass). What is ours
// alone (pod dir, owner, pause, cgroups, pids, events) is under `podLaunch`.
import { createRequire } from 'node:module'
import { constants, hostname } from 'node:os'
import { hostIP } from '../pod/node.js'
import type { ContainerSpec } from '../spec/index.js'
import { podDir } from '../state/layout.js'
import { isAlive } from '../state/proc.js'
import { displayPhase, isReady, type ContainerRecord, type PodRecord } from '../state/record.js'
import { computeConditions } from './conditions.js'
import { defaultedPodSpec, specFromPodSpec } from './kube-spec.js'

type Obj = Record<string, unknown>

// node:crypto (16 internal modules) only once a container is shown: `ps` of no pods never loads it.
let crypto: typeof import('node:crypto') | undefined
const sha256 = (text: string) =>
  (crypto ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')).createHash('sha256').update(text).digest('hex')

/** A container run's ID as the CRI names one (64 hex digits), stable for that run, new for each restart. */
export function containerID(r: PodRecord, s: ContainerRecord): string {
  return `pod-launch://${sha256(`${r.id}/${s.name}/${s.restartCount}`)}`
}

const signalNumber = (sig: string | null | undefined) => (sig ? (constants.signals as Record<string, number>)[sig] : undefined)

/** core/v1 ContainerState: terminated.signal is a number there. */
function state(st: ContainerRecord['state'] | undefined, id: string): Obj {
  if (!st) return {}
  if ('terminated' in st) {
    const { signal, ...t } = st.terminated
    const n = signalNumber(signal)
    return { terminated: { ...t, ...(n !== undefined && { signal: n }), containerID: id } }
  }
  return st
}

function containerStatus(r: PodRecord, s: ContainerRecord, spec: ContainerSpec | undefined): Obj {
  const id = containerID(r, s)
  const last = s.lastState && containerID(r, { ...s, restartCount: s.restartCount - 1 })
  const waiting = 'waiting' in s.state
  return {
    name: s.name,
    state: state(s.state, id),
    lastState: last ? state(s.lastState, last) : {},
    ready: isReady(s),
    restartCount: s.restartCount,
    image: spec?.image ?? '',
    imageID: s.imageID ?? '',
    ...(!waiting && { containerID: id }),
    started: s.started,
    // Kubernetes 1.33 reports the signal a graceful stop sends first.
    ...(s.stopSignal && { stopSignal: s.stopSignal }),
  }
}

/** kubelet's QoS class (pkg/apis/core/v1/helper/qos). */
function qosClass(r: PodRecord): string {
  const all = [...r.spec.initContainers, ...r.spec.containers]
  const set = (c: ContainerSpec) => [c.resources.requests, c.resources.limits].some(l => l.cpuMilli !== undefined || l.memoryBytes !== undefined)
  if (!all.some(set)) return 'BestEffort'
  const guaranteed = all.every(
    c =>
      c.resources.limits.cpuMilli !== undefined &&
      c.resources.limits.memoryBytes !== undefined &&
      c.resources.requests.cpuMilli === c.resources.limits.cpuMilli &&
      c.resources.requests.memoryBytes === c.resources.limits.memoryBytes,
  )
  return guaranteed ? 'Guaranteed' : 'Burstable'
}

/** The pod as a Kubernetes Pod object, our extras under `podLaunch`. */
export function kubePod(root: string, r: PodRecord): Obj {
  const live = isAlive(r.supervisor)
  const node = hostname()
  const specOf = (name: string) => [...r.spec.initContainers, ...r.spec.containers].find(c => c.name === name)
  // Conditions as last recorded; a record from before they were recorded gets them computed now (no transition time).
  const conditions = (r.conditions ?? computeConditions(r)).map(({ type, status, ...rest }) => ({ type, status, lastProbeTime: null, ...rest }))
  const hostIPNow = r.spec.hostNetwork || r.podIP ? hostIP() : ''
  const metadata: Obj = {
    name: r.name,
    namespace: r.namespace,
    uid: r.id,
    creationTimestamp: r.createdAt,
    ...(Object.keys(r.spec.labels).length > 0 && { labels: r.spec.labels }),
    ...(Object.keys(r.spec.annotations).length > 0 && { annotations: r.spec.annotations }),
  }
  const statuses = (list: ContainerRecord[]) => list.map(s => containerStatus(r, s, specOf(s.name)))
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec: r.spec.manifestSpec ? defaultedPodSpec(r.spec.manifestSpec, node) : specFromPodSpec(r.spec, node),
    status: {
      phase: displayPhase(r, live),
      conditions,
      ...(hostIPNow && { hostIP: hostIPNow, hostIPs: [{ ip: hostIPNow }] }),
      ...(r.podIP && { podIP: r.podIP }),
      podIPs: (r.podIPs ?? (r.podIP ? [r.podIP] : [])).map(ip => ({ ip })),
      ...(r.startTime && { startTime: r.startTime }),
      ...(r.initContainerStatuses.length > 0 && { initContainerStatuses: statuses(r.initContainerStatuses) }),
      containerStatuses: statuses(r.containerStatuses),
      qosClass: qosClass(r),
      ...(r.error && { reason: 'CreatePodSandboxError', message: r.error.message }),
    },
    podLaunch: {
      id: r.id,
      dir: podDir(root, r.id),
      supervisor: r.supervisor && { ...r.supervisor, alive: live },
      ...(r.foreground && { foreground: true }),
      pause: r.pause,
      cgroups: r.cgroups,
      containers: Object.fromEntries(
        [...r.initContainerStatuses, ...r.containerStatuses].map(s => [
          s.name,
          { pid: s.pid, namespaces: s.namespaces, logPath: s.logPath, ...(s.sidecar && { sidecar: true }), ...(s.plan && { plan: s.plan }) },
        ]),
      ),
      events: r.events ?? [],
    },
  }
}
