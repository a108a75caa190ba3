// One container's life: start (spawn + postStart), wait, capture logs and the
// termination message, restart under the pod's policy with kubelet's backoff,
// stop (preStop, the stop signal, SIGKILL after the grace period).
import { readFileSync } from 'node:fs'
import { PodError } from '../errors.js'
import { crashPoint } from '../crash-point.js'
import { signalNumber, type ContainerSpec, type PodSpec } from '../spec/index.js'
import type { NsType } from '../spawn/index.js'
import { Backoff, type BackoffOptions } from './backoff.js'
import { planExec, stopSignalOf, terminationLogOf, type SpawnPlan } from './plan.js'
import { execInContainer } from './exec.js'
import { namespaceInodes } from './namespaces.js'
import { isSidecar } from './ordering.js'
import { parseCriLog } from './logs.js'
import type { AttachClient, WindowSize } from './stdio.js'
import type { PodDir } from './poddir.js'
import type { HostedProcess } from './process-host.js'
import type { PodSandbox, SandboxContainer } from './sandbox.js'
import { ContainerProbes, probeFailedMessage, probeKillMessage } from './probes.js'
import type { ProbeTarget } from './probe-kinds.js'
import type { Probe, ProbeKind } from '../spec/index.js'
import { exitReason, type ContainerRecord, type ContainerStatus, type Stored, type Terminated } from '../state/index.js'

export type RunnerEvent =
  | { type: 'container-started'; container: string; pid: number; restartCount: number }
  | { type: 'container-exited'; container: string; pid?: number; exitCode: number; signal: NodeJS.Signals | null; reason: string; restartCount: number }
  | { type: 'container-restarting'; container: string; delayMs: number; restartCount: number }
  | { type: 'hook-failed'; container: string; hook: 'postStart' | 'preStop'; message: string }
  | { type: 'container-failed-to-start'; container: string; error: PodError }
  /** `started` (running, startupProbe passed) or `ready` (readinessProbe) changed. */
  | { type: 'container-condition'; container: string; started: boolean; ready: boolean }
  /** One failed probe attempt (kubelet's Warning `Unhealthy`): `Liveness probe failed: ...`. */
  | { type: 'probe-failed'; container: string; probe: ProbeKind; message: string }
  /** A failed liveness or startup probe kills the container (kubelet's `Killing`). */
  | { type: 'container-killing'; container: string; reason: 'LivenessProbe' | 'StartupProbe'; message: string }

export interface RunnerContext {
  pod: PodSpec
  dir: PodDir
  /** The sandbox the container runs in: its plan, start, stop and cgroups. */
  sandbox: PodSandbox
  backoff: BackoffOptions
  emit: (e: RunnerEvent) => void
  warn: (m: string) => void
}

