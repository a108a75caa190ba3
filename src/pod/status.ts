// Container and pod status as Kubernetes reports them (core/v1 ContainerStatus, PodStatus).

export type WaitingReason = 'ContainerCreating' | 'PodInitializing' | 'CrashLoopBackOff'
export type TerminatedReason = 'Completed' | 'Error' | 'OOMKilled' | 'ContainerCannotRun'

export interface Terminated {
  exitCode: number
  signal: NodeJS.Signals | null
  reason: TerminatedReason
  message?: string
  startedAt?: Date
  finishedAt: Date
}

export type ContainerState =
  | { waiting: { reason: WaitingReason; message?: string } }
  | { running: { startedAt: Date } }
  | { terminated: Terminated }

export interface ContainerStatus {
  name: string
  /** True for init containers. */
  init: boolean
  /** True for a sidecar: an init container with restartPolicy Always. */
  sidecar?: boolean
  state: ContainerState
  lastState?: { terminated: Terminated }
  restartCount: number
  /** Running and past its startup gate (startupProbe); false once it has exited, as kubelet reports it. */
  started: boolean
  /**
   * As kubelet reports it: a running container (or sidecar) once started; a
   * plain init container once it has exited 0.
   */
  ready: boolean
  /** Host pid of the current (or last) main process. */
  pid?: number
  /** The CRI log file of the current (or last) run. */
  logPath?: string
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed'

export function stateName(s: ContainerState): 'Waiting' | 'Running' | 'Terminated' {
  return 'waiting' in s ? 'Waiting' : 'running' in s ? 'Running' : 'Terminated'
}

export function stateReason(s: ContainerState): string {
  return 'waiting' in s ? s.waiting.reason : 'terminated' in s ? s.terminated.reason : ''
}

/** Reason of a container that exited: Kubernetes says Completed for 0, Error otherwise. */
export function exitReason(exitCode: number): TerminatedReason {
  return exitCode === 0 ? 'Completed' : 'Error'
}
