// The pod record (`<root>/<id>/pod.json`): what every management command reads.
import type { PodSpec } from '../spec/index.js'
import { isSidecar } from '../spec/sidecar.js'
import type { CgroupPlan } from '../cgroups/index.js'
import type { SpawnPlan } from '../spawn/index.js'
import type { EventRecord } from './events.js'
import type { ContainerStatus, PodPhase, Stored } from './status.js'
import type { ProcessIdentity } from './proc.js'

/** A container's status as pod.json holds it (dates as ISO strings), with its namespaces. */
export type ContainerRecord = Stored<ContainerStatus> & {
  /** Namespace inodes of the current (or last) main process. */
  namespaces?: Record<string, number>
  /** What the container runs (pod/plan.ts), stored when it was created; exec copies it. */
  plan?: SpawnPlan
}

/** A pod condition as kubelet reports it (core/v1 PodCondition). */
export interface PodCondition {
  type: string
  status: 'True' | 'False'
  reason?: string
  message?: string
  lastTransitionTime: string
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
  /**
   * The process whose life is the pod's: a foreground run's CLI process; a
   * detached pod's shim (its engine while the shim is not started yet).
   * null once the pod ended and was torn down.
   */
  supervisor: ProcessIdentity | null
  /** A stop under way (a detached pod): an engine that takes the pod over finishes it. */
  stopping?: { gracePeriodSeconds?: number; force?: boolean }
  /** A foreground `run` owns it (the CLI process is `supervisor`): its directory goes when it ends. */
  foreground?: boolean
  phase: PodPhase
  /** Set when the pod could not start (the sandbox failed). */
  error?: { message: string; hint?: string }
  spec: PodSpec
  pause?: ProcessIdentity & { namespaces: Record<string, number>; plan?: SpawnPlan }
  cgroups?: CgroupsRecord
  podIP: string
  /** Every pod address (IPv4 first), from CNI. */
  podIPs?: string[]
  initContainerStatuses: ContainerRecord[]
  containerStatuses: ContainerRecord[]
  /** status.conditions with their transition times (manage/conditions.ts). */
  conditions?: PodCondition[]
  /** kubelet's events for the pod (image pulls...), newest last. */
  events?: EventRecord[]
}

/** What `ps` and `inspect` show for the phase: Unknown when the owner died before the pod ended. */
export function displayPhase(r: PodRecord, supervisorAlive: boolean): string {
  if (r.phase === 'Succeeded' || r.phase === 'Failed') return r.phase
  return supervisorAlive ? r.phase : 'Unknown'
}

/**
 * The STATUS column of `kubectl get pods`: the phase, unless a container
 * says more (kubectl's printPod): the first unfinished init container as
 * `Init:<reason>` or `Init:N/M`, else the last container's waiting or
 * terminated reason (`ImagePullBackOff`, `CrashLoopBackOff`, `Completed`,
 * `Error`), `Running` while one still runs ready.
 */
export function podStatusText(r: PodRecord, supervisorAlive: boolean): string {
  const phase = displayPhase(r, supervisorAlive)
  if (phase === 'Unknown') return phase
  let reason: string = phase
  const exited = (t: { reason?: string; signal?: string | null; exitCode: number }, prefix = '') =>
    prefix + (t.reason || (t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`))
  const sidecars = new Set(r.spec.initContainers.filter(isSidecar).map(c => c.name))
  let initializing = false
  for (const [i, s] of r.initContainerStatuses.entries()) {
    const st = s.state
    if ('terminated' in st && st.terminated.exitCode === 0) continue
    if (sidecars.has(s.name) && s.started) continue
    if ('terminated' in st) reason = exited(st.terminated, 'Init:')
    else if ('waiting' in st && st.waiting.reason && st.waiting.reason !== 'PodInitializing') reason = `Init:${st.waiting.reason}`
    else reason = `Init:${i}/${r.spec.initContainers.length}`
    initializing = true
    break
  }
  if (initializing) return reason
  let running = false
  for (const s of [...r.containerStatuses].reverse()) {
    const st = s.state
    if ('waiting' in st && st.waiting.reason) reason = st.waiting.reason
    else if ('terminated' in st) reason = exited(st.terminated)
    else if (isReady(s)) running = true
  }
  return reason === 'Completed' && running ? 'Running' : reason
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
