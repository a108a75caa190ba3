// The direct ProcessHost: pause and the containers are children of this Node
// process, cloned by the addon (spawn/process.ts); their output is read in
// libuv into the CRI log (logs.ts) and handed to the caller line by line (the
// foreground terminal). The foreground `run` and the library use it: no extra
// process per pod, and the fastest start.
import type { PodCgroups } from '../cgroups/index.js'
import { PodError } from '../errors.js'
import { bindPlan, spawnProcess, type ChildProcessHandle } from '../spawn/index.js'
import { CriLogFile, type PipeReader, type Stream } from './logs.js'
import type { HostedProcess, ProcessExit, ProcessHost, StartRequest } from './process-host.js'
import { RunStdio, type AttachClient, type WindowSize } from './stdio.js'

export interface DirectHostOptions {
  cgroups: PodCgroups
  /** An open /dev/null (pause's stdio, a container's stdin without `stdin: true`). */
  devNull: number
  /** The fd of a `/proc/<pause>/ns/*` path of a plan (the sandbox opened them once pause ran). */
  nsFd: (path: string) => number
  /** SIGKILL the children if this process dies (a crashed foreground run orphans nothing). */
  dieWithParent: boolean
  /** Each line a container prints (besides its log). */
  onLine?: (container: string, stream: Stream, line: string) => void
  /** Where the lines go, for backpressure (undefined: the caller consumes them). */
  terminal?: Record<Stream, NodeJS.WritableStream>
}

/** Output pipes close when the last holder exits; a straggler (a daemon in a shared pid ns) is cut off after this. */
const DRAIN_MS = 2000

class DirectProcess implements HostedProcess {
  readonly exited: Promise<ProcessExit>
  readonly startedAt = new Date()

  constructor(
    private readonly child: ChildProcessHandle,
    private readonly io: RunStdio | undefined,
    finish: (child: ChildProcessHandle) => Promise<ProcessExit>,
    private readonly log?: CriLogFile,
  ) {
    this.exited = finish(child)
  }

  get pid(): number {
    return this.child.pid
  }

  kill(signal: NodeJS.Signals | number): boolean {
    return this.child.kill(signal)
  }

  attach(client: AttachClient): void {
    this.io?.attach(client)
  }

  detach(client: AttachClient): void {
    this.io?.detach(client)
  }

  windowSize(): WindowSize | undefined {
    return this.io?.windowSize()
  }

  reopenLog(): Promise<void> {
    if (!this.log) return Promise.reject(new PodError(`log.open: pid ${this.pid}: this process has no log`, { step: 'log.open', code: 'EINVAL' }))
    return this.log.reopen()
  }
}

export class DirectHost implements ProcessHost {
  readonly kind = 'direct'

  constructor(private readonly opts: DirectHostOptions) {}

  async start(req: StartRequest): Promise<HostedProcess> {
    const { cgroups, devNull, nsFd, dieWithParent } = this.opts
    // Into its cgroups before it execs: clone3 and the child itself place it (PodCgroups.spawnPlacement).
    const { cgroupFd, tasks: cgroupTasks, paths } = cgroups.spawnPlacement(req.cgroup)
    const placement = { cgroupFd, cgroupTasks }
    const spawnOpts = { beforeGo: (pid: number, into: boolean) => cgroups.placed(pid, req.cgroup, into), paths: { cgroupTasks: paths } }
    if (req.io.kind === 'null') {
      const child = await spawnProcess(bindPlan(req.plan, { fdOf: nsFd, stdio: [devNull, devNull, devNull], dieWithParent, ...placement }), spawnOpts)
      return new DirectProcess(child, undefined, c => this.exit(c, req, new Date()))
    }
    // The log file exists from the first attempt on, even when the start fails (kubelet shows it empty).
    const log = new CriLogFile(req.io.logPath)
    let io: RunStdio | undefined
    let child: ChildProcessHandle | undefined
    try {
      io = new RunStdio({ name: req.name, stdin: req.io.stdin, stdinOnce: req.io.stdinOnce, tty: req.io.tty }, devNull, req.io.size)
      child = await spawnProcess(bindPlan(req.plan, { fdOf: nsFd, stdio: io.plan.stdio, tty: io.plan.tty, dieWithParent, ...placement }), spawnOpts)
      io.afterSpawn(true) // the child holds its own copies now; with a tty, take the master
    } catch (e) {
      if (child) {
        child.kill('SIGKILL')
        await child.exited
      }
      io?.afterSpawn(false)
      await log.end()
      throw e instanceof PodError ? e : PodError.system('spawn.clone', e, req.name)
    }
    const { onLine, terminal } = this.opts
    const readers = io.readers(log, (stream, line) => onLine?.(req.name, stream, line), terminal)
    const started = new Date()
    const stdio = io
    return new DirectProcess(
      child,
      io,
      async c => {
        const exit = await this.exit(c, req, started)
        await drain(readers, log)
        stdio.ended(exit.exitCode)
        stdio.close()
        return exit
      },
      log,
    )
  }

  /** The exit, with the OOM verdict from the cgroup's counter. */
  private async exit(child: ChildProcessHandle, req: StartRequest, startedAt: Date): Promise<ProcessExit> {
    const status = await child.exited.catch(() => ({ code: null, signal: 'SIGKILL' as const, exitCode: 137 }))
    const finishedAt = new Date()
    // OOMKilled as containerd reports it: the cgroup counted an OOM kill during this run, whichever process it
    // hit (a child killed, the main process exiting 1 after it, included). The kernel counts a kill just after
    // its SIGKILL: a limited process ended by SIGKILL is waited for briefly; any other exit is looked at once.
    const hit = status.signal === 'SIGKILL' && req.memoryLimited === true
    const oomKilled = await this.opts.cgroups.oomKilledAfterExit(req.cgroup, hit ? 100 : 0)
    return { ...status, startedAt, finishedAt, oomKilled }
  }

  async close(): Promise<void> {}
}

async function drain(readers: PipeReader[], log: CriLogFile): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([Promise.all(readers.map(r => r.done)), new Promise(r => (timer = setTimeout(r, DRAIN_MS)))])
  clearTimeout(timer)
  readers.forEach(r => r.destroy())
  await log.end()
}
