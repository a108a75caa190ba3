// The lifecycle engine (foreground): sandbox, init containers in order, then
// the containers under the restart policy, stop, teardown. Every step
// registers its undo; nothing is left after the pod ends, fails or is stopped.
import type { PodSpec } from '../spec/index.js'
import type { NsType } from '../spawn/index.js'
import type { CgroupStats, PodCgroups } from '../cgroups/index.js'
import { KUBELET_BACKOFF, type BackoffOptions } from './backoff.js'
import type { OutputLine } from './logs.js'
import type { PodDir } from './poddir.js'
import { stopPrerequisites } from './ordering.js'
import { ContainerRunner, type RunnerContext, type RunnerEvent } from './runner.js'
import { PodSandbox, type SandboxEvent, type SandboxOptions } from './sandbox.js'
import { DirectHost } from './direct-host.js'
import type { ContainerStatus, PodPhase, Terminated } from '../state/index.js'
import { UndoStack, type Warn } from './undo.js'
import { listenAttach } from './attach-server.js'
import type { AttachClient } from './stdio.js'
import { PodError } from '../errors.js'
import { crashPoint } from '../crash-point.js'
import { DEFAULT_STATE_ROOT } from '../state/index.js'
import type { PullEvent } from '../rootfs/index.js'
import { ensurePodImages, type ImagePullEvent } from './image-pulls.js'

export type PodEvent =
  | SandboxEvent
  | { type: 'pod-phase'; pod: string; phase: PodPhase }
  | { type: 'pod-removed'; pod: string }
  | { type: 'sandbox-died'; pod: string; pid: number; signal: NodeJS.Signals | null; exitCode: number }
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
  /** Aborts the start while it pulls or waits for images (it then throws `image.pull`, EINTR). */
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

const defaultWarn: Warn = m => process.stderr.write(`warning: ${m}\n`)

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
   * containers. Resolves once the pod is Running (or already ended). Throws
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
      const ctx: RunnerContext = {
        pod: spec,
        dir: sandbox.dir,
        sandbox,
        facts: sandbox.facts,
        backoff: opts.backoff ?? KUBELET_BACKOFF,
        emit: (e: RunnerEvent) => emit({ ...e, pod: spec.name }),
        warn,
      }
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
    await Promise.race([pod.running, pod.finished.catch(() => {})])
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
    // Pause holds the pod's namespaces: if it dies the pod cannot go on. Kubernetes
    // would make a new sandbox and restart every container; we end the pod as Failed.
    void this.sandbox.process.exited.then(exit => {
      if (this.stopping || this.tearingDown) return
      this.sandboxDied = `pause (pid ${this.sandbox.pid}) died: ${exit.signal ?? `exit ${exit.code}`}`
      this.warn(`pod ${this.name}: ${this.sandboxDied}; stopping the pod`)
      this.emit({ type: 'sandbox-died', pod: this.name, pid: this.sandbox.pid, signal: exit.signal, exitCode: exit.exitCode })
      void this.stop({ force: true })
    })
    let initFailed = false
    const sidecarRuns: Promise<Terminated>[] = []
    for (const r of this.initRunners) {
      if (this.stopping) break
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
      if (t.exitCode !== 0) {
        this.recordFailure(t)
        initFailed = true
        break
      }
    }
    const runs: Promise<Terminated>[] = []
    if (!initFailed && !this.stopping) {
      // Started in order, each after the previous one's postStart, as kubelet does.
      for (const r of this.runners) {
        if (this.stopping) break
        let started!: () => void
        const isStarted = new Promise<void>(res => (started = res))
        runs.push(r.run(this.restartRule(false), started).then(t => (this.recordFailure(t), t)))
        await isStarted
      }
      if (runs.length > 0) this.setPhase('Running')
    }
    this.onRunning()
    await Promise.all(runs)
    if (sidecarRuns.length > 0) {
      // The containers are done for good: the sidecars are stopped (kubelet kills the pod),
      // and their exit codes do not count: the phase comes from the containers alone.
      await (this.terminating ?? this.terminate(this.spec.terminationGracePeriodSeconds * 1000))
      await Promise.all(sidecarRuns)
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
