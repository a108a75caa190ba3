// The seam between TypeScript and the kernel calls Node lacks: the typed
// surface of the addon (native/addon.cc and its parts, native/addon.h) plus the
// capability facts of this process, as one interface (`Native`) that
// `native()` returns and unit tests replace with a fake (`useNative`), as
// youki's Syscall trait. Also where the pause binary is.
import { createRequire } from 'node:module'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PodError } from '../errors.js'

export type NsType = 'user' | 'ipc' | 'uts' | 'net' | 'pid' | 'cgroup' | 'time' | 'mnt'

export interface NativeMount {
  /**
   * mount(2) (default), or make the mountpoint: mkdir, an empty file, a
   * symlink (source = link text); or write source to the existing file target
   * (a sysctl); or mask target (runc's maskPath: /dev/null over a file, an
   * empty read-only tmpfs over a directory, nothing when missing).
   */
  kind?: 'mount' | 'mkdir' | 'file' | 'symlink' | 'pivot' | 'write' | 'mask'
  /** Skip when the target does not exist (masked paths). */
  optional?: boolean
  mode?: number
  source?: string
  target: string
  fstype?: string
  flags?: number
  data?: string
}

/** The flat plan the child executes (see native/spawn.h for the order). */
export interface NativePlan {
  file?: string
  argv: string[]
  envp: string[]
  searchPath?: string
  cwd?: string
  join?: { type: NsType; fd: number }[]
  /**
   * A directory fd opened before the spawn (an exec: the container process's
   * /proc/PID/root): after the joins the child fchdirs to it and chroots
   * there, as `nsenter --root`; fails as `child.root`.
   */
  rootFd?: number
  unshare?: NsType[]
  pidns?: number
  hostname?: string
  loopback?: boolean
  newSession?: boolean
  /** SIGKILL the child when its parent (this process) dies. */
  dieWithParent?: boolean
  mounts?: NativeMount[]
  stdio: [number, number, number]
  /**
   * A pseudo-terminal made by the child in its own /dev after the mounts: the
   * master is sent back over `socket` (our socketpair end; `recvFd` on the
   * other), the slave becomes fds 0-2 and the controlling terminal (needs
   * newSession). rows/cols 0: size left unset. `console` (default true) also
   * binds the slave on /dev/console: false for an exec'd process (runc exec).
   */
  tty?: { socket: number; rows: number; cols: number; console?: boolean }
  legacyClone?: boolean
  /** Become this user, with these groups and capability sets (masks as decimal strings, bit n = cap n). */
  identity?: { uid: number; gid: number; groups: number[]; capBounding: string; capEffective: string }
  /** prctl(PR_SET_NO_NEW_PRIVS) before exec (allowPrivilegeEscalation: false). */
  noNewPrivs?: boolean
  /** Lower the soft RLIMIT_NOFILE to this (never raised, never above the hard limit). */
  nofileSoft?: number
  /**
   * A seccomp filter compiled by `compileSeccomp` (struct sock_filter bytes).
   * The child loads it before the identity change without noNewPrivs, else
   * as its last step before execve (runc's order); fails as `child.seccomp`.
   */
  seccomp?: Buffer
  /**
   * A cgroup2 directory fd (PodCgroups.cgroupFd): clone3 starts the child in
   * that cgroup (CLONE_INTO_CGROUP). Ignored by clone(2): write cgroup.procs
   * in beforeGo when `NativeSpawned.intoCgroup` is false.
   */
  cgroupFd?: number
  /**
   * cgroup v1 `tasks` files opened for writing (PodCgroups.spawnPlacement):
   * right after the go byte the child writes "0" to each, moving itself,
   * before anything else it does; fails as `child.cgroup` (arg: the index).
   */
  cgroupTasks?: number[]
}

/** A seccomp profile for libseccomp, already filtered by caps and arch. */
export interface NativeSeccompProfile {
  defaultAction: string
  defaultErrnoRet?: number
  /** OCI names (SCMP_ARCH_X86_64, ...) besides the native one. */
  architectures: string[]
  rules: { name: string; action: string; errnoRet?: number; args?: { index: number; value: string; valueTwo: string; op: string }[] }[]
}

export interface NativeSpawned {
  pid: number
  pidfd: number
  goFd: number
  reportFd: number
  /** clone3 placed the child in plan.cgroupFd's cgroup. */
  intoCgroup: boolean
}

/**
 * What every throwing method of `Native` throws: the failed syscall, with no
 * words of ours (`spawn` adds which of its steps failed). The caller words it
 * as `<step>: <object>: <reason>` with PodError.system(step, e, object).
 */
export interface NativeError extends Error {
  errno: number
  code: string
  syscall: string
  step?: string
}

/**
 * The addon's surface and this process's capability facts: the one interface
 * the runtime reaches the kernel through where Node cannot (fakeable in unit
 * tests: `useNative`). Methods throw `NativeError`; the few that return an
 * errno say so.
 */
