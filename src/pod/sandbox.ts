// The sandbox: pause in new uts, ipc and net namespaces (and pid when the pod
// shares its process namespace), holding them while containers come and go.
// hostNetwork / hostIPC / hostPID: that namespace stays the host's.
import type { PodCgroups } from '../cgroups/index.js'
import { PodError } from '../errors.js'
import type { PodSpec, Sysctl } from '../spec/index.js'
import { pausePath, type NativeMount, type NsType } from '../spawn/native.js'
import { spawnProcess, stopProcess, type ChildProcessHandle } from '../spawn/process.js'
import { closeAll, namespaceInodes, openNamespaces } from './namespaces.js'
import type { UndoStack } from './undo.js'

export interface Sandbox {
  pid: number
  process: ChildProcessHandle
  /** The namespaces containers join, opened before any container starts. */
  shared: Map<NsType, number>
  namespaces: Record<NsType, number>
}

/** Namespaces pause makes (in join order). hostNetwork implies the host's uts too, as in Kubernetes. */
export function sandboxNamespaces(spec: PodSpec): NsType[] {
  const ns: NsType[] = []
  if (!spec.hostIPC) ns.push('ipc')
  if (!spec.hostNetwork) ns.push('uts', 'net')
  if (spec.shareProcessNamespace) ns.push('pid')
  return ns
}

/** /proc/sys path of a sysctl name (dots separate levels; a '/' inside a level, as in eth0/100, is a '.' in the file name). */
export const sysctlPath = (name: string) => `/proc/sys/${name.replace(/[./]/g, ch => (ch === '.' ? '/' : '.'))}`

/**
 * spec.securityContext.sysctls, written by pause's child right after it made
 * the pod's namespaces, before pause runs: /proc/sys/net and the ipc sysctls
 * resolve to the namespaces of the process that opens them, as runc relies on.
 */
export function sysctlWrites(sysctls: readonly Sysctl[]): NativeMount[] {
  return sysctls.map(s => ({ kind: 'write', source: s.value, target: sysctlPath(s.name) }))
}

function sysctlError(e: unknown, spec: PodSpec): unknown {
  if (!(e instanceof PodError) || e.step !== 'child.mount') return e
  const i = spec.securityContext.sysctls.findIndex(s => e.message.includes(sysctlPath(s.name)))
  if (i < 0) return e
  const s = spec.securityContext.sysctls[i]
  const why = e.code === 'ENOENT' ? 'this kernel has no such sysctl' : e.code === 'EINVAL' ? `the kernel refused the value "${s.value}"` : `the kernel refused it (${e.code})`
  return new PodError(`sandbox.sysctl: spec.securityContext.sysctls[${i}] (${s.name}=${s.value}): ${why}`, {
    step: 'sandbox.sysctl',
    code: e.code,
    path: sysctlPath(s.name),
    cause: e,
    hint: `check the name and value (inside a pod: cat ${sysctlPath(s.name)}); see sysctl(8)`,
  })
}

export async function startSandbox(spec: PodSpec, devNull: number, undo: UndoStack, dieWithParent: boolean, cgroups: PodCgroups): Promise<Sandbox> {
  const unshare = sandboxNamespaces(spec)
  const process = await spawnProcess({
    mounts: sysctlWrites(spec.securityContext.sysctls),
    argv: [pausePath()],
    envp: [],
    unshare,
    hostname: unshare.includes('uts') ? spec.hostname : undefined,
    loopback: unshare.includes('net'),
    newSession: true,
    dieWithParent,
    cwd: '/',
    // A pause that inherits the caller's stdout could hold a test runner's
    // pipe open forever: it gets /dev/null.
    stdio: [devNull, devNull, devNull],
    cgroupFd: cgroups.cgroupFd('pause'),
  }, { beforeGo: pid => cgroups.enter(pid, 'pause') }).catch(e => {
    throw sysctlError(e, spec)
  })
  // pause holds nothing to flush: SIGKILL (a SIGTERM sent before its handler is
  // installed would be ignored by a pid-1 pause).
  undo.push(`stop pause (pid ${process.pid})`, () => stopProcess(process, 0))
  const shared = openNamespaces(process.pid, unshare)
  undo.push('close namespace fds', () => closeAll(shared))
  return { pid: process.pid, process, shared, namespaces: namespaceInodes(process.pid) }
}
