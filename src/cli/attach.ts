// `pod-launch attach POD [-c C]`, and the foreground terminal of `run`: the
// user's terminal joined to a container's tty or stdin.
import { attachPod } from '../manage/attach.js'
import type { AttachClient, AttachedIo, ContainerSpec, PodSpec, Stream } from '../index.js'
import type { Io } from './output.js'
import { LocalTerminal } from './terminal.js'

export const DETACH_HINT = 'Ctrl-P Ctrl-Q detaches'

/** `attach`: until the container's run ends (its exit code), the connection closes, or Ctrl-P Ctrl-Q (0). */
export async function attachCommand(root: string, ref: string, container: string | undefined, io: Io, term = new LocalTerminal()): Promise<number> {
  const conn = await attachPod(root, ref, container)
  const { hello } = conn
  const raw = hello.tty && hello.stdin && term.isTTY
  if (raw) io.err(`pod-launch: attached to ${hello.container} (${DETACH_HINT})\n`)
  return new Promise<number>(resolve => {
    let detached = false
    // Killed or hung up: restore the terminal and leave the container running.
    const onSignal = (sig: NodeJS.Signals) => {
      term.stop()
      conn.close()
      resolve(sig === 'SIGHUP' ? 129 : 143)
    }
    const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP']
    signals.forEach(s => process.once(s, onSignal))
    conn.on('output', (stream: Stream, data: Buffer) => (stream === 'stderr' ? process.stderr : process.stdout).write(data))
    conn.on('exit', (code: number | null) => {
      term.stop()
      signals.forEach(s => process.off(s, onSignal))
      resolve(detached ? 0 : (code ?? 0))
    })
    const size = hello.tty ? term.size() : undefined
    if (size) conn.resize(size.rows, size.cols)
    term.start({
      raw,
      input: hello.stdin,
      onInput: data => conn.write(data),
      onEnd: () => conn.endInput(),
      onDetach: () => {
        detached = true
        io.err(`\r\npod-launch: detached from ${hello.container}\n`)
        conn.close()
      },
      onResize: hello.tty ? s => conn.resize(s.rows, s.cols) : undefined,
    })
  })
}

/** The container the foreground attaches to: the first with stdin or tty, as kubectl attach -it picks one container. */
export function foregroundTarget(spec: PodSpec): { container: ContainerSpec; others: string[] } | undefined {
  const wanting = spec.containers.filter(c => c.stdin || c.tty)
  return wanting.length
    ? { container: wanting[0], others: [...spec.initContainers, ...spec.containers].filter(c => (c.stdin || c.tty) && c !== wanting[0]).map(c => c.name) }
    : undefined
}

/**
 * The foreground terminal as an attach client of one container, across its
 * restarts. A tty container's output is written raw (the `[name]` printer
 * leaves it alone while attached); a stdin-only one keeps the printer and
 * just gets our input.
 */
export class ForegroundClient implements AttachClient {
  private attachedTty = false
  private detached = false

  constructor(
    private readonly container: ContainerSpec,
    private readonly io: Io,
    private readonly term = new LocalTerminal(),
  ) {}

  size() {
    return this.container.tty ? this.term.size() : undefined
  }

  active(): boolean {
    return this.attachedTty
  }

  started(run: AttachedIo): void {
    if (this.detached) return
    this.attachedTty = run.tty
    const size = this.size()
    if (size) run.resize(size) // a restart: the size may have changed since
    this.term.start({
      raw: run.tty && run.stdin,
      input: run.stdin,
      onInput: data => run.write(data),
      onEnd: () => run.end(),
      onDetach: () => {
        this.detached = true
        this.attachedTty = false
        run.end()
        this.io.err(`\r\npod-launch: detached from ${this.container.name}; its output is printed as lines again, Ctrl-C stops the pod\n`)
      },
      onResize: run.tty ? s => run.resize(s) : undefined,
    })
  }

  output(stream: Stream, data: Buffer): void {
    if (this.attachedTty) (stream === 'stderr' ? process.stderr : process.stdout).write(data)
  }

  ended(): void {
    this.term.stop()
    this.attachedTty = false
  }

  /** Restore the terminal (the pod ended). */
  stop(): void {
    this.ended()
  }
}
