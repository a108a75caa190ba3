// The binary process plan (native/plan-codec.h decodes it: the addon and the
// shim share that one decoder). "PLN1", then records: u8 tag, u32 big-endian
// length, payload; strings carry their NUL. A namespace to join is an fd, or
// (fd -1) a reference the executor resolves: the shim maps
// `/proc/<pause>/ns/<type>` to its pause's namespaces. docs/shim.md has the table.
import { PodError } from '../errors.js'
import type { NativeMount, NativePlan, NsType } from './native.js'

export const PLAN_TAG = {
  FILE: 1,
  ARG: 2,
  ENV: 3,
  SEARCH_PATH: 4,
  CWD: 5,
  JOIN: 6,
  PIDNS: 7,
  UNSHARE: 8,
  HOSTNAME: 9,
  FLAGS: 10,
  MOUNT: 11,
  NOFILE: 12,
  IDENTITY: 13,
  SECCOMP: 14,
  STDIO: 15,
  TTY: 16,
  CGROUP_FD: 17,
  CGROUP_TASK: 18,
  ROOT_FD: 19,
} as const

const FLAG = { loopback: 1, newSession: 2, dieWithParent: 4, noNewPrivs: 8, legacyClone: 16 } as const
const MOUNT_KINDS: NonNullable<NativeMount['kind']>[] = ['mount', 'mkdir', 'file', 'symlink', 'pivot', 'write', 'mask']

/** A plan whose namespaces are named, not open: `ref` is resolved by whoever executes it. */
export type PlanToEncode = Omit<NativePlan, 'join' | 'pidns' | 'stdio'> & {
  join?: { type: NsType; fd: number; ref?: string }[]
  pidns?: number | { ref: string }
  stdio?: [number, number, number]
}

/**
 * Records in the codec's shape: u8 tag, u32 BE length, payload. Written into
 * one growing buffer (a plan of the `host` image is ~100 mount records: no
 * Buffer per field).
 */
export class RecordWriter {
  private buf = Buffer.allocUnsafe(4096)
  private off = 0

  private room(n: number): void {
    if (this.off + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.off + n))
    this.buf.copy(next, 0, 0, this.off)
    this.buf = next
  }

  /** Start a record: its tag, and room for its length, filled in by end(). */
  begin(tag: number): number {
    this.room(5)
    this.buf[this.off] = tag
    this.off += 5
    return this.off
  }

  /** End the record begin() returned `start` for. */
  end(start: number): this {
    this.buf.writeUInt32BE(this.off - start, start - 4)
    return this
  }

  raw(b: Uint8Array): this {
    this.room(b.length)
    this.buf.set(b, this.off)
    this.off += b.length
    return this
  }

  rawU8(v: number): this {
    this.room(1)
    this.buf[this.off++] = v
    return this
  }

  rawU16(v: number): this {
    this.room(2)
    this.off = this.buf.writeUInt16BE(v, this.off)
    return this
  }

  rawU32(v: number): this {
    this.room(4)
    this.off = this.buf.writeUInt32BE(v >>> 0, this.off)
    return this
  }

  rawI32(v: number): this {
    this.room(4)
    this.off = this.buf.writeInt32BE(v, this.off)
    return this
  }

  rawU64(v: bigint): this {
    this.room(8)
    this.off = this.buf.writeBigUInt64BE(v, this.off)
    return this
  }

  /** `s` in UTF-8 with its NUL. Throws `spawn.plan` for a NUL inside. */
  rawCString(s: string): this {
    checkNul(s)
    this.room(s.length * 3 + 1)
    this.off += this.buf.write(s, this.off, 'utf8')
    this.buf[this.off++] = 0
    return this
  }

  /** A string field inside a record: u32 length (0 = absent), the bytes with their NUL. */
  rawSub(s: string | undefined): this {
    if (s === undefined) return this.rawU32(0)
    this.rawU32(0)
    const at = this.off
    this.rawCString(s)
    this.buf.writeUInt32BE(this.off - at, at - 4)
    return this
  }

  bytes(tag: number, payload: Uint8Array): this {
    const at = this.begin(tag)
    return this.raw(payload).end(at)
  }

  str(tag: number, s: string): this {
    const at = this.begin(tag)
    return this.rawCString(s).end(at)
  }

  u8(tag: number, v: number | boolean): this {
    const at = this.begin(tag)
    return this.rawU8(Number(v)).end(at)
  }

  u16(tag: number, v: number): this {
    const at = this.begin(tag)
    return this.rawU16(v).end(at)
  }

  u32(tag: number, v: number): this {
    const at = this.begin(tag)
    return this.rawU32(v).end(at)
  }

  u64(tag: number, v: bigint): this {
    const at = this.begin(tag)
    return this.rawU64(v).end(at)
  }

  done(prefix?: string): Buffer {
    const body = this.buf.subarray(0, this.off)
    return prefix ? Buffer.concat([Buffer.from(prefix), body]) : Buffer.from(body)
  }
}

