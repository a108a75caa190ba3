// One container's life: start (spawn + postStart), wait, capture logs and the
// termination message, restart under the pod's policy with kubelet's backoff,
// stop (preStop, SIGTERM, SIGKILL after the grace period).
import { readFileSync } from 'node:fs'
import { PodError } from '../errors.js'
import type { PodCgroups } from '../cgroups/index.js'
import type { ContainerSpec, PodSpec, RuntimeFacts } from '../spec/index.js'
import type { NsType } from '../spawn/native.js'
import { spawnProcess, type ChildProcessHandle } from '../spawn/process.js'
import { Backoff, type BackoffOptions } from './backoff.js'
import { containerEnv, containerIdentity, containerPlan, runConfig, type RunConfig } from './container.js'
import { execInContainer } from './exec.js'
import { namespaceInodes } from './namespaces.js'
import { CriLogFile, type OutputLine, type PipeReader, type Stream } from './logs.js'
import { RunStdio, type AttachClient, type WindowSize } from './stdio.js'
import { rootfsMounts, type EtcFiles, type ImageSource, type RootSource } from '../rootfs/index.js'
import type { PodDir } from './poddir.js'
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
}

const TERMINATION_MESSAGE_MAX = 4096

export class ContainerRunner {
  readonly status: ContainerStatus
  /** Namespace inodes of the current (or last) run's main process. */
  namespaces?: Record<NsType, number>
  private current?: { process: ChildProcessHandle; startedAt: Date; io: RunStdio }
  /** Attach clients; `true`: follows the container into its next runs (the foreground terminal). */
  private readonly clients = new Map<AttachClient, boolean>()
  private readonly backoff: Backoff
  private stopping = false
  private wakeUp?: () => void

  constructor(
    private readonly ctx: RunnerContext,
    readonly spec: ContainerSpec,
    init: boolean,
  ) {
    this.status = { name: spec.name, init, state: { waiting: { reason: init ? 'PodInitializing' : 'ContainerCreating' } }, restartCount: 0, started: false }
    this.backoff = new Backoff(ctx.backoff)
  }

  /** What the current run executes (argv, env, workingDir, image user). */
  private runCfg?: RunConfig

  get env(): Map<string, string> {
    return this.runCfg?.env ?? containerEnv(this.ctx.pod, this.spec, this.ctx.facts, this.ctx.images.get(this.spec.name))
  }

  /**
   * Run until the container ends for good: `restart(t)` decides after each
   * exit (the pod's restartPolicy). `onStarted` fires after the first start
   * attempt (started or failed). Resolves with the last termination.
   */
  async run(restart: (t: Terminated) => boolean, onStarted: () => void = () => {}): Promise<Terminated> {
    for (;;) {
      const t = await this.runOnce(onStarted)
      onStarted = () => {}
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
    const termination = this.terminationTarget()
    let process: ChildProcessHandle | undefined
    let failure: unknown
    let io: RunStdio | undefined
    try {
      io = new RunStdio(spec, ctx.devNull, this.initialSize())
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
        { ...containerPlan(ctx.pod, spec, { shared: ctx.shared, stdio: io.plan.stdio, mounts, run }), tty: io.plan.tty, dieWithParent: ctx.dieWithParent, cgroupFd: ctx.cgroups.cgroupFd(spec.name) },
        { beforeGo: pid => ctx.cgroups.enter(pid, spec.name) },
      )
    } catch (e) {
      failure = e
    }
    try {
      io?.afterSpawn(!!process) // the child holds its own copies now
    } catch (e) {
      failure = e
      process?.kill('SIGKILL')
      await process?.exited
      process = undefined
      io!.close()
    }
    const readers: PipeReader[] = process && io ? io.readers(log, (stream, line) => ctx.onLine({ container: spec.name, stream, line }), ctx.terminal) : []
    if (!process) {
      const error = failure instanceof PodError ? failure : PodError.system('spawn.clone', failure, spec.name)
      error.container ??= spec.name
      ctx.emit({ type: 'container-failed-to-start', container: spec.name, error })
      const t: Terminated = { exitCode: 128, signal: null, reason: 'ContainerCannotRun', message: error.message, finishedAt: new Date() }
      this.status.state = { terminated: t }
      onStarted()
      await this.closeRun(readers, log)
      return t
    }
    const startedAt = new Date()
    this.current = { process, startedAt, io: io! }
    for (const client of this.clients.keys()) io!.attach(client)
    this.status.pid = process.pid
    this.status.state = { running: { startedAt } }
    this.status.started = true
    try {
      this.namespaces = namespaceInodes(process.pid)
    } catch {
      // exited already: a zombie has no ns files
    }
    // Stopped while we were starting it: it must not outlive the pod.
    if (this.stopping) process.kill('SIGKILL')
    ctx.emit({ type: 'container-started', container: spec.name, pid: process.pid, restartCount: this.status.restartCount })
    if (spec.lifecycle.postStart && !this.stopping) await this.postStart(process)
    onStarted()
    const exit = await process.exited
    this.current = undefined
    await this.closeRun(readers, log)
    io!.ended(exit.exitCode)
    io!.close()
    for (const [client, follow] of this.clients) if (!follow) this.clients.delete(client)
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
    ctx.emit({ type: 'container-exited', container: spec.name, pid: process.pid, exitCode: t.exitCode, signal: t.signal, reason: t.reason, restartCount: this.status.restartCount })
    return t
  }

