// The shim ProcessHost: pause and the containers are children of the pod's
// shim (native/shim), which holds their stdio, writes their CRI logs and
// records their exits; this process only asks (START), signals (through a
// pidfd of its own) and hears exits (EVENT). When this process dies the pod
// runs on; `ShimHost.adopt` reconnects the next engine to it.
import { closeSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { constants } from 'node:os'
import { PodError } from '../errors.js'
import type { PodCgroups } from '../cgroups/index.js'
import type { HostedProcess, ProcessExit, ProcessHost, StartRequest } from '../pod/process-host.js'
import type { AttachClient, WindowSize } from '../pod/stdio.js'
import { encodePlan, native, reportObject, signalNumber, unsealPlan, type NativePlan, type SpawnPlan } from '../spawn/index.js'
import { ShimClient, ShimRequestError } from './client.js'
import { launchShim } from './launch.js'
import { attachThroughShim } from './attach.js'
import { RecordWriter, REQ, TAG, type ShimProc } from './proto.js'

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(Object.entries(constants.signals).map(([name, num]) => [num, name as NodeJS.Signals]))

/**
 * The plan as the shim executes it: pause's namespaces by reference, stdio and cgroup its own; a sealed plan's real
 * envp and argv read from the pod's secrets tmpfs (the shim gets them over its owner-only socket, as the addon would).
 */
function shimPlan(plan: SpawnPlan) {
  const { version: _v, join, pidns, seccomp, sealed: _s, ...rest } = plan
  return encodePlan({
    ...rest,
    ...unsealPlan(plan),
    join: join.map(j => ({ type: j.type, fd: -1, ref: j.path })),
    ...(pidns ? { pidns: { ref: pidns } } : {}),
    ...(seccomp ? { seccomp: Buffer.from(seccomp, 'base64') } : {}),
    dieWithParent: true,
  })
}

/** The failure the shim reported, worded as a direct spawn words it. */
function startError(e: unknown, req: StartRequest): PodError {
  if (!(e instanceof ShimRequestError)) return e instanceof PodError ? e : PodError.system('shim.start', e, req.name)
  const { step, errno, arg, message } = e.failure
  if (step.startsWith('child.')) {
    const { version: _v, join, pidns: _p, seccomp, ...rest } = req.plan
    const forMessages: NativePlan = {
      ...rest,
      join: join.map(j => ({ type: j.type, fd: -1 })),
      ...(seccomp ? { seccomp: Buffer.from(seccomp, 'base64') } : {}),
      stdio: [0, 1, 2],
    }
    return PodError.fromErrno(step, errno, reportObject(step, arg, forMessages))
  }
  if (errno > 0) return PodError.fromErrno(step, errno, `${req.name} (${message})`)
  return new PodError(`${step}: ${req.name}: ${message}`, { step })
}

export function exitOf(p: ShimProc): ProcessExit {
  const signal = p.signal ? (SIGNAL_NAMES.get(p.signal) ?? null) : null
  return {
    code: p.signal ? null : (p.exitCode ?? 0),
    signal,
    exitCode: p.exitCode ?? 0,
    startedAt: p.startedAt,
    finishedAt: p.finishedAt ?? new Date(),
    oomKilled: p.oomKilled ?? false,
  }
}

/** A process of the shim, seen from here. */
export class ShimProcess implements HostedProcess {
  readonly exited: Promise<ProcessExit>
  private settle!: (e: ProcessExit) => void
  private pidfd: number

  constructor(
    readonly name: string,
    readonly run: number,
    readonly pid: number,
    readonly startedAt: Date,
    private readonly client?: () => ShimClient | undefined,
    /** The pod's directory: attach goes through its shim's socket there. */
    private readonly podDir?: string,
  ) {
    this.exited = new Promise(resolve => (this.settle = resolve))
    try {
      this.pidfd = native().pidfdOpen(pid)
    } catch {
      this.pidfd = -1 // gone already: its exit is on its way
    }
  }

  /** Not yet reported ended. */
  get running(): boolean {
    return !this.done
  }

  private done = false

  /** The shim reported its exit. */
  ended(exit: ProcessExit): void {
    this.done = true
    if (this.pidfd >= 0) closeSync(this.pidfd)
    this.pidfd = -1
    this.settle(exit)
  }

  kill(signal: NodeJS.Signals | number): boolean {
    if (this.pidfd < 0) return false
    const err = native().signal(this.pidfd, signalNumber(signal))
    return err === 0
  }

  /** CRI ReopenContainerLog: the shim closes the log file and opens its path again (after a rotation). Throws `shim.reopen`. */
  async reopenLog(): Promise<void> {
    const client = this.client?.()
    if (!client) throw new PodError(`shim.reopen: ${this.name}: no connection to its shim`, { step: 'shim.reopen', code: 'ENOTCONN' })
    try {
      await client.request(REQ.REOPEN, new RecordWriter().str(TAG.NAME, this.name).done())
    } catch (e) {
      const f = e instanceof ShimRequestError ? e.failure : undefined
      throw f ? PodError.fromErrno(f.step, f.errno, this.name) : e
    }
  }

  private readonly sessions = new Map<AttachClient, () => void>()

  /** Through the shim's attach socket (the shim holds the stdio): output from now on, input, resizes, the exit. */
  attach(client: AttachClient): void {
    if (!this.podDir) throw new PodError(`attach: container ${this.name}: its shim serves attach (pod-launch attach)`, { step: 'attach', code: 'ENOTSUP' })
    this.sessions.set(client, attachThroughShim(this.podDir, this.name, client))
  }

  detach(client: AttachClient): void {
    this.sessions.get(client)?.()
    this.sessions.delete(client)
  }

  windowSize(): WindowSize | undefined {
    return undefined
  }
}

export interface ShimHostOptions {
  podDir: string
  cgroups: PodCgroups
  /** The shim was launched (before any process of the pod exists): record it. */
  onLaunched?: (pid: number) => void
}

export class ShimHost implements ProcessHost {
  readonly kind = 'shim'
  private client?: ShimClient
  private connecting?: Promise<ShimClient>
  /** The current run of each process, by name. */
  private readonly procs = new Map<string, ShimProcess>()
  /** Exits that arrived before their START reply was read. */
  private readonly early = new Map<string, ShimProc>()
  /** close() or detach() was called: a closed connection is no loss. */
  private closing = false

  constructor(private readonly opts: ShimHostOptions) {}

  /** The shim's pid once it runs. */
  get shimPid(): number | undefined {
    return this.client?.pid
  }

  /** Reconnect to a pod's running shim (an engine restart): its processes, running or ended meanwhile. */
  static async adopt(opts: ShimHostOptions): Promise<{ host: ShimHost; procs: ShimProc[] }> {
    const host = new ShimHost(opts)
    const client = await host.ensure(false)
    const procs = await client.status()
    for (const p of procs.filter(p => !p.failed)) {
      const sp = new ShimProcess(p.name, p.run, p.pid, p.startedAt, () => host.client, opts.podDir)
      host.procs.set(p.name, sp)
      if (!p.running) sp.ended(exitOf(p))
    }
    host.refresh()
    return { host, procs }
  }

  /** The running process of that name, as adopted or started. */
  process(name: string): ShimProcess | undefined {
    return this.procs.get(name)
  }

  private ensure(launch = true): Promise<ShimClient> {
    if (this.client) return Promise.resolve(this.client)
    this.connecting ??= (async () => {
      if (launch) {
        const pid = await launchShim(this.opts.podDir)
        this.opts.onLaunched?.(pid)
      }
      const client = await ShimClient.connect(this.opts.podDir)
      void client.closed().then(() => this.onLost(client.pid))
      await client.watch(p => this.onExit(p))
      this.client = client
      this.refresh()
      return client
    })()
    return this.connecting
  }

  /**
   * The connection closed without a SHUTDOWN: the shim died, and its
   * processes with it (they die with their parent). Every run still
   * counted as running ends, lost.
   */
  private onLost(shimPid: number): void {
    if (this.closing) return
    const lost = `the pod's shim (pid ${shimPid}) died: its processes died with it`
    for (const sp of this.procs.values()) {
      sp.ended({ code: null, signal: 'SIGKILL', exitCode: 137, startedAt: sp.startedAt, finishedAt: new Date(), oomKilled: false, lost })
    }
  }

  private onExit(p: ShimProc): void {
    const sp = this.procs.get(p.name)
    if (sp && sp.run === p.run && sp.pid === p.pid) sp.ended(exitOf(p))
    else this.early.set(p.name, p)
    this.refresh()
  }

  /** The connection keeps this process alive while a run of ours is awaited (as a child's pidfd watch does). */
  private refresh(): void {
    this.client?.ref([...this.procs.values()].some(p => p.running))
  }

  async start(req: StartRequest): Promise<HostedProcess> {
    const client = await this.ensure()
    const place = this.opts.cgroups.placement(req.cgroup)
    const w = new RecordWriter()
      .str(TAG.NAME, req.name)
      .u32(TAG.RUN, req.run ?? 0)
      .u8(TAG.ROLE, req.cgroup === 'pause' ? 0 : 1)
    for (const f of place.procs) w.str(TAG.CGROUP_PROCS, f)
    if (place.cgroup2Dir) w.str(TAG.CGROUP2_DIR, place.cgroup2Dir)
    if (place.oomFile) w.str(TAG.OOM_FILE, place.oomFile)
    w.u8(TAG.MEMORY_LIMITED, req.memoryLimited === true)
    if (req.io.kind === 'log') {
      // The log's directory, as the direct host's log file makes it (a CRI sandbox without log_directory logs under its pod dir).
      try {
        mkdirSync(dirname(req.io.logPath), { recursive: true, mode: 0o755 })
      } catch (e) {
        throw PodError.system('log.open', e, req.io.logPath)
      }
      w.u8(TAG.IO, 1).str(TAG.LOG_PATH, req.io.logPath).u8(TAG.STDIN, req.io.stdin).u8(TAG.STDIN_ONCE, req.io.stdinOnce).u8(TAG.TTY, req.io.tty)
      w.u16(TAG.ROWS, req.io.size?.rows ?? 0).u16(TAG.COLS, req.io.size?.cols ?? 0)
    } else {
      w.u8(TAG.IO, 0)
    }
    w.bytes(TAG.PLAN, shimPlan(req.plan))
    let reply
    try {
      reply = await client.request(REQ.START, w.done())
    } catch (e) {
      throw startError(e, req)
    }
    const pid = reply.u32(TAG.PID) ?? 0
    const sp = new ShimProcess(
      req.name,
      req.run ?? 0,
      pid,
      new Date(Number((reply.u64(TAG.STARTED_AT) ?? 0n) / 1_000_000n)),
      () => this.client,
      this.opts.podDir,
    )
    this.procs.set(req.name, sp)
    const early = this.early.get(req.name)
    if (early && early.pid === pid) {
      this.early.delete(req.name)
      sp.ended(exitOf(early))
    }
    this.refresh()
    return sp
  }

  /** An exited process is forgotten by the shim (its attach socket closed): CRI RemoveContainer. A running one or an unknown name: nothing. */
  async forget(name: string): Promise<void> {
    const sp = this.procs.get(name)
    if (sp?.running) return
    this.procs.delete(name)
    this.early.delete(name)
    await this.client?.request(REQ.REMOVE, new RecordWriter().str(TAG.NAME, name).done()).catch(() => {})
  }

  /** Stop the shim: it kills and reaps whatever still runs, then exits. */
  async close(): Promise<void> {
    this.closing = true
    const client = this.client ?? (await this.connecting?.catch(() => undefined))
    if (!client) return
    await client.shutdown().catch(() => {})
    client.close()
    // The shim killed whatever still ran (its exits came first, unless it was gone already).
    for (const sp of this.procs.values()) {
      if (sp.running) sp.ended({ code: null, signal: 'SIGKILL', exitCode: 137, startedAt: sp.startedAt, finishedAt: new Date(), oomKilled: false })
    }
  }

  /** Let go of the shim without stopping it (an engine going away; the pod runs on). */
  detach(): void {
    this.closing = true
    this.client?.close()
  }
}
