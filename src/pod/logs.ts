// A container's stdout/stderr: read the pipe in libuv (no threadpool), write
// the CRI log file (`<RFC3339Nano> <stream> <F|P> <bytes>`), hand lines to the
// caller. Backpressure: while the file or the terminal cannot keep up, the pipe
// is paused, so the container blocks in write(2) instead of us buffering.
import { createWriteStream, mkdirSync, openSync, type WriteStream } from 'node:fs'
import { dirname } from 'node:path'
import { Socket } from 'node:net'
import { PodError } from '../errors.js'
import type { Writable } from 'node:stream'

export type Stream = 'stdout' | 'stderr'

export interface OutputLine {
  container: string
  stream: Stream
  line: string
}

/** Longest content of one CRI record; longer lines are split into `P` records (containerd: 16 KiB). */
export const MAX_RECORD_BYTES = 16 * 1024

const startNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint()

/** Now as RFC 3339 with nanoseconds: `2016-10-06T00:17:09.669794202Z`. */
export function rfc3339Nano(ns: bigint = startNs + process.hrtime.bigint()): string {
  const ms = Number(ns / 1_000_000n)
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0')
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`)
}

/** Split a chunk stream into CRI records; `flush` emits the unterminated rest as P. */
export class RecordSplitter {
  private rest: Buffer = Buffer.alloc(0)
  constructor(private readonly emit: (content: Buffer, full: boolean) => void) {}

  push(chunk: Buffer): void {
    let buf = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk
    for (;;) {
      const nl = buf.indexOf(0x0a)
      if (nl >= 0 && nl <= MAX_RECORD_BYTES) {
        this.emit(buf.subarray(0, nl), true)
        buf = buf.subarray(nl + 1)
      } else if (buf.length > MAX_RECORD_BYTES) {
        this.emit(buf.subarray(0, MAX_RECORD_BYTES), false)
        buf = buf.subarray(MAX_RECORD_BYTES)
      } else break
    }
    this.rest = Buffer.from(buf)
  }

  flush(): void {
    if (this.rest.length) this.emit(this.rest, false)
    this.rest = Buffer.alloc(0)
  }
}

/** Parse CRI log text back into records (for tests and `logs`). */
export function parseCriLog(text: Buffer): { time: string; stream: Stream; full: boolean; content: Buffer }[] {
  const out = []
  let pos = 0
  while (pos < text.length) {
    const end = text.indexOf(0x0a, pos)
    const line = text.subarray(pos, end < 0 ? text.length : end)
    pos = end < 0 ? text.length : end + 1
    const s1 = line.indexOf(0x20)
    const s2 = line.indexOf(0x20, s1 + 1)
    const s3 = line.indexOf(0x20, s2 + 1)
    out.push({
      time: line.subarray(0, s1).toString(),
      stream: line.subarray(s1 + 1, s2).toString() as Stream,
      full: line.subarray(s2 + 1, s3).toString() === 'F',
      content: Buffer.from(line.subarray(s3 + 1)),
    })
  }
  return out
}

/** One shared CRI log file for a container run (both streams write into it). */
export class CriLogFile {
  readonly path: string
  private file: WriteStream
  private ended = false

  /**
   * Opens (creates) the file at once: it exists when the container's start
   * returns, as kubelet and critest read it then. Throws `log.open`.
   */
  constructor(path: string) {
    this.path = path
    this.file = CriLogFile.open(path)
  }

  private static open(path: string): WriteStream {
    let fd: number
    try {
      // Its directory made as containerd makes it (kubelet's pod log directory is made by kubelet; ours by us).
      mkdirSync(dirname(path), { recursive: true, mode: 0o755 })
      fd = openSync(path, 'a', 0o640)
    } catch (e) {
      throw PodError.system('log.open', e, path)
    }
    const file = createWriteStream('', { fd })
    file.on('error', () => {}) // a full disk must not crash the supervisor: output is dropped, the pipe released
    return file
  }

  /** Write one record; false when the caller should wait for `drain`. */
  write(stream: Stream, content: Buffer, full: boolean): boolean {
    const head = Buffer.from(`${rfc3339Nano()} ${stream} ${full ? 'F' : 'P'} `)
    return this.file.write(Buffer.concat([head, content, Buffer.from('\n')]))
  }

  get sink(): Writable {
    return this.file
  }

  /**
   * CRI ReopenContainerLog: kubelet renamed the file (rotation); the records
   * written so far go on into it, the next ones into a new file at the path.
   * Throws `log.open` (the old file stays in use then).
   */
  async reopen(): Promise<void> {
    if (this.ended) return // the run is over: nothing more will be written
    const old = this.file
    this.file = CriLogFile.open(this.path)
    await closeStream(old)
  }

  end(): Promise<void> {
    this.ended = true
    return closeStream(this.file)
  }
}

/** End a file stream; resolves once what was written is in the file and it is closed. */
function closeStream(file: WriteStream): Promise<void> {
  return new Promise(resolve => {
    if (file.closed) return resolve()
    file.once('close', () => resolve())
    file.end()
  })
}

export interface PipeReader {
  /** Resolves at EOF (every writer closed the pipe). */
  done: Promise<void>
  destroy(): void
}

/**
 * Read a pipe fd (or an open socket over one: a pty master) to EOF into `log`
 * and `onLine`; `onChunk` sees the raw bytes first (attach sessions). When
 * `terminal` is given its backpressure pauses the pipe too.
 */
export function readPipe(
  fd: number | Socket,
  stream: Stream,
  log: CriLogFile,
  onLine: (line: string) => void,
  terminal?: Writable,
  onChunk?: (chunk: Buffer) => void,
): PipeReader {
  const socket = typeof fd === 'number' ? new Socket({ fd, readable: true, writable: false }) : fd
  // One wait per writer, however many records a chunk held: a listener per
  // record piled up (MaxListenersExceededWarning) under backpressure. A writer
  // that failed (a full disk) or closed releases the pipe too: output is then
  // dropped rather than the container stalled in write(2).
  const held = new Set<Writable>()
  const hold = (w: Writable) => {
    if (held.has(w)) return
    held.add(w)
    socket.pause()
    const release = () => {
      w.off('drain', release)
      w.off('close', release)
      if (held.delete(w) && held.size === 0) socket.resume()
    }
    w.on('drain', release)
    w.on('close', release)
    if (w.destroyed) release()
  }
  const splitter = new RecordSplitter((content, full) => {
    if (!log.write(stream, content, full)) hold(log.sink)
    onLine(content.toString('utf8'))
    if (terminal && terminal.writableNeedDrain) hold(terminal)
  })
  socket.on('data', (chunk: Buffer) => {
    onChunk?.(chunk)
    splitter.push(chunk)
  })
  const done = new Promise<void>(resolve => {
    socket.on('close', () => {
      splitter.flush()
      resolve()
    })
    socket.on('error', () => {}) // 'close' follows (a pty master reads EIO once the slave is closed)
  })
  return { done, destroy: () => socket.destroy() }
}
