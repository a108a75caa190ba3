// The host engine: ONE Node process per state root (`pod-launch __engine
// --root R`), started on demand by the first CLI call that needs it, which
// drives every detached pod's lifecycle (restarts and backoff, probes, hooks,
// sidecar order, stop) through the pods' shims, and exits once no detached
// pod is left. It holds `<root>/.engine/lock` while it lives (one engine per
// root) and answers on `<root>/.engine/engine.sock` (one JSON line per request and
// per reply). When it starts it adopts every pod whose shim lives: the pods
// ran on without it; their exits meanwhile are decided as kubelet would.
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { PodCgroups, realFs } from '../cgroups/index.js'
import { crashPoint } from '../crash-point.js'
import { PodError } from '../errors.js'
import { KUBELET_BACKOFF, Pod, type PodEvent, type PodOptions } from '../pod/index.js'
import { socketAddress } from '../pod/attach-server.js'
import type { ConfigMapObject, PodSpec } from '../spec/index.js'
import type { NetworkOptions } from '../net/index.js'
import type { BackoffOptions } from '../pod/index.js'
import { ShimHost } from '../shim/host.js'
import { isShim } from '../shim/find.js'
import { native } from '../spawn/index.js'
import { ensureRoot, isAlive, listPods, podDir, readRecord, specFile, processIdentity, unmountBelow, writeRecord, type PodRecord } from '../state/index.js'
import { RecordKeeper } from './recorder.js'
import { takeOverObjects } from './pod-objects.js'
import { ENGINE_DIR, ENGINE_LOCK, ENGINE_SOCKET, type EngineReply, type EngineRequest } from './engine-client.js'

/** A pod's own lines of the engine's log. */
const POD_LOG = 'engine.log'

/** The run options a detached pod keeps (spec.json holds `{spec, options, configMaps}`). */
export interface SupervisedOptions extends NetworkOptions {
  backoff?: BackoffOptions
  cgroupParent?: string
  pidsLimit?: number
  singleProcessOOMKill?: boolean
  imageFallback?: 'host'
  seccompDefault?: boolean
}

/** A detached pod this engine drives. */
interface Driven {
  keeper: RecordKeeper
  /** The pod, once started. */
  pod?: Pod
  /** Give up a start that waits for its images. */
  abort: () => void
  /** Resolves once the pod is Running (or failed to start). */
  started: Promise<Pod | undefined>
  /** Resolves once the pod ended and its record says so. */
  ended: Promise<void>
}

const stamp = () => new Date().toISOString()

function podLog(root: string, id: string, line: string): void {
  try {
    appendFileSync(join(podDir(root, id), POD_LOG), `${stamp()} ${line}\n`)
  } catch {
    // the pod's directory is gone (removed), or the disk is full: the engine goes on
  }
}

/** A pod that could not run yet because a container restarts with back-off (Init:CrashLoopBackOff): who, and why. */
function backOffWaiting(pod: Pod): { waiting?: { containers: string[]; reason: string; message?: string } } {
  if (pod.phase !== 'Pending') return {}
  const { init, containers } = pod.statuses
  const looping = [...init, ...containers].filter(s => 'waiting' in s.state && s.state.waiting.reason === 'CrashLoopBackOff')
  if (looping.length === 0) return {}
  const last = looping[0].lastState?.terminated
  const why = last ? `exited ${last.exitCode} (${last.reason ?? 'Error'})${last.message ? `: ${last.message.split('\n')[0]}` : ''}` : 'exited'
  return { waiting: { containers: looping.map(s => s.name), reason: 'CrashLoopBackOff', message: why } }
}

const engineLog = (line: string) => process.stderr.write(`${stamp()} engine[${process.pid}]: ${line}\n`)

const eventLine = (e: PodEvent) => `event ${JSON.stringify(e, (k, v) => (k === 'error' ? (v as Error).message : v))}`

class Engine {
  private readonly pods = new Map<string, Driven>()
  private connections = 0
  private exitTimer?: NodeJS.Timeout
  private closing = false

