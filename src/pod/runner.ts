// One container's life: start (spawn + postStart), wait, capture logs and the
// termination message, restart under the pod's policy with kubelet's backoff,
// stop (preStop, SIGTERM, SIGKILL after the grace period).
import { closeSync, readFileSync } from 'node:fs'
import { PodError } from '../errors.js'
import type { PodCgroups } from '../cgroups/index.js'
import type { ContainerSpec, PodSpec, RuntimeFacts } from '../spec/index.js'
import { native, type NsType } from '../spawn/native.js'
import { spawnProcess, type ChildProcessHandle } from '../spawn/process.js'
import { Backoff, type BackoffOptions } from './backoff.js'
import { containerEnv, containerIdentity, containerPlan, runConfig, type RunConfig } from './container.js'
import { execInContainer } from './exec.js'
import { namespaceInodes } from './namespaces.js'
import { isSidecar } from './ordering.js'
import { CriLogFile, parseCriLog, readPipe, type OutputLine, type PipeReader, type Stream } from './logs.js'
import { rootfsMounts, type EtcFiles, type ImageSource, type RootSource } from '../rootfs/index.js'
import type { PodDir } from './poddir.js'
import type { ContainerSeccomp } from '../seccomp/index.js'
import { exitReason, type ContainerStatus, type Terminated } from './status.js'

export type RunnerEvent =
  | { type: 'container-started'; container: string; pid: number; restartCount: number }
  | { type: 'container-exited'; container: string; pid?: number; exitCode: number; signal: NodeJS.Signals | null; reason: string; restartCount: number }
  | { type: 'container-restarting'; container: string; delayMs: number; restartCount: number }
  | { type: 'hook-failed'; container: string; hook: 'postStart' | 'preStop'; message: string }
  | { type: 'container-failed-to-start'; container: string; error: PodError }

export interface RunnerContext {
  pod: PodSpec
  dir: PodDir
  shared: Map<NsType, number>
  devNull: number
  facts: RuntimeFacts
  backoff: BackoffOptions
  emit: (e: RunnerEvent) => void
  onLine: (l: OutputLine) => void
  /** Where `[name] line` output goes, for backpressure (undefined: the caller consumes lines). */
  terminal?: Record<Stream, NodeJS.WritableStream>
  warn: (m: string) => void
  dieWithParent: boolean
  cgroups: PodCgroups
  etc: EtcFiles
  /** Host path of each volume, by name. */
  volumes: Map<string, string>
  /** Where each container's root comes from (resolved once at pod start). */
  images: Map<string, ImageSource>
  /** Each container's seccomp profile and filter, compiled once per pod. */
  seccomp: Map<string, ContainerSeccomp>
}

/** kubelet's MaxContainerTerminationMessageLength, MaxContainerTerminationMessageLogLines and ...LogLength. */
const TERMINATION_MESSAGE_MAX = 4096
/** kubelet's minimumGracePeriodInSeconds: a sidecar whose turn to stop comes late still gets this long after its SIGTERM. */
export const MIN_STOP_WINDOW_MS = 2000

/**
 * Decides when a run counts as started (the startupProbe's seam): called
 * once the process runs, with its pid and a signal aborted when that run
 * ends. Resolve when the container has started; reject (or never settle) if
 * it has not: the caller of the gate kills the container when it gives up.
 */
export type StartedGate = (run: { pid: number; signal: AbortSignal }) => Promise<void>
const TERMINATION_LOG_LINES = 80
const TERMINATION_LOG_BYTES = 2048

/** The last `max` bytes of a file ('' when it cannot be read), as kubelet's tail.ReadAtMost. */
function readTail(file: string, max: number): string {
  try {
    const buf = readFileSync(file)
    return buf.subarray(Math.max(0, buf.length - max)).toString('utf8')
  } catch {
    return ''
  }
}

/**
 * The tail of a CRI log as kubelet's ReadLogs gives it: the last `lines`
 * records, each partial (P) one joined to the next, full (F) ones ending in a
 * newline; of that, the last `bytes` bytes (a circular buffer).
 */
export function logTail(logPath: string, lines: number, bytes: number): string {
  let text: Buffer
  try {
    text = readFileSync(logPath)
  } catch {
    return ''
  }
  const records = parseCriLog(text).slice(-lines)
  const out = Buffer.concat(records.flatMap(r => (r.full ? [r.content, Buffer.from('\n')] : [r.content])))
  return out.subarray(Math.max(0, out.length - bytes)).toString('utf8')
}

