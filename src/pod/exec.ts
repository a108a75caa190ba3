// Run a command inside a running container (hooks now, `exec` later): the
// same native spawn, joining pause's shared namespaces plus the container's
// own mnt and pid namespaces. Output is captured (bounded); a timeout kills
// through the pidfd.
import { closeSync } from 'node:fs'
import { Socket } from 'node:net'
import { native, type NativePlan, type NsType } from '../spawn/native.js'
import { spawnProcess, type ExitStatus } from '../spawn/process.js'
import { CONTAINER_NOFILE_SOFT, envList, joinList } from './container.js'
import { closeAll, openNamespaces } from './namespaces.js'

export interface ExecTarget {
  /** pid of the container's main process (host view). */
  pid: number
  shared: Map<NsType, number>
  env: Map<string, string>
  workingDir: string
  devNull: number
  /** Place the exec'd process in the container's cgroup before it runs. */
  enter?: (pid: number) => void
  /** The container's user, capabilities and seccomp filter (exec'd processes get the same). */
  identity?: Pick<NativePlan, 'identity' | 'noNewPrivs' | 'seccomp'>
}

export interface ExecResult extends ExitStatus {
  output: string
  timedOut: boolean
}

const MAX_OUTPUT = 10 * 1024

function execPlan(target: ExecTarget, argv: string[], own: Map<NsType, number>, stdio: [number, number, number], dieWithParent: boolean): NativePlan {
  return {
    file: argv[0],
    argv,
    envp: envList(target.env),
    searchPath: target.env.get('PATH'),
    cwd: target.workingDir,
    join: joinList(target.shared, new Map([['mnt', own.get('mnt')!]])),
    // The container's pid namespace (pid_for_children of its main process).
    pidns: own.get('pid'),
    newSession: true,
    dieWithParent,
    stdio,
    nofileSoft: CONTAINER_NOFILE_SOFT,
    ...target.identity,
  }
}

/** Run `argv` in the container with our own stdio (`pod-launch exec`); resolves with its exit. */
export async function execAttached(target: ExecTarget, argv: string[]): Promise<ExitStatus> {
  const own = openNamespaces(target.pid, ['mnt', 'pid'])
  try {
    // Not in a new session: Ctrl-C on our terminal reaches it, as with `podman exec`.
    const child = await spawnProcess({ ...execPlan(target, argv, own, [0, 1, 2], true), newSession: false }, { beforeGo: target.enter })
    return await child.exited
  } finally {
    closeAll(own)
  }
}

export async function execInContainer(target: ExecTarget, argv: string[], timeoutMs: number): Promise<ExecResult> {
  const own = openNamespaces(target.pid, ['mnt', 'pid'])
  const [r, w] = native().pipe()
  let output = Buffer.alloc(0)
  const socket = new Socket({ fd: r, readable: true, writable: false })
  socket.on('data', (d: Buffer) => {
    if (output.length < MAX_OUTPUT) output = Buffer.concat([output, d]).subarray(0, MAX_OUTPUT)
  })
  socket.on('error', () => {})
  const drained = new Promise(resolve => socket.on('close', resolve))
  let writeEnd = w
  const closeWriteEnd = () => {
    if (writeEnd >= 0) closeSync(writeEnd)
    writeEnd = -1
  }
  try {
    const child = await spawnProcess(execPlan(target, argv, own, [target.devNull, w, w], true), { beforeGo: target.enter })
    closeWriteEnd() // the child holds its own copy
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    const status = await child.exited
    clearTimeout(timer)
    await Promise.race([drained, new Promise(res => setTimeout(res, 500))])
    socket.destroy()
    return { ...status, output: output.toString('utf8'), timedOut }
  } catch (e) {
    socket.destroy()
    throw e
  } finally {
    closeWriteEnd()
    closeAll(own)
  }
}
