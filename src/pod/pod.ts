// The lifecycle engine (foreground): sandbox, init containers in order, then
// the containers under the restart policy, stop, teardown. Every step
// registers its undo; nothing is left after the pod ends, fails or is stopped.
import type { PodSpec } from '../spec/index.js'
import type { NsType } from '../spawn/index.js'
import type { CgroupStats, PodCgroups } from '../cgroups/index.js'
import { KUBELET_BACKOFF } from './backoff.js'
import type { OutputLine } from './logs.js'
import type { PodDir } from './poddir.js'
import { stopPrerequisites } from './ordering.js'
import { ContainerRunner, type RunnerContext, type RunnerEvent } from './runner.js'
import { PodSandbox } from './sandbox.js'
import { DirectHost } from './direct-host.js'
import type { ContainerRecord, ContainerStatus, PodPhase, Terminated } from '../state/index.js'
import { UndoStack, type Warn } from './undo.js'
import { listenAttach } from './attach-server.js'
import { PodError } from '../errors.js'
import { crashPoint } from '../crash-point.js'
import { DEFAULT_STATE_ROOT } from '../state/index.js'
import { ensurePodImages } from './image-pulls.js'
import { printLine, type AdoptedPod, type PodEvent, type PodOptions, type PodResult } from './pod-options.js'

const defaultWarn: Warn = m => process.stderr.write(`warning: ${m}\n`)

/** kubelet's event (reason SandboxChanged) when pause died and the pod gets a new sandbox. */
export const SANDBOX_CHANGED = 'Pod sandbox changed, it will be killed and re-created.'

/** A container that ended for good with exit 0 (OnFailure starts it no more). */
const succeeded = (r: ContainerRunner) => 'terminated' in r.status.state && r.status.state.terminated.exitCode === 0

/** What every container runner of the pod shares. */
function runnerContext(sandbox: PodSandbox, opts: PodOptions, emit: (e: PodEvent) => void, warn: Warn): RunnerContext {
  const pod = sandbox.spec
  return {
    pod,
    dir: sandbox.dir,
    sandbox,
    backoff: opts.backoff ?? KUBELET_BACKOFF,
    emit: (e: RunnerEvent) => emit({ ...e, pod: pod.name }),
    warn,
  }
}

/** A running pod. Create with `Pod.start`; `wait` for it or `stop` it. */
export class Pod {
  readonly spec: PodSpec
  readonly sandbox: PodSandbox
  readonly dir: PodDir
  /** The pod's cgroups (paths, stats, OOM counts). */
  readonly cgroups: PodCgroups
  readonly initRunners: ContainerRunner[]
  readonly runners: ContainerRunner[]
  phase: PodPhase = 'Pending'
  private readonly undo: UndoStack
  private readonly warn: Warn
  private readonly emit: (e: PodEvent) => void
  private readonly finished: Promise<PodResult>
  private readonly failures: { exitCode: number }[] = []
  private stopping?: Promise<PodResult>
  private sandboxDied?: string
  private tearingDown = false
  /** Every container being stopped (a stop, or the end of the containers), and with which grace. */
  private terminating?: Promise<void>
  private terminateGraceMs?: number
  private onRunning!: () => void
  readonly running: Promise<void>
  /** Pause died and a new sandbox follows: resolves once every container of the old one was killed. */
  private replacing?: Promise<void>

  private constructor(spec: PodSpec, sandbox: PodSandbox, runners: [ContainerRunner[], ContainerRunner[]], undo: UndoStack, opts: PodOptions) {
    this.spec = spec
    this.sandbox = sandbox
    this.dir = sandbox.dir
    this.cgroups = sandbox.cgroups
    ;[this.initRunners, this.runners] = runners
    this.undo = undo
    this.warn = opts.onWarning ?? defaultWarn
    this.emit = opts.onEvent ?? (() => {})
    this.running = new Promise(resolve => (this.onRunning = resolve))
    this.finished = this.lifecycle().then(
      r => r,
      async e => {
        this.tearingDown = true
        await this.undo.run(this.warn)
        throw e
      },
    )
  }

