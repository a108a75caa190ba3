// The shape of a process plan (pod/plan.ts builds them): plain, versioned
// JSON, namespace fds as references to named paths, and its binding to the
// addon's NativePlan at spawn time. Lives below pod/ so the pod record can
// store it.
import { readFileSync } from 'node:fs'
import { PodError } from '../errors.js'
import type { NativeMount, NativePlan, NsType } from './native.js'

/** The version of the SpawnPlan shape; a stored plan of another version is refused, not guessed at. */
export const PLAN_VERSION = 1

/** Placeholders in namespace paths: the pause process and the container's main process. */
export type PlanPid = 'pause' | 'container'
export const nsRef = (who: PlanPid, type: NsType): string => `/proc/<${who}>/ns/${type}`
const NS_REF = /^\/proc\/<(pause|container)>\/ns\/([a-z_]+)$/

/** A namespace joined with setns(2), by the path its fd is opened from. */
export interface PlanJoin {
  type: NsType
  path: string
}

/**
 * One process as the child will run it: NativePlan without the per-spawn
 * descriptors (stdio, tty socket, cgroup fd) and the parent-death choice,
 * fds as paths, the seccomp filter as base64.
 */
export interface SpawnPlan {
  version: typeof PLAN_VERSION
  file?: string
  argv: string[]
  envp: string[]
  searchPath?: string
  cwd: string
  join: PlanJoin[]
  /**
   * An exec's: after joining the namespaces, enter this process's root
   * directory (its /proc/PID/root, opened before the joins), as `nsenter
   * --root`. setns(mnt) alone lands at the root of the namespace's root
   * mount, which is not the container's root on a host whose init chrooted
   * instead of moving its root onto / (initramfs-only and chroot'ed hosts).
   * Only the container's: exec opens its /proc/PID/root; pause's namespaces
   * are joined from open fds, with no process path to take a root from.
   */
  root?: 'container'
  /** The pid namespace the parent places the child in (pid_for_children), by path. */
  pidns?: string
  unshare: NsType[]
  hostname?: string
  loopback?: boolean
  newSession: boolean
  mounts: NativeMount[]
  nofileSoft?: number
  identity?: NativePlan['identity']
  noNewPrivs?: boolean
  seccomp?: string
  /** A container's: the signal a graceful stop sends its main process first (then SIGKILL). Absent: SIGTERM. */
  stopSignal?: string
  /**
   * Values from Secrets never enter a plan (it is stored in pod.json and
   * printed by explain and inspect): `envp` (and `argv` when `argv` is set)
   * show stand-ins, and the real lists are in `file`, a JSON `{envp, argv}`
   * on the pod's tmpfs (state/layout.ts sealedFile), read at spawn.
   */
  sealed?: { file: string; argv: boolean }
}

/** What a sealed file holds: the real envp and argv of a container. */
export interface SealedLists {
  envp: string[]
  argv: string[]
}

/** The real envp and argv of a plan (its sealed file read, when it has one). Throws `plan.sealed`. */
export function unsealPlan(plan: SpawnPlan): Pick<SpawnPlan, 'envp' | 'argv' | 'file' | 'searchPath'> {
  if (!plan.sealed) return { envp: plan.envp, argv: plan.argv, file: plan.file, searchPath: plan.searchPath }
  const hint = 'the pod lost its secrets tmpfs: restart it (pod-launch rm --force, then run again)'
  let text: string
  try {
    text = readFileSync(plan.sealed.file, 'utf8')
  } catch (e) {
    throw PodError.system('plan.sealed', e, plan.sealed.file, { hint })
  }
  let lists: SealedLists
  try {
    lists = JSON.parse(text) as SealedLists
  } catch {
    // JSON.parse quotes the text it failed on: never a Secret's value in a message.
    throw new PodError(`plan.sealed: ${plan.sealed.file}: not a sealed env file`, { step: 'plan.sealed', code: 'EINVAL', hint })
  }
  const argv = plan.sealed.argv ? lists.argv : plan.argv
  // A PATH from a Secret: the plan has no searchPath, the sealed envp has it.
  const path = lists.envp.find(e => e.startsWith('PATH='))?.slice(5)
  return {
    envp: lists.envp,
    argv,
    file: plan.sealed.argv && plan.file === plan.argv[0] ? argv[0] : plan.file,
    searchPath: plan.searchPath ?? path,
  }
}

/** What only the spawn itself knows: fds behind the plan's paths, stdio, tty, cgroup. */
export interface PlanBindings {
  /** The open fd of a namespace path of the plan. */
  fdOf: (path: string) => number
  stdio: [number, number, number]
  tty?: NativePlan['tty']
  cgroupFd?: number
  cgroupTasks?: number[]
  /** The open directory behind the plan's `root`. */
  rootFd?: number
  dieWithParent: boolean
}

/** The namespace paths a plan names (to open them before the spawn). */
export function planPaths(plan: SpawnPlan): string[] {
  return [...plan.join.map(j => j.path), ...(plan.pidns ? [plan.pidns] : [])]
}

/** Which process and namespace a plan path names; throws `plan.path` for a path that is not a reference. */
export function parseNsRef(path: string): { who: PlanPid; type: NsType } {
  const m = NS_REF.exec(path)
  if (!m) throw new PodError(`plan.path: ${path}: not a namespace reference`, { step: 'plan.path', code: 'EINVAL' })
  return { who: m[1] as PlanPid, type: m[2] as NsType }
}

/** A stored plan, checked: the version this runtime executes. Throws `plan.version`. */
export function checkPlan(plan: unknown, who: string): SpawnPlan {
  const v = (plan as { version?: unknown } | undefined)?.version
  if (v !== PLAN_VERSION) {
    throw new PodError(`plan.version: ${who}: stored plan version ${String(v)}, this pod-launch runs version ${PLAN_VERSION}`, {
      step: 'plan.version',
      code: 'EINVAL',
      hint: 'restart the pod with this pod-launch',
    })
  }
  return plan as SpawnPlan
}

/** The NativePlan the addon executes: the plan with its paths bound to fds. */
export function bindPlan(plan: SpawnPlan, b: PlanBindings): NativePlan {
  const { version: _v, join, pidns, seccomp, sealed: _s, root, ...rest } = plan
  if (root && b.rootFd === undefined) {
    throw new PodError(`plan.path: /proc/<${root}>/root: not open`, { step: 'plan.path', code: 'EBADF' })
  }
  return {
    ...rest,
    ...unsealPlan(plan),
    join: join.map(j => ({ type: j.type, fd: b.fdOf(j.path) })),
    ...(root ? { rootFd: b.rootFd } : {}),
    ...(pidns ? { pidns: b.fdOf(pidns) } : {}),
    ...(seccomp ? { seccomp: Buffer.from(seccomp, 'base64') } : {}),
    stdio: b.stdio,
    ...(b.tty ? { tty: b.tty } : {}),
    ...(b.cgroupFd !== undefined ? { cgroupFd: b.cgroupFd } : {}),
    ...(b.cgroupTasks?.length ? { cgroupTasks: b.cgroupTasks } : {}),
    dieWithParent: b.dieWithParent,
  }
}