  constructor(
    private readonly root: string,
    private readonly onIdle: () => void,
  ) {}

  /** Pod options shared by started and adopted pods: the shim hosts the processes, the record follows every event. */
  private podOptions(id: string, options: SupervisedOptions, keeper: RecordKeeper, configMaps?: ConfigMapObject[]): PodOptions {
    const log = (m: string) => podLog(this.root, id, m)
    return {
      ...options,
      // ConfigMaps from spec.json, Secrets from the pod's secrets tmpfs, as `run -d` handed them over.
      objects: takeOverObjects(podDir(this.root, id), configMaps),
      stateRoot: this.root,
      keepState: true,
      dieWithParent: false,
      onOutput: () => {}, // the shim writes the CRI logs
      onWarning: m => log(`warning: ${m}`),
      onIntent: keeper.onIntent,
      onEvent: e => {
        log(eventLine(e))
        keeper.onEvent(e)
      },
      host: ctx => new ShimHost({ podDir: ctx.dir.root, cgroups: ctx.cgroups, onLaunched: pid => keeper.setOwner(pid) }),
    }
  }

  /** Track a pod until it ends: its record then says so (owner cleared), and the engine may go. */
  private drive(id: string, keeper: RecordKeeper, started: Promise<Pod | undefined>, abort: () => void = () => {}): Driven {
    const ended = started.then(async pod => {
      if (!pod) return
      const result = await pod.wait().catch((e: Error) => {
        podLog(this.root, id, `teardown failed: ${e.message}`)
        return undefined
      })
      keeper.record = { ...keeper.record, phase: result?.phase ?? 'Failed', supervisor: null, stopping: undefined }
      keeper.save()
      podLog(this.root, id, `pod ended: ${result?.phase ?? 'Failed'}`)
    })
    const d: Driven = { keeper, started, ended, abort }
    void started.then(pod => (d.pod = pod))
    this.pods.set(id, d)
    void ended.finally(() => {
      this.pods.delete(id)
      this.maybeIdle()
    })
    return d
  }

  /**
   * `run`: the client wrote spec.json and the record; start the pod, reply
   * once it is Running, or at once when an image cannot be pulled yet (the
   * pod then waits in ErrImagePull / ImagePullBackOff, as kubectl apply
   * returns), or with the start error (nothing left).
   */
  async run(id: string): Promise<EngineReply> {
    const dir = podDir(this.root, id)
    const { spec, options, configMaps } = JSON.parse(readFileSync(specFile(dir), 'utf8')) as {
      spec: PodSpec
      options: SupervisedOptions
      configMaps?: ConfigMapObject[]
    }
    const warn = (m: string) => podLog(this.root, id, `warning: ${m}`)
    const keeper = new RecordKeeper(this.root, { ...readRecord(this.root, id), supervisor: processIdentity(process.pid) }, warn)
    writeRecord(this.root, keeper.record)
    crashPoint('engine-record')
    // A stop while the images are pulled or awaited ends the wait.
    const starting = new AbortController()
    let answer!: (r: EngineReply) => void
    const reply = new Promise<EngineReply>(resolve => (answer = resolve))
    let answered = false
    const say = (r: EngineReply) => {
      if (answered) return
      answered = true
      answer(r)
    }
    const opts = this.podOptions(id, options, keeper, configMaps)
    const started = Pod.start(spec, {
      ...opts,
      imagePullBackoff: options.backoff ?? KUBELET_BACKOFF,
      signal: starting.signal,
      onEvent: e => {
        opts.onEvent?.(e)
        if (e.type === 'image-pull' && e.state === 'failed')
          say({ ok: true, phase: 'Pending', waiting: { containers: e.containers, reason: 'ErrImagePull', message: e.error } })
      },
    }).then(
      pod => {
        keeper.attach(pod)
        keeper.save()
        crashPoint('running')
        say({ ok: true, phase: pod.phase, ...backOffWaiting(pod) })
        return pod
      },
      e => {
        const err = e instanceof PodError ? e : PodError.system('pod.start', e)
        podLog(this.root, id, `start failed: ${err.message}`)
        unmountBelow(dir) // the secrets tmpfs `run -d` made, when the start failed before the pod took it over
        if (answered) {
          // The client was told the pod waits: it stays, Failed, with why (rm removes it).
          keeper.record = { ...keeper.record, phase: 'Failed', supervisor: null, error: { message: err.message, ...(err.hint && { hint: err.hint }) } }
          keeper.save()
        } else {
          rmSync(dir, { recursive: true, force: true }) // a failed start leaves nothing
          say({ error: { message: err.message, hint: err.hint, step: err.step, code: err.code } })
        }
        return undefined
      },
    )
    this.drive(id, keeper, started, () => starting.abort())
    return reply
  }

