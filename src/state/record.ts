// The pod record (`<root>/<id>/pod.json`): what every management command reads.
import { isSidecar, type PodSpec } from '../spec/index.js'
import type { CgroupPlan } from '../cgroups/index.js'
import type { SpawnPlan } from '../spawn/index.js'
import type { ContainerStatus, PodPhase, Stored } from './status.js'

/** A container's status as pod.json holds it (dates as ISO strings), with its namespaces. */
export type ContainerRecord = Stored<ContainerStatus> & {
  /** Namespace inodes of the current (or last) main process. */
  namespaces?: Record<string, number>
  /** What the container runs (pod/plan.ts), stored when it was created; exec copies it. */
  plan?: SpawnPlan
}

/** The pod's cgroups: the plan applied and the directories made (per hierarchy). */
export interface CgroupsRecord {
  plan?: CgroupPlan
  paths?: { pod: string[]; pause: string[]; containers: Record<string, string[]> }
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
  /** A foreground `run` owns it (the CLI process is `supervisor`): its directory goes when it ends. */
  foreground?: boolean
  phase: PodPhase
  /** Set when the pod could not start (the sandbox failed). */
  error?: { message: string; hint?: string }
  spec: PodSpec
  pause?: { pid: number; startTicks: string; namespaces: Record<string, number>; plan?: SpawnPlan }
  cgroups?: CgroupsRecord
  podIP: string
  /** Every pod address (IPv4 first), from CNI. */
  podIPs?: string[]
  initContainerStatuses: ContainerRecord[]
  containerStatuses: ContainerRecord[]
}

/** What `ps` and `inspect` show for the phase: Unknown when the owner died before the pod ended. */
export function displayPhase(r: PodRecord, supervisorAlive: boolean): string {
  if (r.phase === 'Succeeded' || r.phase === 'Failed') return r.phase
  return supervisorAlive ? r.phase : 'Unknown'
}

/**
 * The containers that run beside the app, as kubectl counts them: the
 * sidecars (init containers with restartPolicy Always), then the containers.
 */
export function runningContainerStatuses(r: PodRecord): ContainerRecord[] {
  const sidecars = new Set(r.spec.initContainers.filter(isSidecar).map(c => c.name))
  return [...r.initContainerStatuses.filter(s => sidecars.has(s.name)), ...r.containerStatuses]
}

const isRunning = (s: ContainerRecord) => 'running' in s.state

/** Running and ready as kubelet reports it (a record without `ready`: running is ready). */
export function isReady(s: ContainerRecord): boolean {
  return isRunning(s) && (s.ready ?? true)
}
