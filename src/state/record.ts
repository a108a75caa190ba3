// The pod record (`<root>/<id>/pod.json`): what every management command reads.
import { isSidecar, type PodSpec } from '../spec/index.js'

export interface ContainerRecordExtra {
  /** Namespace inodes of the current (or last) main process. */
  namespaces?: Record<string, number>
}

export interface PodRecord {
  /** The pod id: its uid. */
  id: string
  name: string
  namespace: string
  createdAt: string
  startTime?: string
  /** The process that owns the pod; null once it has exited. */
  supervisor: { pid: number; startTicks: string } | null
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed'
  /** Set when the pod could not start (the sandbox failed). */
  error?: { message: string; hint?: string }
  spec: PodSpec
  pause?: { pid: number; startTicks: string; namespaces: Record<string, number> }
  cgroups?: Record<string, unknown>
  podIP: string
  /** Every pod address (IPv4 first), from CNI. */
  podIPs?: string[]
  initContainerStatuses: (Record<string, unknown> & ContainerRecordExtra)[]
  containerStatuses: (Record<string, unknown> & ContainerRecordExtra)[]
}

/** What `ps` and `inspect` show for the phase: Unknown when the owner died before the pod ended. */
export function displayPhase(r: PodRecord, supervisorAlive: boolean): string {
  if (r.phase === 'Succeeded' || r.phase === 'Failed') return r.phase
  return supervisorAlive ? r.phase : 'Unknown'
}

type StatusRecord = PodRecord['containerStatuses'][number]

/**
 * The containers that run beside the app, as kubectl counts them: the
 * sidecars (init containers with restartPolicy Always), then the containers.
 */
export function runningContainerStatuses(r: PodRecord): StatusRecord[] {
  const sidecars = new Set(r.spec.initContainers.filter(isSidecar).map(c => c.name))
  return [...r.initContainerStatuses.filter(s => sidecars.has(s.name as string)), ...r.containerStatuses]
}

const isRunning = (s: StatusRecord) => !!s.state && 'running' in (s.state as object)

/** Running and ready as kubelet reports it (a record without `ready`: running is ready). */
export function isReady(s: StatusRecord): boolean {
  return isRunning(s) && ((s.ready as boolean | undefined) ?? true)
}