  /** `stop`: no more restarts, the pod's termination order and grace, then its teardown; reply once ended. */
  async stop(id: string, req: { gracePeriodSeconds?: number; force?: boolean }): Promise<EngineReply> {
    const d = this.pods.get(id)
    if (!d) return { error: { message: `pod.stop: ${id}: not driven by this engine`, step: 'pod.stop', code: 'ENOENT' } }
    podLog(this.root, id, `stop requested: ${JSON.stringify(req)}`)
    d.keeper.record = { ...d.keeper.record, stopping: req }
    d.keeper.stopping() // kubelet's Killing events, and the record saved
    crashPoint('stop-requested')
    // Still starting (waiting for its images, a postStart, a sidecar's start): the start ends its wait and returns
    // the pod once it exists (then stopped here), or gives up with nothing made.
    if (!d.pod) d.abort()
    const pod = await d.started
    if (pod) void pod.stop(req)
    await d.ended
    return { ok: true }
  }

  /** Every pod of the root whose shim lives and that no engine drives: taken over. */
  async adoptAll(): Promise<void> {
    for (const p of listPods(this.root)) {
      const r = p.record
      if (!r || r.foreground || r.phase === 'Succeeded' || r.phase === 'Failed' || !isAlive(r.supervisor) || !isShim(r.supervisor!.pid)) continue
      try {
        await this.adopt(r)
      } catch (e) {
        engineLog(`pod ${r.name} (${r.id}): not adopted: ${(e as Error).message}`)
        podLog(this.root, r.id, `not adopted: ${(e as Error).message}`)
      }
    }
  }

  private async adopt(r: PodRecord): Promise<void> {
    const dir = podDir(this.root, r.id)
    const { options, configMaps } = JSON.parse(readFileSync(specFile(dir), 'utf8')) as { options: SupervisedOptions; configMaps?: ConfigMapObject[] }
    if (!r.cgroups?.plan || !r.pause?.plan) throw new PodError(`engine.adopt: ${r.name}: the record names no cgroups or pause plan`, { step: 'engine.adopt' })
    const keeper = new RecordKeeper(this.root, r, m => podLog(this.root, r.id, `warning: ${m}`))
    const cgroups = new PodCgroups(r.cgroups.plan, realFs)
    const { host, procs } = await ShimHost.adopt({ podDir: dir, cgroups })
    const pause = host.process('pause')
    if (!pause) throw new PodError(`engine.adopt: ${r.name}: its shim holds no pause`, { step: 'engine.adopt' })
    const held = new Map(
      procs.filter(p => p.role === 'container' && !p.failed).map(p => [p.name, { run: p.run, process: host.process(p.name)!, running: p.running }] as const),
    )
    podLog(this.root, r.id, `adopted by engine ${process.pid}: ${procs.map(p => `${p.name}${p.running ? '' : ` exited ${p.exitCode}`}`).join(', ')}`)
    const pod = await Pod.adopt(r.spec, this.podOptions(r.id, options, keeper, configMaps), {
      host,
      pause,
      pausePlan: r.pause.plan,
      namespaces: r.pause.namespaces,
      cgroupPlan: r.cgroups.plan,
      podIPs: r.podIPs ?? (r.podIP ? [r.podIP] : []),
      phase: r.phase,
      initContainerStatuses: r.initContainerStatuses,
      containerStatuses: r.containerStatuses,
      held,
      stopping: r.stopping,
    })
    keeper.attach(pod)
    this.drive(r.id, keeper, Promise.resolve(pod))
  }

