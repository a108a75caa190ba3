// Run a command inside a running container (hooks, exec probes, `pod-launch
// exec`): a plan copied from the container's by planExec (plan.ts), joining
// pause's shared namespaces plus the container's own mnt and pid namespaces,
// then entering the container's root (nsenter --root: its /proc/PID/root,
// opened first). Output is captured (bounded); a timeout kills through the pidfd.
import { closeSync } from 'node:fs'
import { Socket } from 'node:net'
import {
  type NativePlan,
  type NsType,
  makePipe,
  makeSocketPair,
  native,
  spawnProcess,
  type ExitStatus,
  bindPlan,
  parseNsRef,
  type PlanBindings,
  type PlanPaths,
  type SpawnPlan,
} from '../spawn/index.js'
import { PodError } from '../errors.js'
import { closeAll, openDirectory, openNamespaces } from './namespaces.js'
import { ptySocket, type WindowSize } from './stdio.js'

export interface ExecTarget {
  /** pid of the container's main process (host view): `<container>` in the plan. */
  pid: number
  /** The plan to run (planExec of the container's stored plan). */
  plan: SpawnPlan
  /** pause's namespaces, open (`<pause>` in the plan). */
  shared: Map<NsType, number>
  devNull: number
  /** Place the exec'd process in the container's cgroup before it runs. */
  enter?: (pid: number) => void
}

export interface ExecResult extends ExitStatus {
  output: string
  timedOut: boolean
}

const MAX_OUTPUT = 10 * 1024

/** What bind opened: the plan's fds, their paths for messages, and `release` (after the spawn). */
interface Bound {
  plan: NativePlan
  paths: PlanPaths
  release(): void
}

/**
 * The plan bound to fds: pause's from `shared`, the container's (mnt, pid)
 * and its root directory opened from its pid, all before the child joins
 * anything; `release` closes ours after the spawn.
 */
function bind(target: ExecTarget, stdio: [number, number, number], extra: Partial<Pick<PlanBindings, 'dieWithParent' | 'tty'>> = {}): Bound {
  const own = openNamespaces(
    target.pid,
    target.plan.join
      .map(j => parseNsRef(j.path))
      .concat(target.plan.pidns ? [parseNsRef(target.plan.pidns)] : [])
      .filter(r => r.who === 'container')
      .map(r => r.type),
  )
  const fdOf = (path: string): number => {
    const { who, type } = parseNsRef(path)
    const fd = (who === 'container' ? own : target.shared).get(type)
    if (fd === undefined) throw new PodError(`plan.path: ${path}: not open`, { step: 'plan.path', code: 'EBADF' })
    return fd
  }
  let rootFd: number | undefined
  const release = () => {
    closeAll(own)
    if (rootFd !== undefined) closeSync(rootFd)
    rootFd = undefined
  }
  const root = target.plan.root ? `/proc/${target.pid}/root` : undefined
  try {
    if (root) rootFd = openDirectory(root)
    return { plan: bindPlan(target.plan, { fdOf, stdio, dieWithParent: true, rootFd, ...extra }), paths: { root }, release }
  } catch (e) {
    release()
    throw e
  }
}

/** Run `argv` in the container with our stdout and stderr, and our stdin when `stdin` (else target.devNull); resolves with its exit. */
export async function execAttached(target: ExecTarget, opts: { stdin?: boolean } = {}): Promise<ExitStatus> {
  const { plan, paths, release } = bind(target, [opts.stdin === false ? target.devNull : 0, 1, 2])
  try {
    const child = await spawnProcess(plan, { beforeGo: target.enter, paths })
    return await child.exited
  } finally {
    release()
  }
}

/** An exec'd process on pipes: ours are the other ends. */
export interface ExecPipes {
  pid: number
  /** Its stdin (undefined when it got /dev/null): end() gives it EOF. */
  readonly stdin?: Socket
  readonly stdout: Socket
  readonly stderr: Socket
  /** The exit, once it ended and its stdout and stderr reached EOF (or 500 ms passed). */
  readonly exited: Promise<ExitStatus>
  kill(signal: NodeJS.Signals): void
}

/**
 * Run the plan with pipes for stdout and stderr, and for stdin when asked
 * (else target.devNull), as containerd's exec does for a CRI Exec without a
 * tty. Not killed with us: it ends when its input ends or its container stops.
 */
export async function execWithPipes(target: ExecTarget, opts: { stdin: boolean }): Promise<ExecPipes> {
  const made: number[] = []
  const pipe = () => {
    const p = makePipe('exec')
    made.push(...p)
    return p
  }
  let release = () => {}
  try {
    const out = pipe()
    const err = pipe()
    const input = opts.stdin ? pipe() : undefined
    const bound = bind(target, [input ? input[0] : target.devNull, out[1], err[1]], { dieWithParent: false })
    release = bound.release
    const child = await spawnProcess(bound.plan, { beforeGo: target.enter, paths: bound.paths })
    // The child holds its own copies; ours of its ends go, ours become sockets.
    for (const fd of [out[1], err[1], ...(input ? [input[0]] : [])]) closeSync(fd)
    made.length = 0
    const stdout = new Socket({ fd: out[0], readable: true, writable: false })
    const stderr = new Socket({ fd: err[0], readable: true, writable: false })
    const stdin = input ? new Socket({ fd: input[1], readable: false, writable: true }) : undefined
    for (const s of [stdout, stderr, stdin]) s?.on('error', () => {}) // EPIPE once it stopped reading
    const eof = (s: Socket) => new Promise(resolve => s.once('close', resolve))
    const exited = child.exited.then(async status => {
      await Promise.race([Promise.all([eof(stdout), eof(stderr)]), new Promise(res => setTimeout(res, 500))])
      stdin?.destroy()
      return status
    })
    return { pid: child.pid, stdin, stdout, stderr, exited, kill: sig => void child.kill(sig) }
  } catch (e) {
    made.forEach(fd => closeSync(fd))
    throw e
  } finally {
    release()
  }
}