  /**
   * Create the sandbox and start the pod: init containers in order, then the
   * containers. Resolves once the pod is Running (or already ended, or
   * Pending with a container in CrashLoopBackOff before it could run). Throws
   * a PodError (`state.*`, `spawn.*`, `child.*`, `ns.*`) when the sandbox
   * cannot be made, after undoing everything it created. A container that
   * cannot start is a container status (ContainerCannotRun), as in Kubernetes.
   */
  static async start(spec: PodSpec, opts: PodOptions = {}): Promise<Pod> {
    const undo = new UndoStack()
    const warn = opts.onWarning ?? defaultWarn
    const emit = opts.onEvent ?? (() => {})
    const fg = opts.attach
    // While a tty container is attached its output is the client's; our terminal is then in raw mode, which does not turn \n into \r\n.
    const onLine =
      opts.onOutput ?? ((l: OutputLine) => (fg?.client.active?.() ? (l.container === fg.container ? undefined : printLine(l, '\r\n')) : printLine(l)))
    const terminal = opts.onOutput ? undefined : { stdout: process.stdout, stderr: process.stderr }
    let pod: Pod
    // A container in CrashLoopBackOff before the pod could run (a failing init container or sidecar, kubelet's
    // Init:CrashLoopBackOff): the start has done what it can; the pod waits on, and a caller must not wait with it.
    let backingOff!: () => void
    const inBackOff = new Promise<void>(resolve => (backingOff = resolve))
    try {
      // Images first, as kubelet pulls them (retried with a back-off when given): nothing of the pod is made until they are here.
      await ensurePodImages(spec, {
        root: opts.stateRoot ?? DEFAULT_STATE_ROOT,
        warn,
        imageFallback: opts.imageFallback,
        onEvent: opts.onPull,
        backoff: opts.imagePullBackoff,
        signal: opts.signal,
        emit: e => emit({ ...e, pod: spec.name }),
      })
      const sandbox = await PodSandbox.create(spec, {
        ...opts,
        onWarning: warn,
        onEvent: emit,
        host: opts.host ?? (ctx => new DirectHost({ ...ctx, onLine: (container, stream, line) => onLine({ container, stream, line }), terminal })),
      })
      const sb = sandbox
      undo.push('remove the sandbox', () => sb.remove())
      // A restart before the pod runs (a looping init container or sidecar) ends the start's wait.
      const onEvent = (e: PodEvent) => {
        if (e.type === 'container-restarting') backingOff()
        emit(e)
      }
      const ctx = runnerContext(sandbox, opts, onEvent, warn)
      const make = (init: boolean) => (c: PodSpec['containers'][number]) => new ContainerRunner(ctx, c, init)
      const runners: [ContainerRunner[], ContainerRunner[]] = [spec.initContainers.map(make(true)), spec.containers.map(make(false))]
      const byName = (name: string) => [...runners[0], ...runners[1]].find(r => r.spec.name === name)
      if (opts.attachSockets) {
        const servers = await listenAttach(
          sandbox.dir.root,
          [...spec.initContainers, ...spec.containers].map(c => c.name),
          byName,
        )
        undo.push('close the attach sockets', () => servers.close())
      }
      if (fg) {
        const r = byName(fg.container)
        if (!r) throw new PodError(`attach: ${spec.name}: no container ${fg.container}`, { step: 'attach', code: 'ENOENT', exitCode: 2 })
        r.attach(fg.client, true)
      }
      pod = new Pod(spec, sandbox, runners, undo, opts)
    } catch (e) {
      await undo.run(warn)
      emit({ type: 'pod-removed', pod: spec.name })
      throw e
    }
    // A stop (the signal) while the start waits: the caller gets the pod to stop it.
    const aborted = new Promise<void>(resolve => (opts.signal?.aborted ? resolve() : opts.signal?.addEventListener('abort', () => resolve(), { once: true })))
    await Promise.race([pod.running, pod.finished.catch(() => {}), inBackOff, aborted])
    return pod
  }

