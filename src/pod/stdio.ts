// A container run's stdio, as containerd wires it for CRI: stdout and stderr
// pipes into the CRI log; with `stdin: true` an open pipe as stdin (else
// /dev/null); with `tty: true` a pseudo-terminal made by the child in the
// container's own devpts (native/spawn.c, runc's console socket), whose
// master output is the log's stdout stream. Attach sessions (the foreground
// terminal, `pod-launch attach` through the supervisor) see the raw output
// and feed input and window sizes.
import { closeSync } from 'node:fs'
import { Socket } from 'node:net'
import type { ContainerSpec } from '../spec/index.js'
import { native, makePipe, makeSocketPair } from '../spawn/index.js'
import { PodError } from '../errors.js'
import { readPipe, type CriLogFile, type PipeReader, type Stream } from './logs.js'

export interface WindowSize {
  rows: number
  cols: number
}

/** One attach session's handle on a running container. */
export interface AttachedIo {
  readonly tty: boolean
  /** Input is taken (stdin: true and not closed by stdinOnce). */
  readonly stdin: boolean
  write(data: Buffer): void
  resize(size: WindowSize): void
  /** This session is over (detach, disconnect, end of its input): with stdinOnce the container's stdin closes. */
  end(): void
}

/** Someone attached to a container: the foreground terminal or an attach socket client. */
export interface AttachClient {
  /** A run started; input and resizes go to `io`. */
  started(io: AttachedIo): void
  /** Raw output of the run (a tty has only stdout). */
  output(stream: Stream, data: Buffer): void
  /** The run ended with this exit code. */
  ended(exitCode: number): void
  /** The window size to start a tty with (the foreground terminal's). */
  size?(): WindowSize | undefined
  /** This client shows the container's output now (the default `[name] line` printer stays quiet). */
  active?(): boolean
}

/**
 * A socket over a pty master fd. net.Socket({fd}) refuses a TTY fd and
 * tty.ReadStream leaves a master in blocking mode (libuv reopens only
 * slaves), so, as node-pty does, open a libuv pipe handle on it:
 * uv_pipe_open makes the fd non-blocking and does plain read/write on it.
 */
export function ptySocket(fd: number): Socket {
  type PipeWrap = { Pipe: new (type: number) => { open(fd: number): void }; constants: { SOCKET: number } }
  const { Pipe, constants } = (process as unknown as { binding(name: 'pipe_wrap'): PipeWrap }).binding('pipe_wrap')
  const handle = new Pipe(constants.SOCKET)
  handle.open(fd)
  return new Socket({ handle, allowHalfOpen: true } as unknown as ConstructorParameters<typeof Socket>[0])
}

const ignore = () => {}

export class RunStdio {
  readonly tty: boolean
  /** The fds and tty request for the spawn plan. */
  readonly plan: { stdio: [number, number, number]; tty?: { socket: number; rows: number; cols: number } }
  private readonly childEnds: number[] = []
  private readonly parentEnds: number[] = []
  private out?: [number, number]
  private err?: [number, number]
  private ttySocket?: number
  private master?: Socket
  private masterFd = -1
  private stdinPipe?: Socket
  private stdinOpen: boolean
  private sessionsEnded = 0
  private readersMade = false
  private readonly clients = new Set<AttachClient>()

  constructor(
    private readonly spec: Pick<ContainerSpec, 'name' | 'stdin' | 'stdinOnce' | 'tty'>,
    devNull: number,
    size?: WindowSize,
  ) {
    const who = `container ${spec.name}`
    this.tty = spec.tty
    this.stdinOpen = spec.stdin
    if (spec.tty) {
      const [ours, theirs] = makeSocketPair(`${who} terminal`)
      this.ttySocket = ours
      this.parentEnds.push(ours)
      this.childEnds.push(theirs)
      this.plan = { stdio: [devNull, devNull, devNull], tty: { socket: theirs, rows: size?.rows ?? 0, cols: size?.cols ?? 0 } }
      return
    }
    this.out = makePipe(`${who} stdout`)
    this.err = makePipe(`${who} stderr`)
    this.childEnds.push(this.out[1], this.err[1])
    let stdin = devNull
    if (spec.stdin) {
      const [r, w] = makePipe(`${who} stdin`)
      this.childEnds.push(r)
      stdin = r
      this.stdinPipe = new Socket({ fd: w, readable: false, writable: true })
      this.stdinPipe.on('error', ignore) // EPIPE once the container stopped reading
    }
    this.plan = { stdio: [stdin, this.out[1], this.err[1]] }
  }

