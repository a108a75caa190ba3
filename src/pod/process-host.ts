// The process-host seam: who is the parent of a pod's pause and containers.
// The lifecycle engine (Pod, ContainerRunner) and the CRI server start every
// long-lived process of a pod through a ProcessHost, from the process's stored
// plan (plan.ts), into its cgroup, with an io mode; they get a handle back
// {pid, exited, kill, attach}. Two hosts implement it:
// - DirectHost (direct-host.ts): the processes are children of this Node
//   process through the addon (foreground `run`, the library);
// - the pod's shim (src/shim/): a small C process that is the parent of pause
//   and the containers, holds their stdio, writes their CRI logs and records
//   their exits, so the pod outlives any Node process (detached pods, CRI).
// Short-lived processes run inside a container (exec, hooks, exec probes)
// stay direct children of whoever asked (exec.ts): their output and timeout
// belong to the asker.
import type { Who } from '../cgroups/index.js'
import type { ExitStatus, SpawnPlan } from '../spawn/index.js'
import type { AttachClient, WindowSize } from './stdio.js'

/** How a process is wired: /dev/null on 0-2 (pause), or a container's CRI log with stdin and tty as its spec asks. */
export type ProcessIo =
  | { kind: 'null' }
  | {
      kind: 'log'
      /** The CRI log file of this run (stdout and stderr, `<RFC3339Nano> <stream> <F|P> <line>`); appended to. */
      logPath: string
      /** stdin is an open pipe (else /dev/null). */
      stdin: boolean
      /** The first attach session's end closes stdin. */
      stdinOnce: boolean
      /** A pseudo-terminal made in the container's devpts is its 0-2. */
      tty: boolean
      /** The terminal's first size (0 0 or undefined: unset). */
      size?: WindowSize
    }

export interface StartRequest {
  /** The process: pause or a container (who, for messages and events). */
  name: string
  /** Its stored plan; `/proc/<pause>/ns/*` in it name the pod's pause (started first by the same host). */
  plan: SpawnPlan
  /** Which run of the container this is (its restart count; 0 for pause). */
  run?: number
  /** The cgroup it is born in: `pause` or the container's name. */
  cgroup: Who
  io: ProcessIo
  /**
   * The container has a memory limit: a SIGKILL that ends it may be the
   * OOM killer's, counted by the kernel just after it (the host waits
   * briefly for the count). Any run whose cgroup counted an OOM kill is
   * oomKilled, whatever its exit (containerd).
   */
  memoryLimited?: boolean
}

/** An exit as the host saw it. */
export interface ProcessExit extends ExitStatus {
  startedAt: Date
  finishedAt: Date
  /** The kernel's OOM killer ended this run (the cgroup's oom_kill counter grew while it ran). */
  oomKilled: boolean
  /** The host lost the process rather than saw it exit (the pod's shim died): why. */
  lost?: string
}

/** A process the host started: pause or one run of a container. */
export interface HostedProcess {
  readonly pid: number
  readonly startedAt: Date
  /**
   * Resolves once the process has exited and its output is in the log (a
   * straggler holding the pipes in a shared pid namespace is cut off after
   * a short wait). Never rejects.
   */
  readonly exited: Promise<ProcessExit>
  /** Send a signal; false once it has exited. */
  kill(signal: NodeJS.Signals | number): boolean
  /** Attach a client to this run (io `log`): output from now on, input and resizes; `client.ended` when it ends. */
  attach(client: AttachClient): void
  detach(client: AttachClient): void
  /** The tty's window size (io `log` with tty). */
  windowSize(): WindowSize | undefined
  /** CRI ReopenContainerLog (io `log`): close the log file and open its path again, after kubelet renamed it. Throws `log.open`. */
  reopenLog(): Promise<void>
}

/** The parent of a pod's pause and containers. */
export interface ProcessHost {
  /** `direct` (children of this process) or `shim` (children of the pod's shim). */
  readonly kind: 'direct' | 'shim'
  /**
   * Start a process: clone, place in its cgroup, run the plan, exec. Resolves
   * once it has exec'd. Throws PodError `spawn.*`, `child.*` (the step that
   * failed in the child), `tty.*`, `shim.*`, with nothing left behind.
   */
  start(req: StartRequest): Promise<HostedProcess>
  /** Release what the host holds (after every process has exited). */
  close(): Promise<void>
}
