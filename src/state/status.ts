// Container and pod status as Kubernetes reports them (core/v1 ContainerStatus, PodStatus),
// as the runner holds them and (dates as ISO strings) as the pod record stores them.

export type WaitingReason = 'ContainerCreating' | 'PodInitializing' | 'CrashLoopBackOff' | 'ErrImagePull' | 'ImagePullBackOff'
export type TerminatedReason = 'Completed' | 'Error' | 'OOMKilled' | 'ContainerCannotRun'

export interface Terminated {
  exitCode: number
  signal: NodeJS.Signals | null
  reason: TerminatedReason
  message?: string
  startedAt?: Date
  finishedAt: Date
}

export type ContainerState = { waiting: { reason: WaitingReason; message?: string } } | { running: { startedAt: Date } } | { terminated: Terminated }

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
   * As kubelet reports it: a running container (or sidecar) once started and
   * while its readinessProbe (if any) succeeds; a
   * plain init container once it has exited 0.
   */
  ready: boolean
  /** Host pid of the current (or last) main process. */
  pid?: number
  /** The image as kubelet reports it: repo digest or config digest (none for host and directory images). */
  imageID?: string
  /** The CRI log file of the current (or last) run. */
  logPath?: string
  /** The signal a graceful stop sends first (1.33 status: lifecycle.stopSignal, the image's StopSignal, or SIGTERM). */
  stopSignal?: string
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

/** A value as JSON gives it back: dates become ISO strings. */
export type Stored<T> = T extends Date ? string : T extends readonly (infer U)[] ? Stored<U>[] : T extends object ? { [K in keyof T]: Stored<T[K]> } : T

/** `value` as the record will hold it once written and read back. */
export const stored = <T>(value: T): Stored<T> => JSON.parse(JSON.stringify(value)) as Stored<T>
