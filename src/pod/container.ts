// One container: joins pause's uts/ipc/net (and pid when shared), gets its
// own mnt (and pid) namespace with a private /proc, runs the argv.
import { closeSync } from 'node:fs'
import type { ContainerSpec, PodSpec } from '../spec/index.js'
import { DEFAULT_PATH } from '../spec/index.js'
import { native, type NativeMount, type NativePlan, type NsType } from '../spawn/native.js'
import { spawnProcess, type ChildProcessHandle } from '../spawn/process.js'
import { namespaceInodes } from './namespaces.js'
import { readLines, type OutputLine, type Stream } from './output.js'
import { sharedPath, type Sandbox } from './sandbox.js'

export interface RunningContainer {
  spec: ContainerSpec
  pid: number
  process: ChildProcessHandle
  startedAt: Date
  namespaces: Record<NsType, number>
  /** Resolves when both output pipes reached EOF. */
  outputDone: Promise<void>
  destroyOutput: () => void
}

/** Container environment as the CRI runtimes build it: PATH, HOSTNAME, HOME, then the spec's. */
export function containerEnv(pod: PodSpec, c: ContainerSpec): string[] {
  const env = new Map<string, string>([
    ['PATH', DEFAULT_PATH],
    ['HOSTNAME', pod.hostname],
    ['HOME', '/root'],
  ])
  for (const e of c.env) env.set(e.name, e.value)
  return [...env].map(([k, v]) => `${k}=${v}`)
}

/** The flat plan a container's child executes (pure, apart from the fds given). */
export function containerPlan(pod: PodSpec, c: ContainerSpec, sandbox: Pick<Sandbox, 'shared'>, stdio: [number, number, number]): NativePlan {
  const { mountFlags: f, namespaces: order } = native()
  const envp = containerEnv(pod, c)
  const path = envp.find(e => e.startsWith('PATH='))!.slice(5)
  const join = order.filter(t => t !== 'pid' && sandbox.shared.has(t)).map(type => ({ type, fd: sandbox.shared.get(type)! }))
  const mounts: NativeMount[] = [
    // Nothing this container mounts may propagate back to the host.
    { target: '/', flags: f.MS_REC | f.MS_PRIVATE },
    // A /proc of the container's own pid namespace (pid 1 = its process, or pause when shared).
    { source: 'proc', target: '/proc', fstype: 'proc', flags: f.MS_NOSUID | f.MS_NODEV | f.MS_NOEXEC },
  ]
  return {
    file: c.argv[0],
    argv: c.argv,
    envp,
    searchPath: path,
    cwd: c.workingDir,
    join,
    unshare: pod.shareProcessNamespace ? ['mnt'] : ['mnt', 'pid'],
    pidns: sandbox.shared.get('pid'),
    newSession: true,
    // Foreground: if this process dies, so does the pod (nothing is orphaned).
    dieWithParent: true,
    mounts,
    stdio,
  }
}

export async function startContainer(
  pod: PodSpec,
  c: ContainerSpec,
  sandbox: Sandbox,
  devNull: number,
  onLine: (line: OutputLine) => void,
): Promise<RunningContainer> {
  const { pipe } = native()
  const out = pipe()
  let err: [number, number]
  try {
    err = pipe()
  } catch (e) {
    out.forEach(fd => closeSync(fd))
    throw e
  }
  const readers = ([['stdout', out[0]], ['stderr', err[0]]] as [Stream, number][]).map(([stream, fd]) =>
    readLines(fd, line => onLine({ container: c.name, stream, line })),
  )
  const destroyOutput = () => readers.forEach(r => r.destroy())
  const plan = containerPlan(pod, c, sandbox, [devNull, out[1], err[1]])
  let process: ChildProcessHandle
  try {
    process = await spawnProcess(plan, { paths: { join: plan.join!.map(j => sharedPath(sandbox, j.type)) } })
  } catch (e) {
    destroyOutput()
    throw e
  } finally {
    closeSync(out[1]) // the child holds its own copies now
    closeSync(err[1])
  }
  let namespaces: Record<NsType, number>
  try {
    namespaces = namespaceInodes(process.pid)
  } catch {
    namespaces = {} as Record<NsType, number> // exited already: a zombie has no ns files
  }
  return {
    spec: c,
    pid: process.pid,
    process,
    startedAt: new Date(),
    namespaces,
    outputDone: Promise.all(readers.map(r => r.done)).then(() => undefined),
    destroyOutput,
  }
}
