// The sandbox: pause in new uts, ipc and net namespaces (and pid when the pod
// shares its process namespace), holding them while containers come and go.
// hostNetwork / hostIPC / hostPID: that namespace stays the host's.
import type { PodCgroups } from '../cgroups/index.js'
import type { PodSpec } from '../spec/index.js'
import { pausePath, type NsType } from '../spawn/native.js'
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

export async function startSandbox(spec: PodSpec, devNull: number, undo: UndoStack, dieWithParent: boolean, cgroups: PodCgroups): Promise<Sandbox> {
  const unshare = sandboxNamespaces(spec)
  const process = await spawnProcess({
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
  }, { beforeGo: pid => cgroups.enter(pid, 'pause') })
  // pause holds nothing to flush: SIGKILL (a SIGTERM sent before its handler is
  // installed would be ignored by a pid-1 pause).
  undo.push(`stop pause (pid ${process.pid})`, () => stopProcess(process, 0))
  const shared = openNamespaces(process.pid, unshare)
  undo.push('close namespace fds', () => closeAll(shared))
  return { pid: process.pid, process, shared, namespaces: namespaceInodes(process.pid) }
}