export interface Native {
  /** Step ids of native/report.h by name (the child's failure record carries the id). */
  steps: Record<string, number>
  /** Namespace types in setns order (native/ns.c). */
  namespaces: NsType[]
  mountFlags: Record<
    | 'MS_RDONLY'
    | 'MS_NOSUID'
    | 'MS_NODEV'
    | 'MS_NOEXEC'
    | 'MS_REMOUNT'
    | 'MS_BIND'
    | 'MS_MOVE'
    | 'MS_REC'
    | 'MS_PRIVATE'
    | 'MS_SLAVE'
    | 'MS_SHARED'
    | 'MS_STRICTATIME',
    number
  >
  /** Clone a child running `plan` (encodePlan of a NativePlan: native/plan-codec.c decodes it); throws `spawn.plan` or a NativeError with `step`. */
  spawn(plan: Buffer): NativeSpawned
  watch(pidfd: number, cb: (code: number | null, signal: number | null, error: Error | null) => void, ref?: boolean): void
  signal(pidfd: number, signal: number): number
  pidfdOpen(pid: number): number
  pipe(): [number, number]
  /** socketpair(AF_UNIX, SOCK_STREAM), both ends close-on-exec. */
  socketpair(): [number, number]
  /** The fd queued on a unix socket with SCM_RIGHTS (non-blocking). */
  recvFd(socket: number): number
  /** TIOCSWINSZ: 0 or the errno. */
  setWinsize(fd: number, rows: number, cols: number): number
  /** TIOCGWINSZ. */
  getWinsize(fd: number): { rows: number; cols: number }
  /** flock(2): take (non-blocking) or release an exclusive lock; false when held elsewhere. */
  flock(fd: number, exclusive: boolean): boolean
  /** mount(2) in our own mount namespace. */
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void
  /** umount2(2); 0 or the errno. */
  umount(target: string, detach: boolean): number
  hasClone3(): boolean | null
  /**
   * libseccomp: profile -> BPF (struct sock_filter bytes), and the syscall
   * names it does not know (skipped). A refusal carries `rule` (-1: the profile).
   */
  compileSeccomp(profile: NativeSeccompProfile): { bpf: Buffer; unknown: string[] }
  /** The libseccomp version linked in ("2.5.4"). */
  seccompVersion(): string
  /** mknod(2). */
  mknod(path: string, mode: number, major: number, minor: number): void
  /** lsetxattr(2). */
  lsetxattr(path: string, name: string, value: string | Buffer): void
  /** lgetxattr(2): the value, or null when not set. */
  lgetxattr(path: string, name: string): string | null
  /** A non-blocking, unconnected TCP socket made in the net namespace of `netnsFd` (family 4 or 6). */
  netnsSocket(netnsFd: number, family: 4 | 6): number
  /** The kernel's highest capability number (/proc/sys/kernel/cap_last_cap). */
  capLast(): number
  /** This process's permitted capability set: a child can keep no capability we do not hold (capset(2) EPERM). */
  permittedCaps(): bigint
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const buildDirs = ['build/Release', 'build/Debug'].map(d => join(packageRoot, d))

/** What the addon itself exports: `Native` without the facts read here. */
type AddonExports = Omit<Native, 'capLast' | 'permittedCaps'>

let lastCap: number | undefined
function capLast(fallback: number): number {
  if (lastCap === undefined) {
    try {
      lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim())
    } catch {
      lastCap = fallback
    }
  }
  return lastCap
}

let ownPermitted: bigint | undefined
function permittedCaps(): bigint {
  if (ownPermitted === undefined) {
    const m = /^CapPrm:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))
    ownPermitted = m ? BigInt(`0x${m[1]}`) : 0n
  }
  return ownPermitted
}

function load(): Native {
  const require = createRequire(import.meta.url)
  const tried: string[] = []
  for (const dir of buildDirs) {
    const file = join(dir, 'pod_launch.node')
    tried.push(file)
    // CAP_CHECKPOINT_RESTORE (40) is the last one Linux 5.9+ knows.
    if (existsSync(file)) return { ...(require(file) as AddonExports), capLast: () => capLast(40), permittedCaps }
  }
  throw new PodError(`native.load: pod_launch.node: not found (tried ${tried.join(', ')})`, {
    step: 'native.load',
    code: 'ENOENT',
    hint: 'build it: npm run build:native (needs g++, make, python3 and the Node headers)',
  })
}

let current: Native | undefined
/** The loaded addon (or the fake a test put in place); throws `native.load` once with the paths it tried. */
export function native(): Native {
  return (current ??= load())
}

/** Unit tests: make `native()` return `fake` until the returned function restores what was there. */
export function useNative(fake: Native): () => void {
  const before = current
  current = fake
  return () => {
    current = before
  }
}

/** Path of an executable built beside the addon (pause, pod-launch-shim). Throws `native.load`. */
function builtExecutable(name: string): string {
  for (const dir of buildDirs) {
    const file = join(dir, name)
    if (existsSync(file)) return file
  }
  throw new PodError(`native.load: ${name}: not found under ${buildDirs.join(', ')}`, {
    step: 'native.load',
    code: 'ENOENT',
    hint: 'build it: npm run build:native',
  })
}

/** Path of the pause executable built beside the addon. */
export const pausePath = (): string => builtExecutable('pause')

/** Path of the pod shim executable (native/shim) built beside the addon. */
export const shimPath = (): string => builtExecutable('pod-launch-shim')