  /**
   * Take over a pod whose host kept it running while no engine did (a new
   * engine adopting a shim): the sandbox and each container from the record
   * and what the host holds; restarts, probes and the pod's end resume from
   * there, with the exits that happened meanwhile decided by the pod's
   * policy. A stop that was under way (`stopping`) goes on.
   */
  static async adopt(spec: PodSpec, opts: PodOptions, a: AdoptedPod): Promise<Pod> {
    const warn = opts.onWarning ?? defaultWarn
    const emit = opts.onEvent ?? (() => {})
    const sandbox = await PodSandbox.adopt(spec, { ...opts, onWarning: warn }, a)
    const ctx = runnerContext(sandbox, opts, emit, warn)
    const adopt = (init: boolean, records: ContainerRecord[]) => (c: PodSpec['containers'][number]) => {
      const r = new ContainerRunner(ctx, c, init)
      const rec = records.find(s => s.name === c.name)
      if (rec) r.adopt(rec, a.held.get(c.name))
      return r
    }
    const runners: [ContainerRunner[], ContainerRunner[]] = [
      spec.initContainers.map(adopt(true, a.initContainerStatuses)),
      spec.containers.map(adopt(false, a.containerStatuses)),
    ]
    const undo = new UndoStack()
    undo.push('remove the sandbox', () => sandbox.remove())
    const pod = new Pod(spec, sandbox, runners, undo, opts)
    if (a.phase === 'Running') pod.phase = 'Running'
    if (a.stopping) void pod.stop(a.stopping)
    return pod
  }

  /** The pod's addresses from CNI (IPv4 first); the node's with hostNetwork; empty with loopback only. */
  get podIPs(): string[] {
    return this.sandbox.podIPs
  }

  get name(): string {
    return this.spec.name
  }

  /** Status of every init container and container, as Kubernetes reports them. */
  get statuses(): { init: ContainerStatus[]; containers: ContainerStatus[] } {
    return { init: this.initRunners.map(r => r.status), containers: this.runners.map(r => r.status) }
  }

  private setPhase(phase: PodPhase): void {
    if (this.phase === phase) return
    this.phase = phase
    this.emit({ type: 'pod-phase', pod: this.name, phase })
  }

  private restartRule(init: boolean, sidecar = false): (t: Terminated) => boolean {
    const policy = this.spec.restartPolicy
    // A sidecar restarts whenever it exits, whatever the pod's policy.
    if (sidecar) return () => true
    // Init containers are retried until they succeed unless the policy is Never.
    if (init) return t => t.exitCode !== 0 && policy !== 'Never'
    if (policy === 'Always') return () => true
    if (policy === 'OnFailure') return t => t.exitCode !== 0
    return () => false
  }

  private recordFailure(t: Terminated): void {
    if (t.exitCode !== 0) this.failures.push({ exitCode: t.exitCode })
  }

  private async lifecycle(): Promise<PodResult> {
    this.watchSandbox()
    let initFailed = await this.runGeneration(true)
    // Pause died (kubelet's SandboxChanged): the containers were killed; a new sandbox, then they start again.
    while (this.replacing && !this.stopping) {
      await this.replacing
      this.replacing = undefined
      if (this.stopping || !(await this.recreateSandbox())) break
      initFailed = await this.runGeneration(false)
    }
    crashPoint('containers-stopped')
    this.setPhase(initFailed || this.failures.length > 0 || this.sandboxDied ? 'Failed' : 'Succeeded')
    this.tearingDown = true
    await this.undo.run(this.warn)
    this.emit({ type: 'pod-removed', pod: this.name })
    const { init, containers } = this.statuses
    return {
      name: this.name,
      uid: this.spec.uid,
      phase: this.phase,
      reason: this.sandboxDied,
      exitCode: this.failures[0]?.exitCode ?? (this.sandboxDied ? 1 : 0),
      initContainerStatuses: init,
      containerStatuses: containers,
    }
  }