export class ContainerRunner {
  readonly status: ContainerStatus
  /** Namespace inodes of the current (or last) run's main process. */
  namespaces?: Record<NsType, number>
  private current?: { process: ChildProcessHandle; startedAt: Date }
  private readonly backoff: Backoff
  private stopping = false
  private wakeUp?: () => void
  /** The earliest SIGKILL time any stop asked for, and its timer. */
  private killDeadline = Infinity
  private killTimer?: NodeJS.Timeout
  /** An init container with restartPolicy Always: restarts whenever it exits; the next container starts once it has started. */
  readonly sidecar: boolean
  /**
   * When set, a run is started (status `started`, and for a sidecar the go-ahead
   * to the next container) only once this resolves; unset, a running container
   * is started, as kubelet says of one without a startupProbe.
   */
  startedGate?: StartedGate

  constructor(
    private readonly ctx: RunnerContext,
    readonly spec: ContainerSpec,
    init: boolean,
  ) {
    this.sidecar = init && isSidecar(spec)
    this.status = { name: spec.name, init, ...(this.sidecar && { sidecar: true }), state: { waiting: { reason: init ? 'PodInitializing' : 'ContainerCreating' } }, restartCount: 0, started: false, ready: false }
    this.backoff = new Backoff(ctx.backoff)
  }

  /** What the current run executes (argv, env, workingDir, image user). */
  private runCfg?: RunConfig

  get env(): Map<string, string> {
    return this.runCfg?.env ?? containerEnv(this.ctx.pod, this.spec, this.ctx.facts, this.ctx.images.get(this.spec.name))
  }

