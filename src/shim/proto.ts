// The shim's control protocol, TypeScript side (native/shim/proto.h is the
// C side; docs/shim.md the reference). Frames as the attach socket's (u8
// type, u32 BE length, payload); a control payload is a list of records in
// the plan codec's shape (u8 tag, u32 BE length, bytes).
import { RecordWriter } from '../spawn/index.js'

export const SHIM_PROTO_VERSION = 1

export const REQ = { HELLO: 1, START: 2, KILL: 3, STATUS: 4, WATCH: 5, REOPEN: 6, REMOVE: 7, SHUTDOWN: 8 } as const
export const REP = { OK: 0x81, ERR: 0x82, EVENT: 0x90 } as const

export const TAG = {
  VERSION: 1,
  PID: 2,
  NAME: 3,
  RUN: 4,
  ROLE: 5,
  CGROUP_PROCS: 6,
  CGROUP2_DIR: 7,
  OOM_FILE: 8,
  MEMORY_LIMITED: 9,
  IO: 10,
  LOG_PATH: 11,
  STDIN: 12,
  STDIN_ONCE: 13,
  TTY: 14,
  ROWS: 15,
  COLS: 16,
  PLAN: 17,
  STARTED_AT: 18,
  FINISHED_AT: 19,
  STATE: 20,
  EXIT_CODE: 21,
  SIGNAL: 22,
  OOM: 23,
  PROC: 24,
  MESSAGE: 25,
  STEP: 26,
  ERRNO: 27,
  ARG: 28,
  SENT: 29,
  LOG_DROPPED: 30,
} as const

/** A frame: type byte, u32 BE length, payload. */
export function frame(type: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5)
  head.writeUInt8(type, 0)
  head.writeUInt32BE(payload.length, 1)
  return Buffer.concat([head, payload])
}

export { RecordWriter }

/** The records of a payload, by tag (repeated tags keep every value in order). */
export class Records {
  private readonly byTag = new Map<number, Buffer[]>()

  constructor(payload: Buffer) {
    let pos = 0
    while (pos + 5 <= payload.length) {
      const tag = payload[pos]
      const len = payload.readUInt32BE(pos + 1)
      if (pos + 5 + len > payload.length) throw new Error('shim: truncated record')
      const list = this.byTag.get(tag) ?? []
      list.push(payload.subarray(pos + 5, pos + 5 + len))
      this.byTag.set(tag, list)
      pos += 5 + len
    }
    if (pos !== payload.length) throw new Error('shim: truncated record')
  }

  all(tag: number): Buffer[] {
    return this.byTag.get(tag) ?? []
  }

  private one(tag: number): Buffer | undefined {
    return this.byTag.get(tag)?.[0]
  }

  str(tag: number): string | undefined {
    const b = this.one(tag)
    return b && b.length > 0 ? b.subarray(0, b.length - 1).toString('utf8') : undefined
  }

  u8(tag: number): number | undefined {
    const b = this.one(tag)
    return b?.length === 1 ? b[0] : undefined
  }

  u32(tag: number): number | undefined {
    const b = this.one(tag)
    return b?.length === 4 ? b.readUInt32BE(0) : undefined
  }

  i32(tag: number): number | undefined {
    const b = this.one(tag)
    return b?.length === 4 ? b.readInt32BE(0) : undefined
  }

  u64(tag: number): bigint | undefined {
    const b = this.one(tag)
    return b?.length === 8 ? b.readBigUInt64BE(0) : undefined
  }
}

/** Reassemble frames from a stream (the attach protocol's FrameDecoder, with a larger limit for replies). */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0)
  constructor(private readonly max = 1 << 26) {}

  push(chunk: Buffer): { type: number; payload: Buffer }[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk
    const out: { type: number; payload: Buffer }[] = []
    while (this.buf.length >= 5) {
      const len = this.buf.readUInt32BE(1)
      if (len > this.max) throw new Error(`shim: frame of ${len} bytes`)
      if (this.buf.length < 5 + len) break
      out.push({ type: this.buf[0], payload: Buffer.from(this.buf.subarray(5, 5 + len)) })
      this.buf = this.buf.subarray(5 + len)
    }
    return out
  }
}

/** One process as the shim reports it (STATUS, EVENT). */
export interface ShimProc {
  name: string
  run: number
  pid: number
  role: 'pause' | 'container'
  running: boolean
  /** Its last START failed: there is no run to take over. */
  failed?: boolean
  startedAt: Date
  finishedAt?: Date
  exitCode?: number
  /** The killing signal number, 0 when it exited. */
  signal?: number
  oomKilled?: boolean
  /** Output the log could not take (a full disk), so far. */
  logDroppedBytes: number
}

const nsDate = (ns: bigint | undefined) => new Date(Number((ns ?? 0n) / 1_000_000n))

export function parseProc(payload: Buffer): ShimProc {
  const r = new Records(payload)
  const state = r.u8(TAG.STATE)
  const exited = state === 2
  return {
    name: r.str(TAG.NAME) ?? '',
    run: r.u32(TAG.RUN) ?? 0,
    pid: r.u32(TAG.PID) ?? 0,
    role: r.u8(TAG.ROLE) === 0 ? 'pause' : 'container',
    running: state === 1,
    ...(state === 3 && { failed: true }),
    startedAt: nsDate(r.u64(TAG.STARTED_AT)),
    ...(exited && {
      finishedAt: nsDate(r.u64(TAG.FINISHED_AT)),
      exitCode: r.u32(TAG.EXIT_CODE),
      signal: r.u32(TAG.SIGNAL),
      oomKilled: r.u8(TAG.OOM) === 1,
    }),
    logDroppedBytes: Number(r.u64(TAG.LOG_DROPPED) ?? 0n),
  }
}