  /**
   * One sandbox's run: the init containers in order, then the containers
   * (in a new sandbox, those kubelet starts again: all, but under OnFailure
   * not one that succeeded). Resolves when every run has ended for good, or
   * was killed because pause died. Returns whether an init container failed.
   */
  private async runGeneration(first: boolean): Promise<boolean> {
    const over = () => this.stopping !== undefined || this.replacing !== undefined
    this.failures.length = 0
    let initFailed = false
    const sidecarRuns: Promise<Terminated>[] = []
    for (const r of this.initRunners) {
      if (over()) break
      if (r.sidecar) {
        // A sidecar lets the next container go once it has started, and runs on beside them.
        let started!: () => void
        const isStarted = new Promise<void>(res => (started = res))
        const run = r.run(this.restartRule(true, true), started)
        sidecarRuns.push(run)
        await Promise.race([isStarted, run])
        continue
      }
      const t = await r.run(this.restartRule(true))
      // Failed, or stopped before it succeeded (a stop in Init:CrashLoopBackOff): the pod never ran, it failed.
      if (t.exitCode !== 0) {
        this.recordFailure(t)
        initFailed = true
        break
      }
      if (over()) break
    }
    const runs: Promise<Terminated>[] = []
    if (!initFailed && !over()) {
      // Started in order, each after the previous one's postStart, as kubelet does.
      for (const r of this.runners) {
        if (over()) break
        if (!first && this.spec.restartPolicy === 'OnFailure' && succeeded(r)) continue
        let started!: () => void
        const isStarted = new Promise<void>(res => (started = res))
        // A run that pause's death cut short is no result of the pod's.
        runs.push(r.run(this.restartRule(false), started).then(t => (this.replacing ? undefined : this.recordFailure(t), t)))
        await isStarted
      }
      if (runs.length > 0 && !over()) this.setPhase('Running')
    }
    if (first) this.onRunning()
    await Promise.all(runs)
    if (sidecarRuns.length > 0) {
      // The containers are done for good: the sidecars are stopped (kubelet kills the pod),
      // and their exit codes do not count: the phase comes from the containers alone.
      if (!this.replacing) await (this.terminating ?? this.terminate(this.spec.terminationGracePeriodSeconds * 1000))
      await Promise.all(sidecarRuns)
    }
    return initFailed
  }

  /**
   * Pause holds the pod's namespaces: when it dies, kubelet kills the
   * containers and makes a new sandbox for them (event SandboxChanged),
   * unless the restartPolicy would start none of them again: a Never pod
   * that has run ends (Failed), as does an OnFailure pod whose containers
   * all succeeded.
   */
  private watchSandbox(): void {
    const pause = this.sandbox.process
    void pause.exited.then(exit => {
      if (this.stopping || this.tearingDown || pause !== this.sandbox.process) return
      const what = exit.lost ?? `pause (pid ${pause.pid}) died: ${exit.signal ?? `exit ${exit.code}`}`
      this.emit({ type: 'sandbox-died', pod: this.name, pid: pause.pid, signal: exit.signal, exitCode: exit.exitCode })
      // A host that lost its processes (the pod's shim died) has lost the containers too: the pod ends.
      if (exit.lost !== undefined || !this.startsAgain()) {
        this.sandboxDied = what
        this.warn(`pod ${this.name}: ${what}; stopping the pod`)
        void this.stop({ force: true })
        return
      }
      this.warn(`pod ${this.name}: ${what}; ${SANDBOX_CHANGED}`)
      this.emit({ type: 'sandbox-changed', pod: this.name, reason: 'SandboxChanged', message: SANDBOX_CHANGED })
      // kubelet kills the containers (each with its grace, preStop and stop signal) before the new sandbox.
      const graceMs = this.spec.terminationGracePeriodSeconds * 1000
      this.replacing = Promise.all([...this.initRunners, ...this.runners].map(r => r.interrupt(graceMs))).then(() => {})
    })
  }