/** An exec'd process on a pseudo-terminal made in the container's devpts (its 0-2 and controlling tty); ours is the master. */
export interface ExecTerminal {
  pid: number
  /** The master: the process's output (stdout and stderr together), and its input. */
  readonly terminal: Socket
  /** TIOCSWINSZ on the master (the process gets SIGWINCH). */
  resize(size: WindowSize): void
  /** The exit, once it ended and the terminal's output was read (or 500 ms passed). */
  readonly exited: Promise<ExitStatus>
  kill(signal: NodeJS.Signals): void
}

/**
 * Run the plan on a terminal, as containerd's exec does for a CRI Exec with
 * tty: the child makes the pty in the container (native/spawn.c, as for a
 * container with tty) and sends us the master. Not killed with us.
 */
export async function execWithTerminal(target: ExecTarget, size?: WindowSize): Promise<ExecTerminal> {
  const [ours, theirs] = makeSocketPair('exec terminal')
  let release = () => {}
  const fds = [ours, theirs]
  try {
    // Not the container's console: an exec'd process leaves /dev/console alone (runc exec).
    const tty = { socket: theirs, rows: size?.rows ?? 0, cols: size?.cols ?? 0, console: false }
    const bound = bind(target, [target.devNull, target.devNull, target.devNull], { dieWithParent: false, tty })
    release = bound.release
    const child = await spawnProcess(bound.plan, { beforeGo: target.enter, paths: bound.paths })
    let masterFd: number
    try {
      masterFd = native().recvFd(ours)
    } catch (e) {
      child.kill('SIGKILL')
      await child.exited
      throw PodError.system('tty.receive', e, 'exec')
    }
    let open = true
    const terminal = ptySocket(masterFd)
    terminal.on('error', () => {}) // EIO once the last slave holder is gone
    const closed = new Promise(resolve => terminal.once('close', resolve))
    void closed.then(() => (open = false))
    const exited = child.exited.then(async status => {
      await Promise.race([closed, new Promise(res => setTimeout(res, 500))])
      terminal.destroy()
      return status
    })
    return {
      pid: child.pid,
      terminal,
      resize: s => {
        if (open && s.rows > 0 && s.cols > 0) native().setWinsize(masterFd, s.rows, s.cols)
      },
      exited,
      kill: sig => void child.kill(sig),
    }
  } finally {
    fds.forEach(fd => closeSync(fd))
    release()
  }
}

/** A pipe whose read end collects up to `max` bytes; `drained` once the writers are gone. */
function collector(max: number) {
  const [r, w] = makePipe('exec output')
  let data = Buffer.alloc(0)
  const socket = new Socket({ fd: r, readable: true, writable: false })
  socket.on('data', (d: Buffer) => {
    if (data.length < max) data = Buffer.concat([data, d]).subarray(0, max)
  })
  socket.on('error', () => {})
  const drained = new Promise(resolve => socket.on('close', resolve))
  let writeEnd = w
  return {
    writeEnd: w,
    closeWriteEnd() {
      if (writeEnd >= 0) closeSync(writeEnd)
      writeEnd = -1
    },
    drained,
    destroy: () => socket.destroy(),
    data: () => data,
  }
}

export interface CapturedExec extends ExitStatus {
  stdout: Buffer
  /** Empty when `merge`: stderr went into stdout. */
  stderr: Buffer
  timedOut: boolean
}

/**
 * Run the target's command with stdin from /dev/null, its stdout and stderr
 * captured (each up to `maxBytes`; one pipe for both when `merge`), SIGKILLed
 * after `timeoutMs` (0: no timeout). Throws like spawnProcess.
 */
export async function execCapture(target: ExecTarget, timeoutMs: number, opts: { maxBytes: number; merge?: boolean }): Promise<CapturedExec> {
  const out = collector(opts.maxBytes)
  const err = opts.merge ? undefined : collector(opts.maxBytes)
  const pipes = err ? [out, err] : [out]
  let release = () => {}
  try {
    const bound = bind(target, [target.devNull, out.writeEnd, (err ?? out).writeEnd])
    release = bound.release
    const child = await spawnProcess(bound.plan, { beforeGo: target.enter, paths: bound.paths })
    for (const p of pipes) p.closeWriteEnd() // the child holds its own copies
    let timedOut = false
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true
            child.kill('SIGKILL')
          }, timeoutMs)
        : undefined
    const status = await child.exited
    clearTimeout(timer)
    // A daemon the command left behind may hold the pipes: stop reading after a short wait.
    await Promise.race([Promise.all(pipes.map(p => p.drained)), new Promise(res => setTimeout(res, 500))])
    return { ...status, stdout: out.data(), stderr: err?.data() ?? Buffer.alloc(0), timedOut }
  } finally {
    for (const p of pipes) {
      p.destroy()
      p.closeWriteEnd()
    }
    release()
  }
}

/** Probes and hooks: stdout and stderr together, the first 10 KiB. */
export async function execInContainer(target: ExecTarget, timeoutMs: number): Promise<ExecResult> {
  const r = await execCapture(target, timeoutMs, { maxBytes: MAX_OUTPUT, merge: true })
  const { stdout, stderr: _stderr, ...status } = r
  return { ...status, output: stdout.toString('utf8') }
}