  /**
   * Run until the container ends for good: `restart(t)` decides after each
   * exit (the pod's restartPolicy). `onStarted` fires once: for a container,
   * after the first start attempt (started or failed) and its postStart; for
   * a sidecar, when a run has started (postStart done, startedGate passed),
   * however many restarts that takes. Resolves with the last termination.
   */
  async run(restart: (t: Terminated) => boolean, onStarted: () => void = () => {}): Promise<Terminated> {
    let fired = false
    const once = () => {
      if (!fired) (fired = true), onStarted()
    }
    for (;;) {
      const t = await this.runOnce(once)
      if (this.stopping || !restart(t)) return t
      const ranFor = t.startedAt ? t.finishedAt.getTime() - t.startedAt.getTime() : 0
      const delayMs = this.backoff.next(ranFor)
      this.status.lastState = { terminated: t }
      this.status.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${delayMs}ms restarting failed container=${this.spec.name}` } }
      this.ctx.emit({ type: 'container-restarting', container: this.spec.name, delayMs, restartCount: this.status.restartCount + 1 })
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, delayMs)
        this.wakeUp = () => (clearTimeout(timer), resolve())
      })
      this.wakeUp = undefined
      if (this.stopping) return t
      this.status.restartCount++
    }
  }

  /** One start-to-exit run. A start failure is a ContainerCannotRun termination (exit 128). */
  private async runOnce(onStarted: () => void): Promise<Terminated> {
    const { ctx, spec } = this
    const log = new CriLogFile(ctx.dir.logFile(spec.name, this.status.restartCount))
    this.status.logPath = log.path
    const { pipe } = native()
    const out = pipe()
    const err = pipe()
    const readers: PipeReader[] = (
      [
        ['stdout', out[0]],
        ['stderr', err[0]],
      ] as [Stream, number][]
    ).map(([stream, fd]) => readPipe(fd, stream, log, line => ctx.onLine({ container: spec.name, stream, line }), ctx.terminal?.[stream] as never))
    const termination = this.terminationTarget()
    let process: ChildProcessHandle | undefined
    let failure: unknown
    try {
      const run = (this.runCfg = runConfig(ctx.pod, spec, ctx.facts, ctx.images.get(spec.name)))
      const mounts = rootfsMounts({
        root: ctx.dir.rootfs(spec.name),
        source: this.rootSource(),
        shmDir: ctx.pod.hostIPC ? '/dev/shm' : ctx.dir.shm,
        ownIpc: !ctx.pod.hostIPC,
        etc: ctx.etc,
        terminationLog: termination,
        volumes: { mounts: spec.volumeMounts, sources: ctx.volumes },
        workingDir: run.workingDir,
        readOnlyRoot: spec.securityContext.readOnlyRootFilesystem,
        privileged: spec.securityContext.privileged,
      })
      process = await spawnProcess(
        { ...containerPlan(ctx.pod, spec, { shared: ctx.shared, stdio: [ctx.devNull, out[1], err[1]], mounts, run, seccomp: ctx.seccomp.get(spec.name)?.filter?.bpf }), dieWithParent: ctx.dieWithParent, cgroupFd: ctx.cgroups.cgroupFd(spec.name) },
        { beforeGo: pid => ctx.cgroups.enter(pid, spec.name) },
      )
    } catch (e) {
      failure = e
    }
    closeSync(out[1]) // the child holds its own copies now
    closeSync(err[1])
    if (!process) {
      const error = failure instanceof PodError ? failure : PodError.system('spawn.clone', failure, spec.name)
      error.container ??= spec.name
      ctx.emit({ type: 'container-failed-to-start', container: spec.name, error })
      const t: Terminated = { exitCode: 128, signal: null, reason: 'ContainerCannotRun', message: error.message, finishedAt: new Date() }
      this.status.state = { terminated: t }
      if (!this.sidecar) onStarted()
      await this.closeRun(readers, log)
      return t
    }
    const startedAt = new Date()
    this.current = { process, startedAt }
    this.status.pid = process.pid
    this.status.state = { running: { startedAt } }
    const ended = new AbortController()
    void process.exited.then(() => ended.abort())
    const started = this.gate(process.pid, ended.signal)
    try {
      this.namespaces = namespaceInodes(process.pid)
    } catch {
      // exited already: a zombie has no ns files
    }
    // Stopped while we were starting it: it must not outlive the pod.
    if (this.stopping) process.kill('SIGKILL')
    ctx.emit({ type: 'container-started', container: spec.name, pid: process.pid, restartCount: this.status.restartCount })
    const hookOk = spec.lifecycle.postStart && !this.stopping ? await this.postStart(process) : true
    // kubelet starts the next container once this one's start (postStart included) returns;
    // after a sidecar, once it has also started (its startupProbe passed).
    if (!this.sidecar) onStarted()
    else if (hookOk) void started.then(ok => ok && onStarted())
    const exit = await process.exited
    this.current = undefined
    this.status.started = false
    await this.closeRun(readers, log)
    // The kernel's OOM killer sends SIGKILL; only the cgroup's count tells it from an ordinary kill.
    // Only a memory limit makes an OOM kill ours to report; without one, skip the kernel's short delay.
    const oom = exit.signal === 'SIGKILL' && spec.resources.limits.memoryBytes !== undefined && (await ctx.cgroups.oomKilledAfterExit(spec.name))
    // Whatever the container left in its cgroup (daemons in a shared pid namespace) goes with it.
    await ctx.cgroups.killAll(spec.name)
    const t: Terminated = {
      exitCode: exit.exitCode,
      signal: exit.signal,
      reason: oom ? 'OOMKilled' : exitReason(exit.exitCode),
      message: this.terminationMessage(termination?.source, exit.exitCode, log.path),
      startedAt,
      finishedAt: new Date(),
    }
    this.status.state = { terminated: t }
    this.status.ready = this.status.init && !this.sidecar && t.exitCode === 0
    ctx.emit({ type: 'container-exited', container: spec.name, pid: process.pid, exitCode: t.exitCode, signal: t.signal, reason: t.reason, restartCount: this.status.restartCount })
    return t
  }

  /**
   * Whether this run started: at once without a startedGate, else when the
   * gate resolves while the run lasts. Sets `started` and `ready` then.
   */
  private gate(pid: number, ended: AbortSignal): Promise<boolean> {
    const mark = () => {
      if (ended.aborted) return false
      this.status.started = true
      // A plain init container is ready only once it has exited 0.
      this.status.ready = !this.status.init || this.sidecar
      return true
    }
    if (!this.startedGate) return Promise.resolve(mark())
    const gone = new Promise<boolean>(resolve => ended.addEventListener('abort', () => resolve(false), { once: true }))
    const passed = this.startedGate({ pid, signal: ended }).then(
      () => mark(),
      () => false,
    )
    return Promise.race([passed, gone])
  }

  /** A failing postStart kills the container, as kubelet does (FailedPostStartHook). */
  private async postStart(process: ChildProcessHandle): Promise<boolean> {
    const r = await this.exec(this.spec.lifecycle.postStart!.command, 2 ** 31 - 1).catch((e: Error) => ({ exitCode: -1, output: e.message, timedOut: false }))
    if (r.exitCode === 0) return true
    this.ctx.emit({ type: 'hook-failed', container: this.spec.name, hook: 'postStart', message: `exit ${r.exitCode}: ${r.output.trim()}` })
    process.kill('SIGKILL')
    return false
  }

  /** Run a command in this container's namespaces (hooks). */
  exec(argv: string[], timeoutMs: number) {
    const pid = this.current?.process.pid
    if (pid === undefined) return Promise.reject(new PodError(`exec: container ${this.spec.name}: not running`, { step: 'exec' }))
    const cgroups = this.ctx.cgroups
    const name = this.spec.name
    const run = this.runCfg!
    return execInContainer({ pid, shared: this.ctx.shared, env: run.env, workingDir: run.workingDir, devNull: this.ctx.devNull, enter: p => cgroups.enter(p, name, { exec: true }), identity: { ...containerIdentity(this.spec, run.user), seccomp: this.ctx.seccomp.get(name)?.filter?.bpf } }, argv, timeoutMs)
  }

  /** Output pipes close when the last holder exits; give stragglers a moment (shared pid ns), then drop them. */
  private async closeRun(readers: PipeReader[], log: CriLogFile): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([Promise.all(readers.map(r => r.done)), new Promise(r => (timer = setTimeout(r, 2000)))])
    clearTimeout(timer)
    readers.forEach(r => r.destroy())
    await log.end()
  }

  /** terminationMessagePath: a fresh file in the pod dir, bound at that path in the container. */
  private terminationTarget(): { source: string; target: string } {
    return { source: this.ctx.dir.terminationLog(this.spec.name), target: this.spec.terminationMessagePath }
  }

  /** The root of this run: the host view, or a fresh upper layer over the image's. */
  private rootSource(): RootSource {
    const image = this.ctx.images.get(this.spec.name)!
    if (image.kind === 'host') return image
    const { upper, work } = this.ctx.dir.freshLayer(this.spec.name)
    return { kind: 'overlay', lower: image.layers, upper, work }
  }

  /**
   * The terminated state's message, as kubelet reads it: the last 4096 bytes
   * of the termination-log; with FallbackToLogsOnError, when that is empty and
   * the container failed, the tail of its log (last 80 lines, last 2048 bytes).
   */
  private terminationMessage(file: string | undefined, exitCode: number, logPath: string): string | undefined {
    let msg = file ? readTail(file, TERMINATION_MESSAGE_MAX) : ''
    if (!msg && exitCode !== 0 && this.spec.terminationMessagePolicy === 'FallbackToLogsOnError') msg = logTail(logPath, TERMINATION_LOG_LINES, TERMINATION_LOG_BYTES)
    return msg || undefined
  }

  /**
   * Stop: no more restarts; when running, preStop (within the grace period),
   * then SIGTERM, and SIGKILL when the grace period is over. `turn` (a
   * sidecar's) holds the SIGTERM back until the containers it serves have
   * exited, as kubelet's termination ordering does; one whose turn comes
   * late still gets MIN_STOP_WINDOW_MS. `graceMs` 0 kills at once; a second
   * stop with a shorter grace (a second Ctrl-C) only brings SIGKILL forward.
   */
  async stop(graceMs: number, turn?: Promise<unknown>): Promise<void> {
    const first = !this.stopping
    this.stopping = true
    this.wakeUp?.()
    const cur = this.current
    if (!cur) return
    const deadline = Date.now() + graceMs
    if (!first) {
      if (deadline < this.killDeadline) this.killAt(deadline, cur.process)
      return cur.process.exited.then(() => {})
    }
    const ordered = graceMs > 0 && turn !== undefined
    // An ordered stop arms its SIGKILL when its turn comes; until then only a later, shorter stop arms one.
    if (ordered) this.killDeadline = deadline
    else this.killAt(deadline, cur.process)
    let gone = false
    const exited = cur.process.exited.then(() => void (gone = true))
    try {
      if (graceMs > 0 && this.spec.lifecycle.preStop) {
        const r = await this.exec(this.spec.lifecycle.preStop.command, graceMs).catch((e: Error) => ({ exitCode: -1, output: e.message, timedOut: false }))
        if (r.exitCode !== 0) this.ctx.emit({ type: 'hook-failed', container: this.spec.name, hook: 'preStop', message: `exit ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}: ${r.output.trim()}` })
      }
      if (ordered && !gone) {
        let timer: NodeJS.Timeout | undefined
        await Promise.race([turn, exited, new Promise(r => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))))])
        clearTimeout(timer)
        // Its turn (or the deadline) came: at least kubelet's minimum window between SIGTERM and SIGKILL.
        if (!this.killTimer) this.killAt(Math.max(deadline, Date.now() + MIN_STOP_WINDOW_MS), cur.process)
      }
      if (graceMs > 0 && !gone && Date.now() < this.killDeadline) cur.process.kill('SIGTERM')
      await exited
    } finally {
      clearTimeout(this.killTimer)
    }
  }

  /** (Re)arm the SIGKILL of the current process at `at` (ms since the epoch). */
  private killAt(at: number, process: ChildProcessHandle): void {
    clearTimeout(this.killTimer)
    this.killDeadline = at
    this.killTimer = setTimeout(() => process.kill('SIGKILL'), Math.max(0, at - Date.now()))
  }
}
