// A fake of the addon seam (src/spawn: `Native`, installed with `useNative`):
// unit tests run namespace, mount and capability planning, and the code that
// calls mount/umount/flock/pipe, without root and without the built addon.
// The constants are Linux's and native/report.h's; test/unit/spawn/native.test.ts
// holds them against the real addon. Every call is recorded; a test replaces
// any method (e.g. one that throws `nativeError('EPERM', 'mount')`).
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { constants, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Native, NativeError } from '../../src/spawn/index.js'

/** native/report.h's step list, in order (ids are the positions). */
const STEP_NAMES = [
  'spawn.plan',
  'spawn.pipe',
  'spawn.pidns',
  'spawn.clone',
  'child.pdeathsig',
  'child.cgroup',
  'child.setns',
  'child.root',
  'child.unshare',
  'child.setsid',
  'child.hostname',
  'child.loopback',
  'child.mount',
  'child.chdir',
  'child.rlimit',
  'child.tty',
  'child.capbset',
  'child.setgroups',
  'child.setgid',
  'child.setuid',
  'child.capset',
  'child.no-new-privs',
  'child.signals',
  'child.stdio',
  'child.seccomp',
  'child.exec',
]

/** mount(2)'s MS_* values (linux/mount.h). */
export const MOUNT_FLAGS: Native['mountFlags'] = {
  MS_RDONLY: 1,
  MS_NOSUID: 2,
  MS_NODEV: 4,
  MS_NOEXEC: 8,
  MS_REMOUNT: 32,
  MS_BIND: 4096,
  MS_MOVE: 8192,
  MS_REC: 16384,
  MS_PRIVATE: 1 << 18,
  MS_SLAVE: 1 << 19,
  MS_SHARED: 1 << 20,
  MS_STRICTATIME: 1 << 24,
}

/** The error shape the addon throws for a failed syscall. */
export function nativeError(code: keyof typeof constants.errno, syscall: string): NativeError {
  const errno = constants.errno[code]
  return Object.assign(new Error(`${code}: ${syscall} failed`), { errno, code, syscall })
}

/** All 41 capabilities of Linux 5.9+ (CAP_CHOWN 0 to CAP_CHECKPOINT_RESTORE 40), as root holds them. */
export const ALL_CAPS = (1n << 41n) - 1n

export interface FakeNative extends Native {
  /** Every method call, in order: [method, ...args]. */
  calls: [string, ...unknown[]][]
}

/**
 * A `Native` that makes nothing: fds are counted from 1000, mounts succeed,
 * locks are free, spawn is refused. `over` replaces methods or facts
 * (e.g. `permittedCaps: () => 0n` for a runner without capabilities).
 */
export function fakeNative(over: Partial<Native> = {}): FakeNative {
  const calls: [string, ...unknown[]][] = []
  let nextFd = 1000
  const fd = () => nextFd++
  const base: Native = {
    steps: Object.fromEntries(STEP_NAMES.map((name, i) => [name, i])),
    namespaces: ['user', 'ipc', 'uts', 'net', 'pid', 'cgroup', 'time', 'mnt'],
    mountFlags: MOUNT_FLAGS,
    spawn: () => {
      throw new Error('fake native: spawn needs a real kernel (an integration test)')
    },
    watch: () => {},
    signal: () => 0,
    pidfdOpen: fd,
    pipe: () => [fd(), fd()],
    socketpair: () => [fd(), fd()],
    recvFd: fd,
    setWinsize: () => 0,
    getWinsize: () => ({ rows: 24, cols: 80 }),
    flock: () => true,
    mount: () => {},
    umount: () => 0,
    hasClone3: () => true,
    compileSeccomp: () => ({ bpf: Buffer.alloc(8), unknown: [] }),
    seccompVersion: () => '2.5.4',
    mknod: () => {},
    lsetxattr: () => {},
    lgetxattr: () => null,
    netnsSocket: fd,
    capLast: () => 40,
    permittedCaps: () => ALL_CAPS,
  }
  const merged = { ...base, ...over }
  const recorded = Object.fromEntries(
    Object.entries(merged).map(([name, v]) =>
      typeof v === 'function'
        ? [
            name,
            (...args: unknown[]) => {
              calls.push([name, ...args])
              return (v as (...a: unknown[]) => unknown)(...args)
            },
          ]
        : [name, v],
    ),
  ) as unknown as Native
  return Object.assign(recorded, { calls })
}

/**
 * `spawn` and `watch` of a child that fails at `step` the way native/spawn.c
 * reports it: the record (step id, errno, arg) is read from a real fd, the
 * child "exits" 127. For the code that decodes failures, without root.
 */
export function failingChild(step: string, code: keyof typeof constants.errno, arg: number): Pick<Native, 'spawn' | 'watch'> {
  return {
    spawn: () => {
      const dir = mkdtempSync(join(tmpdir(), 'pl-fake-child-'))
      const file = join(dir, 'report')
      const record = Buffer.alloc(12)
      record.writeInt32LE(STEP_NAMES.indexOf(step), 0)
      record.writeInt32LE(constants.errno[code], 4)
      record.writeInt32LE(arg, 8)
      writeFileSync(file, record)
      const reportFd = openSync(file, 'r')
      rmSync(dir, { recursive: true })
      return { pid: 4_000_000, pidfd: openSync('/dev/null', 'r'), goFd: openSync('/dev/null', 'w'), reportFd, intoCgroup: false }
    },
    watch: (_pidfd, cb) => setImmediate(() => cb(127, null, null)),
  }
}
