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

/** Records in the codec's shape: u8 tag, u32 BE length, payload. */
export class RecordWriter {
  private readonly parts: Buffer[] = []

  bytes(tag: number, payload: Buffer): this {
    const head = Buffer.alloc(5)
    head.writeUInt8(tag, 0)
    head.writeUInt32BE(payload.length, 1)
    this.parts.push(head, payload)
    return this
  }

  str(tag: number, s: string): this {
    return this.bytes(tag, cString(s))
  }

  u8(tag: number, v: number | boolean): this {
    return this.bytes(tag, Buffer.from([Number(v)]))
  }

  u16(tag: number, v: number): this {
    const b = Buffer.alloc(2)
    b.writeUInt16BE(v)
    return this.bytes(tag, b)
  }

  u32(tag: number, v: number): this {
    const b = Buffer.alloc(4)
    b.writeUInt32BE(v >>> 0)
    return this.bytes(tag, b)
  }

  u64(tag: number, v: bigint): this {
    const b = Buffer.alloc(8)
    b.writeBigUInt64BE(v)
    return this.bytes(tag, b)
  }

  done(prefix?: string): Buffer {
    return Buffer.concat(prefix ? [Buffer.from(prefix), ...this.parts] : this.parts)
  }
}

/** `s` with its NUL; a NUL inside cannot cross to C. Throws `spawn.plan`. */
export function cString(s: string): Buffer {
  if (s.includes('\0')) throw new PodError(`spawn.plan: ${JSON.stringify(s.slice(0, 40))}: contains a NUL byte`, { step: 'spawn.plan', code: 'EINVAL' })
  return Buffer.from(`${s}\0`)
}

const i32 = (v: number) => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(v)
  return b
}

/** A string field inside a record: u32 length (0 = absent), the bytes with their NUL. */
function sub(s: string | undefined): Buffer {
  if (s === undefined) return Buffer.alloc(4)
  const c = cString(s)
  return Buffer.concat([i32(c.length), c])
}

function mountRecord(m: NativeMount, i: number): Buffer {
  const kind = MOUNT_KINDS.indexOf(m.kind ?? 'mount')
  if (kind < 0) throw new PodError(`spawn.plan: mounts[${i}].kind: unknown ${String(m.kind)}`, { step: 'spawn.plan', code: 'EINVAL' })
  const head = Buffer.alloc(14)
  head.writeUInt8(kind, 0)
  head.writeUInt8(m.optional ? 1 : 0, 1)
  head.writeUInt32BE(m.mode ?? 0o755, 2)
  head.writeBigUInt64BE(BigInt(m.flags ?? 0), 6)
  return Buffer.concat([head, sub(m.source), sub(m.target), sub(m.fstype), sub(m.data)])
}

/** Encode a plan for native/plan-codec.c. Throws `spawn.plan` for what C cannot carry. */
export function encodePlan(p: PlanToEncode): Buffer {
  const w = new RecordWriter()
  if (p.file !== undefined) w.str(PLAN_TAG.FILE, p.file)
  for (const a of p.argv) w.str(PLAN_TAG.ARG, a)
  for (const e of p.envp) w.str(PLAN_TAG.ENV, e)
  if (p.searchPath !== undefined) w.str(PLAN_TAG.SEARCH_PATH, p.searchPath)
  if (p.cwd !== undefined) w.str(PLAN_TAG.CWD, p.cwd)
  for (const j of p.join ?? []) w.bytes(PLAN_TAG.JOIN, Buffer.concat([i32(j.fd), cString(j.type), cString(j.ref ?? '')]))
  if (p.rootFd !== undefined) w.bytes(PLAN_TAG.ROOT_FD, i32(p.rootFd))
  if (p.pidns !== undefined) {
    w.bytes(PLAN_TAG.PIDNS, typeof p.pidns === 'number' ? Buffer.concat([i32(p.pidns), cString('')]) : Buffer.concat([i32(-1), cString(p.pidns.ref)]))
  }
  for (const u of p.unshare ?? []) w.str(PLAN_TAG.UNSHARE, u)
  if (p.hostname !== undefined) w.str(PLAN_TAG.HOSTNAME, p.hostname)
  const flags = (Object.keys(FLAG) as (keyof typeof FLAG)[]).reduce((f, k) => (p[k] ? f | FLAG[k] : f), 0)
  w.u32(PLAN_TAG.FLAGS, flags)
  for (const [i, m] of (p.mounts ?? []).entries()) w.bytes(PLAN_TAG.MOUNT, mountRecord(m, i))
  if (p.nofileSoft !== undefined) w.u64(PLAN_TAG.NOFILE, BigInt(p.nofileSoft))
  if (p.identity) {
    const id = p.identity
    const head = Buffer.alloc(24)
    head.writeUInt32BE(id.uid, 0)
    head.writeUInt32BE(id.gid, 4)
    head.writeBigUInt64BE(BigInt(id.capBounding), 8)
    head.writeBigUInt64BE(BigInt(id.capEffective), 16)
    const groups = Buffer.alloc(4 * id.groups.length)
    id.groups.forEach((g, i) => groups.writeUInt32BE(g, 4 * i))
    w.bytes(PLAN_TAG.IDENTITY, Buffer.concat([head, groups]))
  }
  if (p.seccomp) w.bytes(PLAN_TAG.SECCOMP, p.seccomp)
  if (p.stdio) w.bytes(PLAN_TAG.STDIO, Buffer.concat(p.stdio.map(i32)))
  if (p.tty) {
    const t = Buffer.alloc(9)
    t.writeInt32BE(p.tty.socket, 0)
    t.writeUInt16BE(p.tty.rows, 4)
    t.writeUInt16BE(p.tty.cols, 6)
    t.writeUInt8(p.tty.console === false ? 0 : 1, 8)
    w.bytes(PLAN_TAG.TTY, t)
  }
  if (p.cgroupFd !== undefined) w.bytes(PLAN_TAG.CGROUP_FD, i32(p.cgroupFd))
  for (const fd of p.cgroupTasks ?? []) w.bytes(PLAN_TAG.CGROUP_TASK, i32(fd))
  return w.done('PLN1')
}