/** kubelet's MaxContainerTerminationMessageLength, MaxContainerTerminationMessageLogLines and ...LogLength. */
const TERMINATION_MESSAGE_MAX = 4096
/** kubelet's minimumGracePeriodInSeconds: a sidecar whose turn to stop comes late still gets this long after its SIGTERM. */
export const MIN_STOP_WINDOW_MS = 2000

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
  private current?: { child: HostedProcess; startedAt: Date }
  /** Attach clients; `true`: follows the container into its next runs (the foreground terminal). */
  private readonly clients = new Map<AttachClient, boolean>()
  private readonly backoff: Backoff
  private stopping = false
  /** Its sandbox died: the current run ends without a restart (the pod starts it again in a new one). */
  private interrupted = false
  private wakeUp?: () => void
  /** The earliest SIGKILL time any stop asked for, and its timer. */
  private killDeadline = Infinity
  private killTimer?: NodeJS.Timeout
  /** An init container with restartPolicy Always: restarts whenever it exits; the next container starts once it has started. */
  readonly sidecar: boolean

  constructor(
    private readonly ctx: RunnerContext,
    readonly spec: ContainerSpec,
    init: boolean,
  ) {
    this.sidecar = init && isSidecar(spec)
    this.status = {
      name: spec.name,
      init,
      ...(this.sidecar && { sidecar: true }),
      state: { waiting: { reason: init ? 'PodInitializing' : 'ContainerCreating' } },
      restartCount: 0,
      started: false,
      ready: false,
      stopSignal: stopSignalOf(spec, ctx.sandbox.images.get(spec.name)).signal,
    }
    const image = ctx.sandbox.images.get(spec.name)
    if (image?.kind === 'layers' && image.imageID) this.status.imageID = image.imageID
    this.backoff = new Backoff(ctx.backoff)
  }

  /** The container as created in the sandbox at its first start: its plan runs every restart (pod.json keeps it). */
  private created?: SandboxContainer

  /** The container's plan, once created. */
  get plan(): SpawnPlan | undefined {
    return this.created?.plan
  }

  /** Created once: a failure (no command, runAsNonRoot) is retried by the next start. */
  private createOnce(): SandboxContainer {
    return (this.created ??= this.ctx.sandbox.createContainer(this.spec, this.status.init))
  }

  /**
   * Run until the container ends for good: `restart(t)` decides after each
   * exit (the pod's restartPolicy). `onStarted` fires once: for a container,
   * after the first start attempt (started or failed) and its postStart; for
   * a sidecar, when a run has started (postStart done, startupProbe passed),
   * however many restarts that takes. Resolves with the last termination.
   */
  async run(restart: (t: Terminated) => boolean, onStarted: () => void = () => {}): Promise<Terminated> {
    // A new instance of a container that ran before (in a new sandbox) is a restart, as kubelet counts it;
    // an adopted one (resume) decides on its recorded state in runLoop.
    const s = this.status.state
    if (!this.resume && 'terminated' in s) this.status.lastState = { terminated: s.terminated }
    if (!this.resume && ('terminated' in s || ('waiting' in s && s.waiting.reason === 'CrashLoopBackOff'))) this.status.restartCount++
    let fired = false
    const once = () => {
      if (fired) return
      fired = true
      onStarted()
    }
    try {
      return await this.runLoop(restart, once)
    } finally {
      this.settleStarted(false)
    }
  }

  private async runLoop(restart: (t: Terminated) => boolean, once: () => void): Promise<Terminated> {
    const resume = this.resume
    this.resume = undefined
    // An adopted container: a termination to decide on (it ended while no engine held the pod),
    // a restart that was due, or its running process.
    let t = resume?.ended
    if (t && !this.sidecar) once()
    if (resume?.restartNow) this.status.restartCount++
    let adopted = resume?.process
    for (;;) {
      t ??= await this.runOnce(once, adopted)
      adopted = undefined
      // A probe kill restarts the container unless the policy is Never, whatever its exit code (kubelet).
      const probeRestart = this.probeKill !== undefined && this.ctx.pod.restartPolicy !== 'Never'
      if (this.stopping || this.interrupted || !(restart(t) || probeRestart)) return t
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
      if (this.stopping || this.interrupted) return t
      this.status.restartCount++
      t = undefined
    }
  }

  /** Set by adopt(): where the first round of the run loop starts. */
  private resume?: { ended?: Terminated; restartNow?: boolean; process?: HostedProcess }

  /**
   * Take the container over from its record and the run its host holds (a
   * new engine adopting a pod whose shim kept it): a running process is
   * waited on (and probed) as if started here; an exit that happened
   * meanwhile, or a restart that was due, is decided by the pod's policy
   * when `run` is called, as kubelet does after a restart.
   */
  adopt(rec: ContainerRecord, held?: { run: number; process: HostedProcess; running: boolean }): void {
    const revive = (t: Stored<Terminated>): Terminated => ({
      ...t,
      startedAt: t.startedAt ? new Date(t.startedAt) : undefined,
      finishedAt: new Date(t.finishedAt),
    })
    Object.assign(this.status, {
      restartCount: rec.restartCount,
      started: rec.started,
      ready: rec.ready,
      pid: rec.pid,
      logPath: rec.logPath,
      ...(rec.lastState && { lastState: { terminated: revive(rec.lastState.terminated) } }),
    })
    if (rec.plan) this.created = { spec: this.spec, init: this.status.init, plan: rec.plan }
    this.namespaces = rec.namespaces as Record<NsType, number> | undefined
    const state = rec.state
    if (held && held.run >= rec.restartCount) {
      // Started by the host (perhaps after the record was last written): this run is the current one.
      this.status.restartCount = held.run
      this.status.pid = held.process.pid
      this.status.state = { running: { startedAt: held.process.startedAt } }
      this.resume = { process: held.process }
    } else if ('running' in state) {
      const lost: Terminated = {
        exitCode: 137,
        signal: 'SIGKILL',
        reason: 'Error',
        message: 'its process was gone when the engine took the pod over',
        startedAt: new Date(state.running.startedAt),
        finishedAt: new Date(),
      }
      this.status.state = { terminated: lost }
      this.resume = { ended: lost }
    } else if ('terminated' in state) {
      const ended = revive(state.terminated)
      this.status.state = { terminated: ended }
      this.resume = { ended }
    } else if (state.waiting.reason === 'CrashLoopBackOff') {
      this.status.state = { waiting: { ...state.waiting } }
      this.resume = { restartNow: true }
    }
  }

  /** One start-to-exit run (of `adopted`, when the host already runs it). A start failure is a ContainerCannotRun termination (exit 128). */
  private async runOnce(onStarted: () => void, adopted?: HostedProcess): Promise<Terminated> {
    const { ctx, spec } = this
    this.probeKill = undefined
    this.killing = false
    this.killDeadline = Infinity
    this.killTimer = undefined
    const logPath = ctx.dir.logFile(spec.name, this.status.restartCount)
    this.status.logPath = logPath
    let child: HostedProcess
    try {
      child = adopted ?? (await ctx.sandbox.startContainer(this.createOnce(), { logPath, size: this.initialSize(), run: this.status.restartCount }))
    } catch (failure) {
      const error = failure instanceof PodError ? failure : PodError.system('spawn.clone', failure, spec.name)
      error.container ??= spec.name
      ctx.emit({ type: 'container-failed-to-start', container: spec.name, error })
      const t: Terminated = { exitCode: 128, signal: null, reason: 'ContainerCannotRun', message: error.message, finishedAt: new Date() }
      this.status.state = { terminated: t }
      if (!this.sidecar) onStarted()
      return t
    }
    const startedAt = child.startedAt
    this.current = { child, startedAt }
    for (const client of this.clients.keys()) child.attach(client)
    this.status.pid = child.pid
    this.status.state = { running: { startedAt } }
    try {
      this.namespaces = namespaceInodes(child.pid)
    } catch {
      // exited already: a zombie has no ns files
    }
    // Stopped (or its sandbox lost) while we were starting it: it must not outlive the pod.
    if (this.stopping || this.interrupted) child.kill('SIGKILL')
    if (!adopted) {
      crashPoint('container-started')
      ctx.emit({ type: 'container-started', container: spec.name, pid: child.pid, restartCount: this.status.restartCount })
    }
    const hookOk = spec.lifecycle.postStart && !this.stopping && !adopted ? await this.postStart(child) : true
    // The probes decide `started` (startupProbe) and `ready` (readinessProbe).
    if (!this.stopping && hookOk) this.startProbes(child, startedAt)
    // kubelet starts the next container once this one's start (postStart included) returns;
    // after a sidecar, once it has also started (its startupProbe passed).
    if (!this.sidecar) onStarted()
    else if (hookOk) void this.whenStarted().then(ok => ok && onStarted())
    const exit = await child.exited
    this.probes?.stop()
    this.probes = undefined
    // kubelet: an ended container is neither started nor ready, except a plain init container that completed.
    this.setConditions(false, this.status.init && !this.sidecar && exit.exitCode === 0)
    this.current = undefined
    for (const [client, follow] of this.clients) if (!follow) this.clients.delete(client)
    // Whatever the container left in its cgroup (daemons in a shared pid namespace) goes with it.
    await ctx.sandbox.killLeftovers(spec.name)
    const t: Terminated = {
      exitCode: exit.exitCode,
      signal: exit.signal,
      reason: exit.oomKilled ? 'OOMKilled' : exitReason(exit.exitCode),
      message: this.terminationMessage(terminationLogOf(this.plan, spec, ctx.dir.root), exit.exitCode, logPath) ?? this.probeKill,
      startedAt,
      finishedAt: exit.finishedAt,
    }
    this.status.state = { terminated: t }
    ctx.emit({
      type: 'container-exited',
      container: spec.name,
      pid: child.pid,
      exitCode: t.exitCode,
      signal: t.signal,
      reason: t.reason,
      restartCount: this.status.restartCount,
    })
    return t
  }

  /**
   * Attach a client to the running container (`follow`: also to every later
   * run, before it starts, so the first output and the window size are
   * its). Throws `attach` when the container is not running and not followed.
   */
  attach(client: AttachClient, follow = false): void {
    if (!follow && !this.current)
      throw new PodError(`attach: container ${this.spec.name}: not running`, { step: 'attach', code: 'ESRCH', hint: 'pod-launch ps shows its state' })
    this.clients.set(client, follow)
    this.current?.child.attach(client)
  }

  detach(client: AttachClient): void {
    this.clients.delete(client)
    this.current?.child.detach(client)
  }

  /** The current run's terminal size (tty containers), for tests and status. */
  windowSize(): WindowSize | undefined {
    return this.current?.child.windowSize()
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
  private async postStart(child: HostedProcess): Promise<boolean> {
    const r = await this.exec(this.spec.lifecycle.postStart!.command, 2 ** 31 - 1).catch((e: Error) => ({ exitCode: -1, output: e.message, timedOut: false }))
    if (r.exitCode === 0) return true
    this.ctx.emit({ type: 'hook-failed', container: this.spec.name, hook: 'postStart', message: `exit ${r.exitCode}: ${r.output.trim()}` })
    child.kill('SIGKILL')
    return false
  }

  /** Run a command in this container's namespaces (hooks, exec probes), as its plan says. */
  exec(argv: string[], timeoutMs: number) {
    const pid = this.current?.child.pid
    if (pid === undefined || !this.plan) return Promise.reject(new PodError(`exec: container ${this.spec.name}: not running`, { step: 'exec' }))
    const { cgroups, shared, devNull } = this.ctx.sandbox
    const name = this.spec.name
    return execInContainer({ pid, plan: planExec(this.plan, argv), shared, devNull, enter: p => cgroups.enter(p, name, { exec: true }) }, timeoutMs)
  }

  /**
   * The terminated state's message, as kubelet reads it: the last 4096 bytes
   * of the termination-log; with FallbackToLogsOnError, when that is empty and
   * the container failed, the tail of its log (last 80 lines, last 2048 bytes).
   */
  private terminationMessage(file: string, exitCode: number, logPath: string): string | undefined {
    let msg = readTail(file, TERMINATION_MESSAGE_MAX)
    if (!msg && exitCode !== 0 && this.spec.terminationMessagePolicy === 'FallbackToLogsOnError')
      msg = logTail(logPath, TERMINATION_LOG_LINES, TERMINATION_LOG_BYTES)
    return msg || undefined
  }

  /**
   * Stop: no more restarts; when running, preStop (within the grace period),
   * then the plan's stop signal (SIGTERM unless lifecycle.stopSignal or the
   * image's StopSignal says otherwise), and SIGKILL when the grace period is over. `turn` (a
   * sidecar's) holds the SIGTERM back until the containers it serves have
   * exited, as kubelet's termination ordering does; one whose turn comes
   * late still gets MIN_STOP_WINDOW_MS. `graceMs` 0 kills at once; a second
   * stop with a shorter grace (a second Ctrl-C) only brings SIGKILL forward.
   */
  async stop(graceMs: number, turn?: Promise<unknown>): Promise<void> {
    this.stopping = true
    this.wakeUp?.()
    // A terminating container is probed no more (no kill in the middle of a graceful stop) and takes no traffic.
    this.probes?.stop()
    if (this.current && this.status.ready) this.setConditions(this.status.started, false)
    const cur = this.current
    if (!cur) return
    await this.terminate(cur, graceMs, turn)
  }

  /**
   * Pause died: kill the current run (preStop, stop signal, SIGKILL after
   * `graceMs`, as kubelet kills a pod) and end run() without a restart; the
   * pod starts this container again in its new sandbox.
   */
  async interrupt(graceMs: number): Promise<void> {
    this.interrupted = true
    this.wakeUp?.()
    this.probes?.stop()
    const cur = this.current
    if (cur) await this.terminate(cur, graceMs)
  }

  /** The pod has a new sandbox: the next run starts in it, with a plan of its own (namespaces, env: status.podIP). */
  newSandbox(): void {
    this.interrupted = false
    this.created = undefined
  }

  /** Whether this container has been started (or tried to) in this pod. */
  get hasRun(): boolean {
    return !('waiting' in this.status.state) || this.status.restartCount > 0
  }

  /**
   * preStop (first call of a run only), the stop signal (after `turn`, if given),
   * SIGKILL at the deadline; resolves when the process has exited. Later
   * calls only bring the SIGKILL forward.
   */
  private async terminate(cur: { child: HostedProcess }, graceMs: number, turn?: Promise<unknown>): Promise<void> {
    const first = !this.killing
    this.killing = true
    const deadline = Date.now() + graceMs
    if (!first) {
      if (deadline < this.killDeadline) this.killAt(deadline, cur.child)
      return cur.child.exited.then(() => {})
    }
    const ordered = graceMs > 0 && turn !== undefined
    // An ordered stop arms its SIGKILL when its turn comes; until then only a later, shorter stop arms one.
    if (ordered) this.killDeadline = deadline
    else this.killAt(deadline, cur.child)
    let gone = false
    const exited = cur.child.exited.then(() => void (gone = true))
    try {
      if (graceMs > 0 && this.spec.lifecycle.preStop) {
        const r = await this.exec(this.spec.lifecycle.preStop.command, graceMs).catch((e: Error) => ({ exitCode: -1, output: e.message, timedOut: false }))
        if (r.exitCode !== 0)
          this.ctx.emit({
            type: 'hook-failed',
            container: this.spec.name,
            hook: 'preStop',
            message: `exit ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}: ${r.output.trim()}`,
          })
      }
      if (ordered && !gone) {
        let timer: NodeJS.Timeout | undefined
        await Promise.race([turn, exited, new Promise(r => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))))])
        clearTimeout(timer)
        // Its turn (or the deadline) came: at least kubelet's minimum window between SIGTERM and SIGKILL.
        if (!this.killTimer) this.killAt(Math.max(deadline, Date.now() + MIN_STOP_WINDOW_MS), cur.child)
      }
      // The stop signal the plan carries (lifecycle.stopSignal, the image's StopSignal, SIGTERM).
      if (graceMs > 0 && !gone && Date.now() < this.killDeadline) cur.child.kill(signalNumber(this.plan?.stopSignal ?? '') ?? 'SIGTERM')
      await exited
    } finally {
      clearTimeout(this.killTimer)
    }
  }

  /** (Re)arm the SIGKILL of the current process at `at` (ms since the epoch). */
  private killAt(at: number, child: HostedProcess): void {
    clearTimeout(this.killTimer)
    this.killDeadline = at
    this.killTimer = setTimeout(() => child.kill('SIGKILL'), Math.max(0, at - Date.now()))
  }

  // ---- probes (src/pod/probes.ts): started, ready, kills for failed liveness/startup probes ----
  private probes?: ContainerProbes
  /** Why this run was killed by a probe (the Killing event's message). */
  private probeKill?: string
  /** Set once this run is being terminated (by stop or a probe): preStop runs once. */
  private killing = false
  private startedWaiters: ((started: boolean) => void)[] = []

  /**
   * Resolves true as soon as the container counts as started (running, after
   * postStart, and its startupProbe passed when it has one), false when its
   * runner ends for good before that. For sidecar init containers.
   */
  whenStarted(): Promise<boolean> {
    if (this.status.started) return Promise.resolve(true)
    return new Promise(resolve => this.startedWaiters.push(resolve))
  }

  private settleStarted(started: boolean): void {
    for (const w of this.startedWaiters.splice(0)) w(started)
  }

  private setConditions(started: boolean, ready: boolean): void {
    if (this.status.started === started && this.status.ready === ready) return
    this.status.started = started
    this.status.ready = ready
    if (started) this.settleStarted(true)
    this.ctx.emit({ type: 'container-condition', container: this.spec.name, started, ready })
  }

  private startProbes(child: HostedProcess, startedAt: Date): void {
    const { ctx, spec } = this
    const target: ProbeTarget = {
      // Never the host's namespace by accident: a closed pod namespace fails the probe.
      netnsFd: ctx.pod.hostNetwork ? undefined : (ctx.sandbox.shared.get('net') ?? -1),
      // The pod IP once CNI gave one; a hostNetwork pod (whose podIP is the node's) and a
      // loopback-only pod are probed on their loopback, so probes never leave the pod's namespace.
      address: (!ctx.pod.hostNetwork && ctx.sandbox.facts.podIP) || '127.0.0.1',
      exec: (argv, timeoutMs) => this.exec(argv, timeoutMs),
    }
    const probes = { startup: spec.startupProbe, liveness: spec.livenessProbe, readiness: spec.readinessProbe }
    this.probes = new ContainerProbes(probes, target, startedAt, {
      // Without a readinessProbe a started container is ready (an init container only once it completed).
      started: () => this.setConditions(true, !spec.readinessProbe && (!this.status.init || this.sidecar)),
      ready: ready => this.setConditions(this.status.started, ready),
      failed: (probe, message) => ctx.emit({ type: 'probe-failed', container: spec.name, probe, message: probeFailedMessage(probe, message) }),
      unhealthy: (kind, probe) => void this.killForProbe(kind, probe, child),
      warn: m => ctx.warn(`container ${spec.name}: ${m}`),
    })
    this.probes.start()
  }

  /** kubelet's kill for a failed liveness/startup probe: preStop, SIGTERM, SIGKILL after the probe's (or the pod's) grace. */
  private async killForProbe(kind: 'liveness' | 'startup', probe: Probe, child: HostedProcess): Promise<void> {
    const cur = this.current
    if (this.stopping || cur?.child !== child) return
    const message = probeKillMessage(this.spec.name, kind, this.ctx.pod.restartPolicy !== 'Never')
    this.probeKill = message
    this.ctx.emit({ type: 'container-killing', container: this.spec.name, reason: kind === 'liveness' ? 'LivenessProbe' : 'StartupProbe', message })
    await this.terminate(cur, (probe.terminationGracePeriodSeconds ?? this.ctx.pod.terminationGracePeriodSeconds) * 1000)
  }
}
