// The sandbox: pause in new uts, ipc and net namespaces (and pid when the pod
// shares its process namespace), holding them while containers come and go.
// hostNetwork / hostIPC / hostPID: that namespace stays the host's.
import type { PodCgroups } from '../cgroups/index.js'
import { PodError } from '../errors.js'
import type { PodSpec } from '../spec/index.js'
import { type NsType, spawnProcess, stopProcess, type ChildProcessHandle } from '../spawn/index.js'
import { closeAll, namespaceInodes, openNamespaces } from './namespaces.js'
import { bindPlan, planPause, sysctlPath, type SpawnPlan } from './plan.js'
import type { UndoStack } from './undo.js'

export interface Sandbox {
  pid: number
  process: ChildProcessHandle
  /** What pause was started with. */
  plan: SpawnPlan
  /** The namespaces containers join, opened before any container starts. */
  shared: Map<NsType, number>
  namespaces: Record<NsType, number>
}

function sysctlError(e: unknown, spec: PodSpec): unknown {
  if (!(e instanceof PodError) || e.step !== 'child.mount') return e
  const i = spec.securityContext.sysctls.findIndex(s => e.message.includes(sysctlPath(s.name)))
  if (i < 0) return e
  const s = spec.securityContext.sysctls[i]
  const why =
    e.code === 'ENOENT'
      ? 'this kernel has no such sysctl'
      : e.code === 'EINVAL'
        ? `the kernel refused the value "${s.value}"`
        : `the kernel refused it (${e.code})`
  return new PodError(`sandbox.sysctl: spec.securityContext.sysctls[${i}] (${s.name}=${s.value}): ${why}`, {
    step: 'sandbox.sysctl',
    code: e.code,
    path: sysctlPath(s.name),
    cause: e,
    hint: `check the name and value (inside a pod: cat ${sysctlPath(s.name)}); see sysctl(8)`,
  })
}

export async function startSandbox(spec: PodSpec, devNull: number, undo: UndoStack, dieWithParent: boolean, cgroups: PodCgroups): Promise<Sandbox> {
  const plan = planPause(spec)
  // A pause that inherits the caller's stdout could hold a test runner's
  // pipe open forever: it gets /dev/null.
  const bound = bindPlan(plan, { fdOf: noFds, stdio: [devNull, devNull, devNull], dieWithParent, cgroupFd: cgroups.cgroupFd('pause') })
  const pause = await spawnProcess(bound, { beforeGo: pid => cgroups.enter(pid, 'pause') }).catch(e => {
    throw sysctlError(e, spec)
  })
  // pause holds nothing to flush: SIGKILL (a SIGTERM sent before its handler is
  // installed would be ignored by a pid-1 pause).
  undo.push(`stop pause (pid ${pause.pid})`, () => stopProcess(pause, 0))
  const shared = openNamespaces(pause.pid, plan.unshare)
  undo.push('close namespace fds', () => closeAll(shared))
  return { pid: pause.pid, process: pause, plan, shared, namespaces: namespaceInodes(pause.pid) }
}

/** pause joins nothing: its plan names no namespace path. */
function noFds(path: string): number {
  throw new PodError(`plan.path: ${path}: pause joins no namespace`, { step: 'plan.path', code: 'EINVAL' })
}