  /**
   * Attach a client to the running container (`follow`: also to every later
   * run, before it starts, so the first output and the window size are
   * its). Throws `attach` when the container is not running and not followed.
   */
  attach(client: AttachClient, follow = false): void {
    if (!follow && !this.current) throw new PodError(`attach: container ${this.spec.name}: not running`, { step: 'attach', code: 'ESRCH', hint: 'pod-launch ps shows its state' })
    this.clients.set(client, follow)
    this.current?.io.attach(client)
  }

  detach(client: AttachClient): void {
    this.clients.delete(client)
    this.current?.io.detach(client)
  }

  /** The current run's terminal size (tty containers), for tests and status. */
  windowSize(): WindowSize | undefined {
    return this.current?.io.windowSize()
  }

  /** The size a new tty starts with: the first attached client's that knows one. */
  private initialSize(): WindowSize | undefined {
    for (const c of this.clients.keys()) {
      const size = c.size?.()
      if (size) return size
    }
    return undefined
  }

  /** A failing postStart kills the container, as kubelet does (FailedPostStartHook). */
  private async postStart(process: ChildProcessHandle): Promise<void> {
    const r = await this.exec(this.spec.lifecycle.postStart!.command, 2 ** 31 - 1).catch((e: Error) => ({ exitCode: -1, output: e.message, timedOut: false }))
    if (r.exitCode === 0) return
    this.ctx.emit({ type: 'hook-failed', container: this.spec.name, hook: 'postStart', message: `exit ${r.exitCode}: ${r.output.trim()}` })
    process.kill('SIGKILL')
  }

  /** Run a command in this container's namespaces (hooks). */
  exec(argv: string[], timeoutMs: number) {
    const pid = this.current?.process.pid
    if (pid === undefined) return Promise.reject(new PodError(`exec: container ${this.spec.name}: not running`, { step: 'exec' }))
    const cgroups = this.ctx.cgroups
    const name = this.spec.name
    const run = this.runCfg!
    return execInContainer({ pid, shared: this.ctx.shared, env: run.env, workingDir: run.workingDir, devNull: this.ctx.devNull, enter: p => cgroups.enter(p, name, { exec: true }), identity: containerIdentity(this.spec, run.user) }, argv, timeoutMs)
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

  private terminationMessage(file: string | undefined, exitCode: number, logPath: string): string | undefined {
    let msg = ''
    if (file) {
      try {
        msg = readFileSync(file, 'utf8').slice(0, TERMINATION_MESSAGE_MAX)
      } catch {
        msg = ''
      }
    }
    if (!msg && exitCode !== 0 && this.spec.terminationMessagePolicy === 'FallbackToLogsOnError') {
      // kubelet: the last 80 lines, at most 2048 bytes, of the container's log.
      try {
        const lines = readFileSync(logPath, 'utf8').split('\n').filter(Boolean).slice(-80).map(l => l.split(' ').slice(3).join(' '))
        msg = lines.join('\n').slice(-2048)
      } catch {
        msg = ''
      }
    }
    return msg || undefined
  }

  /**
   * Stop: no more restarts; when running, preStop (within the grace period),
   * SIGTERM, then SIGKILL when the grace period is over. `graceMs` 0 kills at once.
   */
  async stop(graceMs: number): Promise<void> {
    const first = !this.stopping
    this.stopping = true
    this.wakeUp?.()
    const cur = this.current
    if (!cur) return
    const deadline = Date.now() + graceMs
    // A second stop with a shorter grace (a second Ctrl-C) only brings the SIGKILL forward.
    const killer = setTimeout(() => cur.process.kill('SIGKILL'), graceMs)
    try {
      if (first && graceMs > 0 && this.spec.lifecycle.preStop) {
        const r = await this.exec(this.spec.lifecycle.preStop.command, graceMs).catch((e: Error) => ({ exitCode: -1, output: e.message, timedOut: false }))
        if (r.exitCode !== 0) this.ctx.emit({ type: 'hook-failed', container: this.spec.name, hook: 'preStop', message: `exit ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}: ${r.output.trim()}` })
      }
      if (first && graceMs > 0 && Date.now() < deadline) cur.process.kill('SIGTERM')
      await cur.process.exited
    } finally {
      clearTimeout(killer)
    }
  }
}
