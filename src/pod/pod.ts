// The lifecycle engine (foreground): sandbox, containers, wait, stop, teardown.
import { closeSync, openSync } from 'node:fs'
import { PodError } from '../errors.js'
import type { PodSpec } from '../spec/index.js'
import type { NsType } from '../spawn/native.js'
import { stopProcess, type ExitStatus } from '../spawn/process.js'
import { startContainer, type RunningContainer } from './container.js'
import type { OutputLine } from './output.js'
import { startSandbox, type Sandbox } from './sandbox.js'
import { UndoStack, type Warn } from './undo.js'

export type PodEvent =
  | { type: 'sandbox-started'; pod: string; pid: number; namespaces: Record<NsType, number> }
  | { type: 'container-started'; pod: string; container: string; pid: number }
  | { type: 'container-exited'; pod: string; container: string; pid: number; exitCode: number; signal: NodeJS.Signals | null }
  | { type: 'pod-removed'; pod: string }

export interface PodOptions {
  /** Lifecycle events, in order (for tools, tests and the labs). */
  onEvent?: (event: PodEvent) => void
  /** Each line a container prints; default: `[name] line` on our stdout/stderr. */
  onOutput?: (line: OutputLine) => void
  /** Warnings (undo failures); default: stderr. */
  onWarning?: Warn
}

export interface ContainerResult {
  name: string
  pid: number
  exitCode: number
  signal: NodeJS.Signals | null
  /** As Kubernetes reports a terminated container. */
  reason: 'Completed' | 'Error'
  startedAt: Date
  finishedAt: Date
}

export interface PodResult {
  name: string
  uid: string
  phase: 'Succeeded' | 'Failed'
  /** The first failing container's exit code (in the order they failed), else 0. */
  exitCode: number
  containers: ContainerResult[]
}

let quietEpipe = false
/** Print a container line as `[name] line` on our stdout or stderr. A closed reader (`| head`) is not an error. */
export function printLine({ container, stream, line }: OutputLine): void {
  if (!quietEpipe) {
    quietEpipe = true
    for (const s of [process.stdout, process.stderr]) {
      s.on('error', e => {
        if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e
      })
    }
  }
  ;(stream === 'stderr' ? process.stderr : process.stdout).write(`[${container}] ${line}\n`)
}

const defaultWarn: Warn = m => process.stderr.write(`warning: ${m}\n`)

/** A running pod. Create with `Pod.start`; `wait` for it or `stop` it. */
export class Pod {
  readonly spec: PodSpec
  readonly sandbox: Sandbox
  readonly containers: RunningContainer[]
  private readonly undo: UndoStack
  private readonly warn: Warn
  private readonly results = new Map<string, { status: ExitStatus; at: Date; order: number }>()
  private readonly finished: Promise<PodResult>
  private stopping?: Promise<PodResult>

  private constructor(spec: PodSpec, sandbox: Sandbox, containers: RunningContainer[], undo: UndoStack, opts: PodOptions) {
    this.spec = spec
    this.sandbox = sandbox
    this.containers = containers
    this.undo = undo
    this.warn = opts.onWarning ?? defaultWarn
    const emit = opts.onEvent ?? (() => {})
    let order = 0
    const exits = containers.map(c =>
      c.process.exited.then(status => {
        this.results.set(c.spec.name, { status, at: new Date(), order: order++ })
        emit({ type: 'container-exited', pod: spec.name, container: c.spec.name, pid: c.pid, exitCode: status.exitCode, signal: status.signal })
      }),
    )
    this.finished = Promise.all(exits)
      .then(() => this.teardown())
      .then(result => {
        emit({ type: 'pod-removed', pod: spec.name })
        return result
      })
  }

  /**
   * Create the sandbox and start every container. Resolves once all have
   * exec'd. Throws the first PodError (`spawn.*`, `child.*`, `ns.*`) after
   * undoing everything it created.
   */
  static async start(spec: PodSpec, opts: PodOptions = {}): Promise<Pod> {
    const undo = new UndoStack()
    const warn = opts.onWarning ?? defaultWarn
    const onLine = opts.onOutput ?? printLine
    const emit = opts.onEvent ?? (() => {})
    try {
      const devNull = openSync('/dev/null', 'r+')
      undo.push('close /dev/null', () => closeSync(devNull))
      const sandbox = await startSandbox(spec, devNull, undo)
      emit({ type: 'sandbox-started', pod: spec.name, pid: sandbox.pid, namespaces: sandbox.namespaces })
      const containers: RunningContainer[] = []
      for (const c of spec.containers) {
        let running: RunningContainer
        try {
          running = await startContainer(spec, c, sandbox, devNull, onLine)
        } catch (e) {
          throw withContainer(e, c.name)
        }
        containers.push(running)
        emit({ type: 'container-started', pod: spec.name, container: c.name, pid: running.pid })
        undo.push(`stop container ${c.name}`, async () => {
          await stopProcess(running.process, 0)
          await settle(running)
        })
      }
      return new Pod(spec, sandbox, containers, undo, opts)
    } catch (e) {
      await undo.run(warn)
      emit({ type: 'pod-removed', pod: spec.name })
      throw e
    }
  }

  get name(): string {
    return this.spec.name
  }

  /** Pids of pause and each container's main process. */
  get pids(): { pause: number; containers: Record<string, number> } {
    return { pause: this.sandbox.pid, containers: Object.fromEntries(this.containers.map(c => [c.spec.name, c.pid])) }
  }

  /** Resolves when every container has exited and the pod is torn down. */
  wait(): Promise<PodResult> {
    return this.finished
  }

  /**
   * Stop gracefully: SIGTERM to every container, SIGKILL after the grace
   * period (the spec's terminationGracePeriodSeconds unless given), then
   * pause and the rest. Safe to call more than once.
   */
  stop(gracePeriodSeconds = this.spec.terminationGracePeriodSeconds): Promise<PodResult> {
    this.stopping ??= Promise.all(this.containers.map(c => stopProcess(c.process, gracePeriodSeconds * 1000))).then(() => this.finished)
    if (gracePeriodSeconds === 0) for (const c of this.containers) c.process.kill('SIGKILL')
    return this.stopping
  }

  private async teardown(): Promise<PodResult> {
    await this.undo.run(this.warn)
    const containers = this.containers.map((c): ContainerResult => {
      const r = this.results.get(c.spec.name)!
      return {
        name: c.spec.name,
        pid: c.pid,
        exitCode: r.status.exitCode,
        signal: r.status.signal,
        reason: r.status.exitCode === 0 ? 'Completed' : 'Error',
        startedAt: c.startedAt,
        finishedAt: r.at,
      }
    })
    const failed = this.containers
      .map(c => this.results.get(c.spec.name)!)
      .filter(r => r.status.exitCode !== 0)
      .sort((a, b) => a.order - b.order)
    return {
      name: this.spec.name,
      uid: this.spec.uid,
      phase: failed.length === 0 ? 'Succeeded' : 'Failed',
      exitCode: failed[0]?.status.exitCode ?? 0,
      containers,
    }
  }
}

/** Output pipes close when the last holder exits; give stragglers a moment, then drop them. */
async function settle(c: RunningContainer): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([c.outputDone, new Promise(r => (timer = setTimeout(r, 2000)))])
  clearTimeout(timer)
  c.destroyOutput()
}

function withContainer(e: unknown, name: string): unknown {
  if (e instanceof PodError) e.container ??= name
  return e
}

export type { OutputLine, NsType }
