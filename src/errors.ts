// PodError: the one error shape of pod-launch (`<step>: <object>: <reason>` + hint).
import { constants as osConstants } from 'node:os'
import { getSystemErrorMap } from 'node:util'

export interface PodErrorFields {
  step: string
  code?: string
  errno?: number
  syscall?: string
  path?: string
  hint?: string
  cause?: unknown
  /** A child's failure (child.*): the index into the plan list its step worked on (mounts[i] for child.mount). */
  planIndex?: number
  /** Exit code the CLI uses: 2 for bad input or usage, 1 otherwise. */
  exitCode?: number
}

/** Hints a user can act on, by `step code` (or `step` alone, or `* code`). */
const HINTS: Record<string, string> = {
  'child.exec ENOENT': 'check the command: the executable does not exist in the container, or is not on its PATH',
  'child.exec EACCES': 'the file is not executable (chmod +x), or a directory on its path is not searchable',
  'child.exec ENOEXEC': 'the file is not a program this kernel can run (a script needs a #! line)',
  'child.chdir ENOENT': 'workingDir must be a directory that exists in the container',
  'child.chdir ENOTDIR': 'workingDir must be a directory, not a file',
  'child.mount ENOENT': 'the source of a mount is missing: check the volume and the image',
  'child.mount EROFS': 'the target lies on a read-only filesystem (readOnlyRootFilesystem, or a read-only volume)',
  'child.seccomp EACCES': 'loading a seccomp filter without no_new_privs needs CAP_SYS_ADMIN: run as root, or set allowPrivilegeEscalation: false',
  'child.seccomp EINVAL': 'the kernel rejected the compiled filter: check `pod-launch check` (seccomp) and the profile',
  'child.tty ENOENT': "the container's /dev/ptmx (its own devpts) is missing or hidden, e.g. by a volume mounted on /dev or /dev/pts",
  'child.tty ENOSPC': 'no pseudo-terminal left: raise /proc/sys/kernel/pty/max',
  'child.setns EINVAL': 'the namespace does not match its type, or the process that held it is gone',
  'child.setns EBADF': 'the namespace fd was closed before the child joined it (the pod was being torn down)',
  'spawn.pidns EINVAL': 'the pod pid namespace is gone: its pause process has exited',
  'cgroup.detect ENOENT': 'mount cgroup2 at /sys/fs/cgroup (or the v1 controllers under it); see /proc/self/mountinfo',
  'cgroup.plan ENOTSUP':
    "this host lacks that controller: drop the resource from the manifest, or enable the controller (v2: the parent's cgroup.subtree_control; v1: mount it)",
  'cgroup.plan EINVAL':
    'container names and the pod uid become cgroup directory names: letters, digits, ".", "_", "-"; ' +
    '"pause", "pod" and "tasks" are reserved: rename the container',
  'cgroup.mkdir EACCES': 'run as root, with the cgroup filesystem mounted read-write',
  'cgroup.mkdir EPERM': 'run as root, with the cgroup filesystem mounted read-write',
  'cgroup.mkdir EROFS': 'the cgroup filesystem is mounted read-only (inside a container?): mount it read-write or run on the host',
  'cgroup.mkdir ENOENT': 'the parent cgroup does not exist: is that hierarchy mounted?',
  'cgroup.write ENOENT': "the controller is not enabled for this cgroup: on v2 add it to the parent's cgroup.subtree_control; on v1 check that it is mounted",
  'cgroup.write EINVAL': "the kernel rejected this value for this file (malformed, or out of range: on v1 a child's cfs quota may not exceed its parent's)",
  'cgroup.write EBUSY':
    'on v2 controllers cannot be enabled in a cgroup that holds processes (move them to a leaf); on v1 a memory limit below current usage is refused',
  'cgroup.write ENOTSUP': 'the controller cannot be enabled here (a threaded cgroup, or a realtime process outside the root blocks the cpu controller)',
  'cgroup.write EACCES': 'run as root, with the cgroup filesystem mounted read-write',
  'cgroup.write EPERM': 'run as root, with the cgroup filesystem mounted read-write',
  'cgroup.enter ESRCH': 'the process exited before it could be placed in its cgroup',
  'cgroup.enter EBUSY': 'on v2 a process may only join a leaf cgroup: this one has controllers enabled in its cgroup.subtree_control',
  'cgroup.enter ENOENT': 'the pod cgroup is gone: was the pod removed?',
  'cgroup.enter EPERM': 'run as root: moving a process between cgroups needs write access to cgroup.procs',
  'cgroup.kill EBUSY': 'a process survives SIGKILL (stuck in uninterruptible sleep, state D): see /proc/<pid>/stack; the pod cgroup stays until it exits',
  'cgroup.remove EBUSY': 'processes remain in the cgroup: kill them first (killAll), then remove',
  'state.* ENOSPC': "the state root's filesystem is full: free space on it (pod-launch rm the ended pods, pod-launch gc) or give --root on a larger one",
  'state.* EDQUOT': "the disk quota of the state root's filesystem is used up: free space on it (pod-launch rm the ended pods, pod-launch gc)",
  '* EPERM': 'run as root (sudo pod-launch ...): namespaces need CAP_SYS_ADMIN',
  'state.write ENOSPC': "the state root's filesystem is full: free space there (rm ended pods, their logs go with them)",
  '* ENOSPC': 'a namespace limit was reached: see /proc/sys/user/max_*_namespaces',
  'spec.invalid': 'fix the manifest fields listed above; see the Kubernetes Pod reference',
}

