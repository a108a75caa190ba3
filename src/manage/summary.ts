// One pod in a line: what `ps` shows and `ps --json` gives scripts (as podman
// ps --format json: one object per pod, full ids, labels, times, each
// container's state).
import { containerID } from './kube-pod.js'
import { isAlive } from '../state/proc.js'
import { displayPhase, isReady, podStatusText, runningContainerStatuses } from '../state/record.js'
import { type PodRef } from '../state/resolve.js'
import { stateName, stateReason } from '../state/status.js'
import { isSidecar } from '../spec/sidecar.js'

export interface ContainerSummary {
  name: string
  image: string
  /** Waiting, Running or Terminated. */
  state: string
  /** The state's reason (CrashLoopBackOff, Completed, Error, OOMKilled, ...), '' when running. */
  reason: string
  exitCode?: number
  ready: boolean
  restartCount: number
  init: boolean
  sidecar?: boolean
  pid?: number
  containerID?: string
}

export interface PodSummary {
  pod: string
  namespace: string
  /** The pod uid, in full. */
  id: string
  phase: string
  /** STATUS as kubectl get pods shows it: a waiting or terminated reason (ImagePullBackOff, CrashLoopBackOff, Completed), else the phase. */
  status: string
  /** READY as kubectl counts it: ready/all of the containers and the sidecars. */
  ready: string
  restarts: number
  createdAt?: string
  startTime?: string
  ip: string
  labels: Record<string, string>
  /** Who owns it: a `run -d` pod's shim, or the foreground `run` (null once the pod ended). */
  owner: { pid: number; alive: boolean; foreground: boolean } | null
  containers: ContainerSummary[]
  error?: string
}

export function podSummary(p: PodRef): PodSummary {
  const r = p.record
  if (!r)
    return {
      pod: '?',
      namespace: '',
      id: p.id,
      phase: 'Unknown',
      status: 'Unknown',
      ready: '-',
      restarts: 0,
      ip: '',
      labels: {},
      owner: null,
      containers: [],
      error: p.error?.message,
    }
  const live = isAlive(r.supervisor)
  const beside = runningContainerStatuses(r)
  const images = new Map([...r.spec.initContainers, ...r.spec.containers].map(c => [c.name, c.image]))
  return {
    pod: r.name,
    namespace: r.namespace,
    id: r.id,
    phase: displayPhase(r, live),
    status: podStatusText(r, live),
    ready: `${beside.filter(isReady).length}/${r.spec.containers.length + r.spec.initContainers.filter(isSidecar).length}`,
    restarts: beside.reduce((n, s) => n + s.restartCount, 0),
    createdAt: r.createdAt,
    ...(r.startTime && { startTime: r.startTime }),
    ip: r.podIP,
    labels: r.spec.labels,
    owner: r.supervisor && { pid: r.supervisor.pid, alive: live, foreground: !!r.foreground },
    containers: [...r.initContainerStatuses, ...r.containerStatuses].map(s => ({
      name: s.name,
      image: images.get(s.name) ?? '',
      state: stateName(s.state as never),
      reason: stateReason(s.state as never),
      ...('terminated' in s.state && { exitCode: s.state.terminated.exitCode }),
      ready: isReady(s),
      restartCount: s.restartCount,
      init: s.init,
      ...(s.sidecar && { sidecar: true }),
      ...(s.pid && { pid: s.pid }),
      ...(!('waiting' in s.state) && { containerID: containerID(r, s) }),
    })),
  }
}
