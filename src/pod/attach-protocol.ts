// The attach socket's framing (supervisor <-> `pod-launch attach`): each
// frame is one type byte, a 32-bit big-endian length, then the payload.
// Pure: unit-tested without sockets.

export const FRAME = {
  /** client -> supervisor: bytes for the container's stdin (or its terminal). */
  STDIN: 1,
  /** client -> supervisor: window size, rows and cols as two uint16 BE. */
  RESIZE: 2,
  /** client -> supervisor: the client's input ended (stdinOnce closes the container's stdin). */
  STDIN_END: 3,
  /** supervisor -> client: output of the container (a tty has only stdout). */
  STDOUT: 4,
  STDERR: 5,
  /** supervisor -> client: JSON `{container, tty, stdin}` once attached. */
  HELLO: 6,
  /** supervisor -> client: JSON `{exitCode}`; the run ended, the connection closes. */
  EXIT: 7,
  /** supervisor -> client: JSON `{message, hint}`; could not attach, the connection closes. */
  ERROR: 8,
} as const

export type FrameType = (typeof FRAME)[keyof typeof FRAME]

export interface Frame {
  type: number
  payload: Buffer
}

const HEADER = 5
/** Larger frames are refused: a peer speaking something else, or a bug. */
export const MAX_FRAME = 1 << 20

export function encodeFrame(type: FrameType, payload: Buffer | string | object = Buffer.alloc(0)): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload))
  const head = Buffer.alloc(HEADER)
  head.writeUInt8(type, 0)
  head.writeUInt32BE(body.length, 1)
  return Buffer.concat([head, body])
}

export function resizeFrame(rows: number, cols: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt16BE(Math.max(0, Math.min(65535, rows)), 0)
  b.writeUInt16BE(Math.max(0, Math.min(65535, cols)), 2)
  return encodeFrame(FRAME.RESIZE, b)
}

export function parseResize(payload: Buffer): { rows: number; cols: number } | undefined {
  return payload.length === 4 ? { rows: payload.readUInt16BE(0), cols: payload.readUInt16BE(2) } : undefined
}

/** Reassemble frames from a byte stream; throws on a frame over MAX_FRAME. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0)

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk
    const out: Frame[] = []
    while (this.buf.length >= HEADER) {
      const len = this.buf.readUInt32BE(1)
      if (len > MAX_FRAME) throw new Error(`attach: frame of ${len} bytes is over the ${MAX_FRAME}-byte limit`)
      if (this.buf.length < HEADER + len) break
      out.push({ type: this.buf[0], payload: Buffer.from(this.buf.subarray(HEADER, HEADER + len)) })
      this.buf = this.buf.subarray(HEADER + len)
    }
    if (this.buf.length === 0) this.buf = Buffer.alloc(0)
    return out
  }
}

/**
 * Docker's and podman's detach keys, Ctrl-P Ctrl-Q: a filter over terminal
 * input. A lone Ctrl-P is held until the next byte shows it is not the start
 * of the sequence, then passed on.
 */
export class DetachKeys {
  private held = false
  static readonly KEYS = Buffer.from([0x10, 0x11])

  /** `data` to forward, and whether the sequence was typed (forward nothing after it). */
  push(chunk: Buffer): { data: Buffer; detach: boolean } {
    const out: number[] = []
    for (const byte of chunk) {
      if (this.held) {
        this.held = false
        if (byte === 0x11) return { data: Buffer.from(out), detach: true }
        out.push(0x10)
      }
      if (byte === 0x10) this.held = true
      else out.push(byte)
    }
    return { data: Buffer.from(out), detach: false }
  }
}