  /** kubelet's computePodActions for a dead sandbox: is there anything to start in a new one? */
  private startsAgain(): boolean {
    const all = [...this.initRunners, ...this.runners]
    if (this.spec.restartPolicy === 'Never') return !all.some(r => r.hasRun)
    if (this.spec.restartPolicy === 'OnFailure') return !this.runners.every(succeeded)
    return true
  }

  /** The old sandbox's pause and network go, a new pause and network come; false: it could not be made. */
  private async recreateSandbox(): Promise<boolean> {
    try {
      await this.sandbox.recreate()
    } catch (e) {
      this.sandboxDied = `the pod sandbox could not be re-created: ${(e as Error).message}`
      this.warn(`pod ${this.name}: ${this.sandboxDied}`)
      return false
    }
    for (const r of [...this.initRunners, ...this.runners]) r.newSandbox()
    this.watchSandbox()
    return true
  }

  /** A container's runner by name (init containers included). */
  runner(name: string): ContainerRunner | undefined {
    return [...this.initRunners, ...this.runners].find(r => r.spec.name === name)
  }

  /** Usage of one container, or of the whole pod. */
  stats(container?: string): CgroupStats {
    return this.cgroups.stats(container ?? 'pod')
  }

  /** Resolves when every container has ended for good and the pod is torn down. */
  wait(): Promise<PodResult> {
    return this.finished
  }

  /**
   * Stop: no more restarts; preStop hooks, SIGTERM to the containers in
   * parallel, then to the sidecars in reverse order of declaration, each once
   * the containers and the sidecars after it have exited; SIGKILL when the
   * grace period (the spec's terminationGracePeriodSeconds unless given) is
   * over; then pause and the rest. `force` kills at once. Calling again with a
   * shorter grace (a second Ctrl-C) shortens it.
   */
  stop(opts: { gracePeriodSeconds?: number; force?: boolean } = {}): Promise<PodResult> {
    const graceMs = opts.force ? 0 : Math.round((opts.gracePeriodSeconds ?? this.spec.terminationGracePeriodSeconds) * 1000)
    const terminated = this.terminate(graceMs)
    this.stopping ??= terminated.then(() => this.finished)
    return this.stopping
  }

  /**
   * kubelet's termination ordering (1.29+): every preStop at once; the
   * containers (and a plain init container still running) get SIGTERM at
   * once; a sidecar only after the containers and every sidecar declared
   * after it have exited. All within one grace period, with kubelet's minimum
   * window for a sidecar whose turn came late. A later call with a shorter
   * grace brings every SIGKILL forward.
   */
  private terminate(graceMs: number): Promise<void> {
    if (this.terminating && graceMs >= this.terminateGraceMs!) return this.terminating
    const all = [...this.initRunners, ...this.runners]
    this.terminateGraceMs = graceMs
    if (this.terminating) {
      for (const r of all) void r.stop(graceMs)
      return this.terminating
    }
    const prereqs = stopPrerequisites(this.spec)
    const stops = new Map<string, Promise<void>>()
    // Prerequisites first: the containers and plain init containers, then the sidecars from the last one.
    for (const r of [...this.runners, ...this.initRunners.filter(r => !r.sidecar), ...this.initRunners.filter(r => r.sidecar).reverse()]) {
      const waits = prereqs.get(r.spec.name) ?? []
      stops.set(r.spec.name, r.stop(graceMs, waits.length > 0 ? Promise.all(waits.map(n => stops.get(n) ?? Promise.resolve())) : undefined))
    }
    const after = Promise.all(stops.values())
    this.terminating = after.then(() => {})
    return this.terminating
  }
}

export type { OutputLine, NsType }