export function hintFor(step: string, code?: string): string | undefined {
  if (!code) return HINTS[step]
  return HINTS[`${step} ${code}`] ?? HINTS[step] ?? HINTS[`${step.split('.')[0]}.* ${code}`] ?? HINTS[`* ${code}`]
}

/** Descriptions libuv's map lacks (strerror(3) wording, lower case). */
const EXTRA_DESCRIPTIONS: Record<string, string> = {
  ENOEXEC: 'exec format error',
  ECHILD: 'no child processes',
  ESRCH: 'no such process',
  EUSERS: 'too many users',
}

/** `[code, description]` of an errno, e.g. `['ENOENT', 'no such file or directory']`. */
export function errnoName(errno: number): [string, string] {
  const n = Math.abs(errno)
  const entry = getSystemErrorMap().get(-n)
  if (entry) return [entry[0], entry[1]]
  const name = Object.entries(osConstants.errno).find(([, v]) => v === n)?.[0]
  return name ? [name, EXTRA_DESCRIPTIONS[name] ?? `error ${n}`] : [`E${n}`, `error ${n}`]
}

export class PodError extends Error {
  readonly step: string
  readonly code?: string
  readonly errno?: number
  readonly syscall?: string
  readonly path?: string
  readonly hint?: string
  readonly planIndex?: number
  readonly exitCode: number
  /** The container whose start failed, when there is one. */
  container?: string

  constructor(message: string, fields: PodErrorFields) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause })
    this.name = 'PodError'
    this.step = fields.step
    this.code = fields.code
    this.errno = fields.errno
    this.syscall = fields.syscall
    this.path = fields.path
    this.planIndex = fields.planIndex
    this.exitCode = fields.exitCode ?? 1
    this.hint = fields.hint ?? hintFor(fields.step, fields.code)
  }

  /** `<step>: <object>: <description> (<CODE>)` from an errno. */
  static fromErrno(step: string, errno: number, object: string, extra: Partial<PodErrorFields> = {}): PodError {
    const [code, description] = errnoName(errno)
    return new PodError(`${step}: ${object}: ${description} (${code})`, { step, code, errno, path: object, ...extra })
  }

  /** Wrap a Node system error (fs, net, the addon) thrown at `step` on `object`. */
  static system(step: string, cause: unknown, object?: string, extra: Partial<PodErrorFields> = {}): PodError {
    const e = cause as NodeJS.ErrnoException
    if (typeof e?.errno === 'number') {
      return PodError.fromErrno(step, e.errno, object ?? e.path ?? '?', { syscall: e.syscall, cause, ...extra })
    }
    const reason = cause instanceof Error ? cause.message : String(cause)
    return new PodError(`${step}: ${object ? object + ': ' : ''}${reason}`, { step, cause, ...extra })
  }
}

/** One line for a warning: the error's message and, when it has one, its hint. */
export function describeFailure(e: unknown): string {
  return e instanceof PodError ? `${e.message}${e.hint ? ` (hint: ${e.hint})` : ''}` : e instanceof Error ? e.message : String(e)
}

/** Run `fn`, treating ENOENT as "already gone". */
export function ignoreEnoent<T>(fn: () => T): T | undefined {
  try {
    return fn()
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
}
