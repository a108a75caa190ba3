// The pod engine's public shapes: the options Pod.start takes, the events it
// emits, the result wait() gives; and the default printer of container lines.
import type { BackoffOptions } from './backoff.js'
import type { OutputLine } from './logs.js'
import type { RunnerEvent } from './runner.js'
import type { AdoptedSandbox, SandboxEvent, SandboxOptions } from './sandbox.js'
import type { HostedProcess } from './process-host.js'
import type { ContainerRecord, ContainerStatus, PodPhase } from '../state/index.js'
import type { AttachClient } from './stdio.js'
import type { PullEvent } from '../rootfs/images/registry/pull.js'
import type { ImagePullEvent } from './image-pulls.js'

export type PodEvent =
  | SandboxEvent
  | { type: 'pod-phase'; pod: string; phase: PodPhase }
  | { type: 'pod-removed'; pod: string }
  | { type: 'sandbox-died'; pod: string; pid: number; signal: NodeJS.Signals | null; exitCode: number }
  /** kubelet's Normal event SandboxChanged: pause died, the containers are killed and a new sandbox is made. */
  | { type: 'sandbox-changed'; pod: string; reason: 'SandboxChanged'; message: string }
  | (ImagePullEvent & { pod: string })
  | (RunnerEvent & { pod: string })

export interface PodOptions extends Omit<SandboxOptions, 'onEvent'> {
  /** Each line a container prints; default: `[name] line` on our stdout/stderr. */
  onOutput?: (line: OutputLine) => void
  /** Lifecycle events, in order (for tools, tests and the labs). */
  onEvent?: (event: PodEvent) => void
  /** Restart backoff (default: kubelet's 10 s doubling to 5 min). */
  backoff?: BackoffOptions
  /** Progress of the image pulls imagePullPolicy asks for before the pod starts. */
  onPull?: (event: PullEvent) => void
  /**
   * Retry a failed image pull with this back-off, as kubelet does (the
   * containers wait in ErrImagePull / ImagePullBackOff; `image-pull` events
   * say so). Default: the first failed pull fails the start.
   */
  imagePullBackoff?: BackoffOptions
  /** Aborts the start: while it pulls or waits for images it throws `image.pull` (EINTR); once the pod exists it returns the pod, for the caller to stop. */
  signal?: AbortSignal
  /**
   * Attach `client` to `container` from its first run on, following its
   * restarts (the foreground terminal of `pod-launch run`). While the client
   * is `active`, the default printer leaves that container's lines to it.
   */
  attach?: { container: string; client: AttachClient }
  /** Listen on `<pod dir>/attach/<container>.sock` for `pod-launch attach` (the supervisor). */
  attachSockets?: boolean
}

/** What a new engine takes over: the pod's record and what its host holds. */
export interface AdoptedPod extends AdoptedSandbox {
  phase: PodPhase
  initContainerStatuses: ContainerRecord[]
  containerStatuses: ContainerRecord[]
  /** The host's current run of each container (running, or exited meanwhile). */
  held: Map<string, { run: number; process: HostedProcess; running: boolean }>
  /** A stop that was under way when the last engine died. */
  stopping?: { gracePeriodSeconds?: number; force?: boolean }
}

export interface PodResult {
  name: string
  uid: string
  phase: PodPhase
  /** Why the pod ended Failed when no container says it (pause died). */
  reason?: string
  /** The first failing container's exit code (in the order they failed for good), else 0. */
  exitCode: number
  initContainerStatuses: ContainerStatus[]
  containerStatuses: ContainerStatus[]
}

let quietEpipe = false
/** Print a container line as `[name] line` on our stdout or stderr. A closed reader (`| head`) is not an error. */
export function printLine({ container, stream, line }: OutputLine, eol = '\n'): void {
  if (!quietEpipe) {
    quietEpipe = true
    for (const s of [process.stdout, process.stderr]) {
      s.on('error', e => {
        if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e
      })
    }
  }
  ;(stream === 'stderr' ? process.stderr : process.stdout).write(`[${container}] ${line}${eol}`)
}