  /**
   * After the spawn: drop the child's ends; with a tty take the master the
   * child sent (throws `tty.receive` when it did not). `ok` false: the child
   * failed, so close everything of ours too.
   */
  afterSpawn(ok: boolean): void {
    this.childEnds.splice(0).forEach(fd => closeSync(fd))
    try {
      if (ok && this.ttySocket !== undefined) {
        try {
          this.masterFd = native().recvFd(this.ttySocket)
        } catch (e) {
          throw PodError.system('tty.receive', e, `container ${this.spec.name}`)
        }
        this.master = ptySocket(this.masterFd)
        this.master.on('error', ignore)
        this.master.on('close', () => (this.masterFd = -1))
      }
    } finally {
      this.parentEnds.splice(0).forEach(fd => closeSync(fd))
    }
    if (!ok) this.close()
  }

  /** Readers of the output into the CRI log and `onLine`, tapped for attach clients. */
  readers(log: CriLogFile, onLine: (stream: Stream, line: string) => void, terminal?: Record<Stream, NodeJS.WritableStream>): PipeReader[] {
    this.readersMade = true
    const tap = (stream: Stream) => (chunk: Buffer) => this.clients.forEach(c => c.output(stream, chunk))
    const sources: [Stream, number | Socket][] = this.tty
      ? this.master
        ? [['stdout', this.master]]
        : []
      : [
          ['stdout', this.out![0]],
          ['stderr', this.err![0]],
        ]
    return sources.map(([stream, src]) => readPipe(src, stream, log, line => onLine(stream, line), terminal?.[stream] as never, tap(stream)))
  }

  /** Attach a client to this run: it starts getting output now. */
  attach(client: AttachClient): void {
    this.clients.add(client)
    let ended = false
    const run = this
    const io: AttachedIo = {
      tty: this.tty,
      get stdin() {
        return run.acceptsInput
      },
      write: data => {
        if (!ended) this.write(data)
      },
      resize: size => this.resize(size),
      end: () => {
        if (ended) return
        ended = true
        this.sessionEnded()
      },
    }
    client.started(io)
  }

  detach(client: AttachClient): void {
    this.clients.delete(client)
  }

  /** The run ended: tell every client, then forget them. */
  ended(exitCode: number): void {
    for (const c of this.clients) c.ended(exitCode)
    this.clients.clear()
  }

  get acceptsInput(): boolean {
    return this.stdinOpen && (this.tty ? this.masterFd >= 0 : !!this.stdinPipe && !this.stdinPipe.destroyed)
  }

  private write(data: Buffer): void {
    if (!this.acceptsInput) return
    if (this.tty) this.master!.write(data)
    else this.stdinPipe!.write(data)
  }

  /** TIOCSWINSZ on the master: the kernel sends SIGWINCH to the container's foreground process group. */
  resize(size: WindowSize): void {
    if (this.masterFd >= 0 && size.rows > 0 && size.cols > 0) native().setWinsize(this.masterFd, size.rows, size.cols)
  }

  /** The window size of the container's terminal (tests, `inspect`). */
  windowSize(): WindowSize | undefined {
    if (this.masterFd < 0) return undefined
    try {
      return native().getWinsize(this.masterFd)
    } catch (e) {
      throw PodError.system('tty.winsize', e, `container ${this.spec.name} terminal`)
    }
  }

  /**
   * stdinOnce: the first session's end closes stdin. A pipe gets EOF; a pty
   * cannot be half-closed, so it only stops taking input (containerd and
   * Docker do the same for tty containers).
   */
  private sessionEnded(): void {
    this.sessionsEnded++
    if (this.spec.stdinOnce && this.sessionsEnded === 1) this.closeStdin()
  }

  closeStdin(): void {
    if (!this.stdinOpen) return
    this.stdinOpen = false
    const pipe = this.stdinPipe
    if (pipe) {
      // end() flushes what was written; the fd closes with destroy (shutdown(2) does not apply to a pipe).
      pipe.end(() => pipe.destroy())
      pipe.once('error', () => pipe.destroy())
    }
  }

  /** Close whatever is still open (after the readers drained). */
  close(): void {
    this.childEnds.splice(0).forEach(fd => closeSync(fd))
    this.parentEnds.splice(0).forEach(fd => closeSync(fd))
    this.stdinOpen = false
    this.stdinPipe?.destroy()
    this.master?.destroy()
    this.masterFd = -1
    // The pipes' read ends belong to their reader sockets once readers() ran.
    if (!this.readersMade) {
      for (const p of [this.out, this.err]) if (p) closeSync(p[0])
      this.readersMade = true
    }
  }
}