  handle(req: EngineRequest): Promise<EngineReply> {
    if (req.op === 'ping') return Promise.resolve({ ok: true, pid: process.pid })
    if (req.op === 'run') return this.run(req.id)
    if (req.op === 'stop') return this.stop(req.id, req)
    return Promise.resolve({ error: { message: `engine: unknown request`, step: 'engine.request' } })
  }

  connected(): void {
    this.connections++
    clearTimeout(this.exitTimer)
  }

  disconnected(): void {
    this.connections--
    this.maybeIdle()
  }

  /** Nothing to drive and nobody asking: go (after a moment, so a burst of `run -d` finds us). */
  private maybeIdle(): void {
    clearTimeout(this.exitTimer)
    if (this.closing || this.pods.size > 0 || this.connections > 0) return
    this.exitTimer = setTimeout(() => {
      if (this.pods.size > 0 || this.connections > 0) return
      this.closing = true
      this.onIdle()
    }, 1000)
  }

  /** Called once adoption is done: idle right away when there was nothing. */
  ready(): void {
    this.maybeIdle()
  }
}

/**
 * `pod-launch __engine --root R`: take the root's engine lock (another
 * engine holds it: say "busy" and go), adopt the live pods, listen, say
 * "ready <pid>" on `readyFd`, and serve until nothing is left to drive.
 */
export async function runEngine(root: string, readyFd = 3): Promise<number> {
  ensureRoot(root)
  mkdirSync(join(root, ENGINE_DIR), { recursive: true, mode: 0o700 })
  const say = (text: string) => {
    try {
      writeSync(readyFd, text)
      closeSync(readyFd)
    } catch {
      // started by hand: nobody waits
    }
  }
  const lockFd = openSync(join(root, ENGINE_LOCK), 'a', 0o600)
  if (!native().flock(lockFd, true)) {
    say('busy\n')
    return 0
  }
  const sockFile = join(root, ENGINE_SOCKET)
  rmSync(sockFile, { force: true }) // a dead engine's (we hold the lock)
  let done!: () => void
  const finished = new Promise<void>(resolve => (done = resolve))
  const engine = new Engine(root, () => done())
  const server = createServer(socket => serve(engine, socket))
  const addr = socketAddress(root, ENGINE_SOCKET)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(addr.path, () => resolve())
  })
  addr.close()
  engineLog(`listening on ${sockFile}`)
  await engine.adoptAll()
  say(`ready ${process.pid}\n`)
  engine.ready()
  await finished
  engineLog('nothing left to drive: exiting')
  // Unlink while we still hold the lock: a new engine cannot be listening yet.
  rmSync(sockFile, { force: true })
  server.close()
  closeSync(lockFd)
  return 0
}

function serve(engine: Engine, socket: Socket): void {
  engine.connected()
  let buf = ''
  let gone = false
  socket.setEncoding('utf8')
  socket.on('error', () => {})
  socket.on('close', () => {
    if (!gone) engine.disconnected()
    gone = true
  })
  socket.on('data', (d: string) => {
    buf += d
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl)
      buf = buf.slice(nl + 1)
      let req: EngineRequest
      try {
        req = JSON.parse(line) as EngineRequest
      } catch {
        socket.end(JSON.stringify({ error: { message: 'engine: a request is one JSON line', step: 'engine.request' } }) + '\n')
        return
      }
      engine.handle(req).then(
        reply => socket.writable && socket.write(JSON.stringify(reply) + '\n'),
        (e: Error) => socket.writable && socket.write(JSON.stringify({ error: { message: e.message, step: 'engine.request' } }) + '\n'),
      )
    }
  })
}