function checkNul(s: string): void {
  if (s.includes('\0')) throw new PodError(`spawn.plan: ${JSON.stringify(s.slice(0, 40))}: contains a NUL byte`, { step: 'spawn.plan', code: 'EINVAL' })
}

/** `s` with its NUL; a NUL inside cannot cross to C. Throws `spawn.plan`. */
export function cString(s: string): Buffer {
  checkNul(s)
  return Buffer.from(`${s}\0`)
}

function mountRecord(w: RecordWriter, m: NativeMount, i: number): void {
  const kind = MOUNT_KINDS.indexOf(m.kind ?? 'mount')
  if (kind < 0) throw new PodError(`spawn.plan: mounts[${i}].kind: unknown ${String(m.kind)}`, { step: 'spawn.plan', code: 'EINVAL' })
  const at = w.begin(PLAN_TAG.MOUNT)
  w.rawU8(kind)
    .rawU8(m.optional ? 1 : 0)
    .rawU32(m.mode ?? 0o755)
    .rawU64(BigInt(m.flags ?? 0))
    .rawSub(m.source)
    .rawSub(m.target)
    .rawSub(m.fstype)
    .rawSub(m.data)
    .end(at)
}

/** Encode a plan for native/plan-codec.c. Throws `spawn.plan` for what C cannot carry. */
export function encodePlan(p: PlanToEncode): Buffer {
  const w = new RecordWriter()
  let at: number
  if (p.file !== undefined) w.str(PLAN_TAG.FILE, p.file)
  for (const a of p.argv) w.str(PLAN_TAG.ARG, a)
  for (const e of p.envp) w.str(PLAN_TAG.ENV, e)
  if (p.searchPath !== undefined) w.str(PLAN_TAG.SEARCH_PATH, p.searchPath)
  if (p.cwd !== undefined) w.str(PLAN_TAG.CWD, p.cwd)
  for (const j of p.join ?? []) {
    at = w.begin(PLAN_TAG.JOIN)
    w.rawI32(j.fd)
      .rawCString(j.type)
      .rawCString(j.ref ?? '')
      .end(at)
  }
  if (p.rootFd !== undefined) {
    at = w.begin(PLAN_TAG.ROOT_FD)
    w.rawI32(p.rootFd).end(at)
  }
  if (p.pidns !== undefined) {
    at = w.begin(PLAN_TAG.PIDNS)
    if (typeof p.pidns === 'number') w.rawI32(p.pidns).rawCString('')
    else w.rawI32(-1).rawCString(p.pidns.ref)
    w.end(at)
  }
  for (const u of p.unshare ?? []) w.str(PLAN_TAG.UNSHARE, u)
  if (p.hostname !== undefined) w.str(PLAN_TAG.HOSTNAME, p.hostname)
  const flags = (Object.keys(FLAG) as (keyof typeof FLAG)[]).reduce((f, k) => (p[k] ? f | FLAG[k] : f), 0)
  w.u32(PLAN_TAG.FLAGS, flags)
  const mounts = p.mounts ?? []
  for (let i = 0; i < mounts.length; i++) mountRecord(w, mounts[i], i)
  if (p.nofileSoft !== undefined) w.u64(PLAN_TAG.NOFILE, BigInt(p.nofileSoft))
  if (p.identity) {
    const id = p.identity
    at = w.begin(PLAN_TAG.IDENTITY)
    w.rawU32(id.uid).rawU32(id.gid).rawU64(BigInt(id.capBounding)).rawU64(BigInt(id.capEffective))
    for (const g of id.groups) w.rawU32(g)
    w.end(at)
  }
  if (p.seccomp) w.bytes(PLAN_TAG.SECCOMP, p.seccomp)
  if (p.stdio) {
    at = w.begin(PLAN_TAG.STDIO)
    for (const fd of p.stdio) w.rawI32(fd)
    w.end(at)
  }
  if (p.tty) {
    at = w.begin(PLAN_TAG.TTY)
    w.rawI32(p.tty.socket)
      .rawU16(p.tty.rows)
      .rawU16(p.tty.cols)
      .rawU8(p.tty.console === false ? 0 : 1)
      .end(at)
  }
  if (p.cgroupFd !== undefined) {
    at = w.begin(PLAN_TAG.CGROUP_FD)
    w.rawI32(p.cgroupFd).end(at)
  }
  for (const fd of p.cgroupTasks ?? []) {
    at = w.begin(PLAN_TAG.CGROUP_TASK)
    w.rawI32(fd).end(at)
  }
  return w.done('PLN1')
}
