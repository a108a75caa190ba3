// Spawn through the addon: clone, place, go, read the report, watch the exit.
import { closeSync, readSync, writeSync } from 'node:fs'
import { constants } from 'node:os'
import { PodError } from '../errors.js'
import { native, type NativePlan } from './native.js'
import { encodePlan } from './plan-codec.js'
import { parseReport, reportError, RECORD_BYTES, type PlanPaths } from './report.js'

export interface ExitStatus {
  /** Exit code, or null when killed by a signal. */
  code: number | null
  signal: NodeJS.Signals | null
  /** The code Kubernetes reports: `code`, or 128 + signal number. */
  exitCode: number
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(Object.entries(constants.signals).map(([name, num]) => [num, name as NodeJS.Signals]))

export function signalNumber(sig: NodeJS.Signals | number): number {
  if (typeof sig === 'number') return sig
  const n = constants.signals[sig]
  if (n === undefined) throw new PodError(`spawn.signal: ${sig}: unknown signal`, { step: 'spawn.signal', exitCode: 2 })
  return n
}

/** A child we cloned: its pidfd is ours until `exited` settles (then closed). */
export class ChildProcessHandle {
  readonly pid: number
  readonly exited: Promise<ExitStatus>
  private pidfd: number

  constructor(pid: number, pidfd: number, ref = true) {
    this.pid = pid
    this.pidfd = pidfd
    this.exited = new Promise<ExitStatus>((resolve, reject) => {
      const onExit = (code: number | null, signo: number | null, error: Error | null) => {
        closeSync(this.pidfd)
        this.pidfd = -1
        if (error) return reject(PodError.system('spawn.wait', error, `pid ${pid}`))
        const signal = signo === null ? null : (SIGNAL_NAMES.get(signo) ?? null)
        resolve({ code, signal, exitCode: code ?? 128 + (signo ?? 0) })
      }
      try {
        native().watch(pidfd, onExit, ref)
      } catch (e) {
        reject(PodError.system('spawn.wait', e, `pid ${pid}`))
      }
    })
  }

  get isRunning(): boolean {
    return this.pidfd >= 0
  }

  /** Signal through the pidfd (never a recycled pid). False once it has exited. */
  kill(sig: NodeJS.Signals | number = 'SIGTERM'): boolean {
    if (this.pidfd < 0) return false
    const err = native().signal(this.pidfd, signalNumber(sig))
    if (err === 0) return true
    if (err === constants.errno.ESRCH) return false
    throw PodError.fromErrno('spawn.signal', err, `pid ${this.pid}`, { syscall: 'pidfd_send_signal' })
  }
}

/** pipe2(O_CLOEXEC) -> [read, write]; throws `spawn.pipe` naming what it is for. */
export function makePipe(what: string): [number, number] {
  try {
    return native().pipe()
  } catch (e) {
    throw PodError.system('spawn.pipe', e, what)
  }
}

/** socketpair(AF_UNIX, SOCK_STREAM), both ends close-on-exec; throws `tty.socketpair` naming what it is for. */
export function makeSocketPair(what: string): [number, number] {
  try {
    return native().socketpair()
  } catch (e) {
    throw PodError.system('tty.socketpair', e, what)
  }
}

export interface SpawnOptions {
  /** Runs after clone, before the child may proceed (e.g. write cgroup.procs where clone3 did not place it: `intoCgroup` false). */
  beforeGo?: (pid: number, intoCgroup: boolean) => void
  /** Paths behind the plan's fds, for error messages. */
  paths?: PlanPaths
  /** Keep Node's loop alive while the child runs (default true). */
  ref?: boolean
}

function readToEnd(fd: number): Buffer {
  const chunks: Buffer[] = []
  const buf = Buffer.alloc(RECORD_BYTES)
  for (;;) {
    let n: number
    try {
      n = readSync(fd, buf, 0, buf.length, null)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN' || (e as NodeJS.ErrnoException).code === 'EINTR') continue
      throw e
    }
    if (n === 0) return Buffer.concat(chunks)
    chunks.push(Buffer.from(buf.subarray(0, n)))
  }
}

/**
 * Clone a child that runs `plan` and execs. Resolves once execve succeeded.
 * Throws a PodError: `spawn.*` before the child exists, `child.*` for the step
 * that failed in it (the child is reaped first: nothing is left).
 */
export async function spawnProcess(plan: NativePlan, opts: SpawnOptions = {}): Promise<ChildProcessHandle> {
  const addon = native()
  let spawned
  try {
    spawned = addon.spawn(encodePlan(plan))
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { step?: string }
    if (typeof err.errno !== 'number') throw new PodError(err.message, { step: err.step ?? 'spawn.plan', cause: e })
    throw PodError.fromErrno(err.step ?? 'spawn.clone', err.errno, plan.file ?? plan.argv[0], { syscall: err.syscall, cause: e })
  }
  const child = new ChildProcessHandle(spawned.pid, spawned.pidfd, opts.ref ?? true)
  let report: Buffer
  try {
    try {
      opts.beforeGo?.(spawned.pid, spawned.intoCgroup)
      writeSync(spawned.goFd, Buffer.from([1]))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e
      // The child died before reading the go byte: killed with its pid namespace, or by someone.
      const status = await child.exited
      throw new PodError(`spawn.go: ${plan.file ?? plan.argv[0]}: the child was killed before it could start (${status.signal ?? `exit ${status.code}`})`, {
        step: 'spawn.go',
        hint: 'the namespaces it was to join are gone: the container or pod it targets has exited',
      })
    } finally {
      closeSync(spawned.goFd) // EOF without the byte makes the child exit quietly
    }
    report = readToEnd(spawned.reportFd)
  } catch (e) {
    await child.exited
    throw e
  } finally {
    closeSync(spawned.reportFd)
  }
  const record = parseReport(report)
  if (record === undefined) return child
  await child.exited // the child _exit(127)s right after its record
  if (record === 'truncated') {
    throw new PodError(`spawn.report: pid ${spawned.pid}: truncated failure record (${report.length} bytes)`, { step: 'spawn.report' })
  }
  throw reportError(record, addon.steps, plan, opts.paths)
}

/** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves with the exit. */
export async function stopProcess<T = ExitStatus>(
  child: { kill(sig: NodeJS.Signals | number): boolean; readonly exited: Promise<T> },
  graceMs: number,
  signal: NodeJS.Signals | number = 'SIGTERM',
): Promise<T> {
  if (graceMs > 0 && child.kill(signal)) {
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<'timeout'>(resolve => (timer = setTimeout(resolve, graceMs, 'timeout')))
    const first = await Promise.race([child.exited, timedOut])
    clearTimeout(timer)
    if (first !== 'timeout') return first
  }
  child.kill('SIGKILL')
  return child.exited
}
