// The user's terminal while attached to a container (foreground `run` and
// `attach`): raw mode when the container has a tty and takes input, input
// forwarded with Docker's detach keys (Ctrl-P Ctrl-Q) filtered out, window
// size changes (SIGWINCH, seen as stdout 'resize') forwarded, and the
// terminal restored on every way out.
import { DetachKeys } from '../pod/attach-protocol.js'
import type { WindowSize } from '../pod/stdio.js'

export interface TerminalHandlers {
  /** Raw mode (a tty container taking input, and our stdin a terminal). */
  raw: boolean
  /** Forward input (else stdin is left alone). */
  input: boolean
  onInput(data: Buffer): void
  /** Our stdin ended (a pipe or file drained). */
  onEnd(): void
  /** Ctrl-P Ctrl-Q was typed (raw mode only). */
  onDetach(): void
  onResize?(size: WindowSize): void
}

export class LocalTerminal {
  private stop_?: () => void

  constructor(
    private readonly stdin: NodeJS.ReadStream = process.stdin,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
  ) {}

  /** Our window size, when stdout is a terminal. */
  size(): WindowSize | undefined {
    return this.stdout.isTTY && this.stdout.rows > 0 ? { rows: this.stdout.rows, cols: this.stdout.columns } : undefined
  }

  get isTTY(): boolean {
    return !!this.stdin.isTTY
  }

  get active(): boolean {
    return this.stop_ !== undefined
  }

  start(h: TerminalHandlers): void {
    this.stop()
    const raw = h.raw && !!this.stdin.isTTY
    const keys = new DetachKeys()
    const cleanups: (() => void)[] = []
    if (raw) {
      this.stdin.setRawMode(true)
      const restore = () => this.stdin.isTTY && this.stdin.setRawMode(false)
      process.on('exit', restore)
      cleanups.push(() => (restore(), process.off('exit', restore)))
    }
    if (h.input) {
      const onData = (chunk: Buffer) => {
        if (!raw) return h.onInput(chunk)
        const { data, detach } = keys.push(chunk)
        if (data.length) h.onInput(data)
        if (detach) {
          this.stop()
          h.onDetach()
        }
      }
      const onEnd = () => {
        this.stop()
        h.onEnd()
      }
      this.stdin.on('data', onData)
      this.stdin.once('end', onEnd)
      this.stdin.resume()
      cleanups.push(() => {
        this.stdin.off('data', onData)
        this.stdin.off('end', onEnd)
        this.stdin.pause()
      })
    }
    if (h.onResize && this.stdout.isTTY) {
      const onResize = () => {
        const size = this.size()
        if (size) h.onResize!(size)
      }
      this.stdout.on('resize', onResize)
      cleanups.push(() => this.stdout.off('resize', onResize))
    }
    this.stop_ = () => cleanups.reverse().forEach(f => f())
  }

  /** Leave raw mode, stop reading and forwarding. Idempotent. */
  stop(): void {
    const stop = this.stop_
    this.stop_ = undefined
    stop?.()
  }
}
