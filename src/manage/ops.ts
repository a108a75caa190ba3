// stop, rm, inspect: act on a pod through its owner when it lives (the
// engine of a detached pod, the CLI process of a foreground run), and
// directly (pids checked by start time) when it does not.
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { PodCgroups, realFs, type CgroupStats } from '../cgroups/index.js'
import { describeFailure, PodError } from '../errors.js'
import { detachFromRecord } from '../net/index.js'
import {
  displayPhase,
  isAlive,
  podDir,
  processesByPod,
  readRecord,
  resolvePod,
  runningContainerStatuses,
  secretsDir,
  unmountBelow,
  volumesDir,
  withLock,
  writeRecord,
  type ContainerRecord,
  type PodRecord,
  type ProcessIdentity,
} from '../state/index.js'
import { signalNumber } from '../spec/index.js'
import { findShims, isShim } from '../shim/find.js'
import { EngineGone, engineRequest } from './engine-client.js'
import { kubePod } from './kube-pod.js'

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
const isEnded = (r: PodRecord) => r.phase === 'Succeeded' || r.phase === 'Failed'
/** Its owner (no longer alive) never finished the teardown: a clean end clears `supervisor`. */
export const teardownUnfinished = (r: PodRecord) => !isEnded(r) || r.supervisor !== null

/** A recorded container process, if that pid still is it (same pid and mnt namespaces). */
function stillOurs(s: ContainerRecord): number | undefined {
  const pid = s.pid
  if (!pid || !s.namespaces) return undefined
  try {
    return statSync(`/proc/${pid}/ns/mnt`).ino === s.namespaces.mnt && statSync(`/proc/${pid}/ns/pid`).ino === s.namespaces.pid ? pid : undefined
  } catch {
    return undefined
  }
}

/** The pod's cgroups from its record (the plan is data: no new writes are made). */
export function recordCgroups(r: PodRecord): PodCgroups | undefined {
  const plan = r.cgroups?.plan
  return plan ? new PodCgroups(plan, realFs) : undefined
}

/**
 * Kill what is left of a pod whose owner is gone: a shim of it the record
 * does not name (its engine died before recording it; its processes die
 * with it), everything in its cgroups, then what they missed.
 */
async function killOrphaned(root: string, r: PodRecord): Promise<void> {
  const dir = podDir(root, r.id)
  for (const s of findShims()) if (s.dir === dir) tryKill(s.pid)
  const cg = recordCgroups(r)
  if (cg) {
    await cg.killAll()
    await cg.remove()
  }
  // A container with its own pid namespace dies with its pid 1; in a shared
  // one, with pause. Pause goes last so its namespaces outlive the rest.
  for (const s of [...r.initContainerStatuses, ...r.containerStatuses]) {
    const pid = stillOurs(s)
    if (pid) tryKill(pid)
  }
  if (isAlive(r.pause)) tryKill(r.pause!.pid)
}

/** Something of the pod still runs: its owner, or (not ended) any process in a cgroup of it. */
function stillRuns(r: PodRecord): boolean {
  return isAlive(r.supervisor) || (!isEnded(r) && processesByPod().has(r.id))
}

function tryKill(pid: number, signal: NodeJS.Signals | number = 'SIGKILL'): void {
  try {
    process.kill(pid, signal)
  } catch {
    // already gone
  }
}

/**
 * A graceful stop with no supervisor left: each live container's stop signal
 * (its stored plan's: lifecycle.stopSignal, the image's StopSignal, SIGTERM),
 * then up to `graceMs` for them to exit. killOrphaned does the rest.
 */
async function signalOrphaned(r: PodRecord, graceMs: number): Promise<void> {
  const live = [...r.initContainerStatuses, ...r.containerStatuses].filter(s => stillOurs(s) !== undefined)
  for (const s of live) tryKill(s.pid!, signalNumber(s.plan?.stopSignal ?? '') ?? 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline && live.some(s => stillOurs(s) !== undefined)) await sleep(50)
}

async function waitGone(p: ProcessIdentity | null | undefined, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (isAlive(p)) {
    if (Date.now() > deadline) return false
    await sleep(20)
  }
  return true
}

export type Warn = (message: string) => void
const stderrWarn: Warn = m => process.stderr.write(`warning: ${m}\n`)

/** CNI DEL from the pod's network record; a failure is a warning and the record stays for gc. */
async function releaseNetwork(root: string, id: string, name: string, warn: Warn): Promise<void> {
  try {
    await detachFromRecord(root, id)
  } catch (e) {
    warn(`pod ${name}: CNI DEL failed (pod-launch gc retries it): ${(e as Error).message}`)
  }
}

/** A foreground run: its CLI process stops the pod on SIGTERM (as on Ctrl-C). */
async function stopForeground(r: PodRecord, opts: { gracePeriodSeconds?: number; force?: boolean }): Promise<void> {
  process.kill(r.supervisor!.pid, 'SIGTERM')
  const grace = opts.force ? 0 : (opts.gracePeriodSeconds ?? r.spec.terminationGracePeriodSeconds)
  if (!(await waitGone(r.supervisor, grace * 1000 + 15_000))) {
    throw new PodError(`pod.stop: ${r.name}: its run (pid ${r.supervisor!.pid}) did not finish`, {
      step: 'pod.stop',
      hint: `pod-launch rm --force ${r.name}`,
    })
  }
}

/**
 * A detached pod: its engine stops it (started on demand, it adopts the pod
 * first). An engine that dies on the way is replaced (the stop is in the
 * record: the next one goes on with it); a pod no engine can take over
 * (its shim started, its sandbox not) loses its shim, and with it every
 * process, and is cleaned from its record below.
 */
async function stopDetached(root: string, r: PodRecord, opts: { gracePeriodSeconds?: number; force?: boolean }): Promise<void> {
  for (let attempt = 0; attempt < 3 && isAlive(r.supervisor); attempt++) {
    try {
      await engineRequest(root, { op: 'stop', id: r.id, ...opts })
      return
    } catch (e) {
      if (e instanceof EngineGone) continue
      if (!(e instanceof PodError && e.code === 'ENOENT')) throw e
      if (isShim(r.supervisor!.pid)) tryKill(r.supervisor!.pid)
      await waitGone(r.supervisor, 5000)
      return
    }
  }
}

async function stopLocked(root: string, id: string, opts: { gracePeriodSeconds?: number; force?: boolean; onWarning?: Warn }): Promise<PodRecord> {
  let r = readRecord(root, id)
  const warn = opts.onWarning ?? stderrWarn
  const graceMs = opts.force ? 0 : (opts.gracePeriodSeconds ?? r.spec.terminationGracePeriodSeconds) * 1000
  if (isAlive(r.supervisor)) {
    if (r.foreground) await stopForeground(r, opts)
    else await stopDetached(root, r, opts)
    // A foreground run removes its pod directory as it ends.
    if (!existsSync(podDir(root, id))) return { ...r, phase: 'Failed', supervisor: null }
    r = readRecord(root, id)
    // An owner that was dying already, or died during its stop, leaves the rest to us.
  }
  if (teardownUnfinished(r)) {
    // Its owner died (before the pod ended, or in its teardown): nobody will tear the pod down but us.
    // A graceful stop first gives the containers their stop signals. Then DEL, while pause still holds the
    // netns (the bridge plugin removes its masquerade rules only when it can see the pod's interface).
    if (!isEnded(r) && graceMs > 0) await signalOrphaned(r, graceMs)
    await releaseNetwork(root, id, r.name, warn)
    await killOrphaned(root, r)
    await waitGone(r.pause, 5000)
    unmountBelow(volumesDir(podDir(root, id)))
    unmountBelow(secretsDir(podDir(root, id)))
    r = { ...r, phase: isEnded(r) ? r.phase : 'Failed', supervisor: null, stopping: undefined }
    try {
      writeRecord(root, r)
    } catch (e) {
      warn(`pod ${r.name}: stopped, but its record is not updated: ${describeFailure(e)}`) // a full disk never undoes a stop
    }
  }
  return r
}

/** A pod's lock lives outside its directory, so removing the directory never races with a waiter. */
function lockFile(root: string, id: string): string {
  mkdirSync(join(root, '.locks'), { recursive: true, mode: 0o700 })
  return join(root, '.locks', id)
}

/** Stop a pod (graceful unless `force`); returns its final record. */
export async function stopPod(root: string, ref: string, opts: { gracePeriodSeconds?: number; force?: boolean; onWarning?: Warn } = {}): Promise<PodRecord> {
  const { id } = resolvePod(root, ref)
  return withLock(lockFile(root, id), () => {
    if (!existsSync(podDir(root, id))) throw new PodError(`pod.stop: ${ref}: no such pod (removed meanwhile)`, { step: 'pod.stop', code: 'POD_NOT_FOUND' })
    return stopLocked(root, id, opts)
  })
}

/** Remove a stopped pod (its state and logs); `force` stops it first. */
export async function removePod(root: string, ref: string, opts: { force?: boolean; onWarning?: Warn } = {}): Promise<{ id: string; name: string }> {
  const target = resolvePod(root, ref)
  const { id } = target
  return withLock(lockFile(root, id), async () => {
    if (!existsSync(podDir(root, id))) throw new PodError(`pod.rm: ${ref}: no such pod (removed meanwhile)`, { step: 'pod.rm', code: 'POD_NOT_FOUND' })
    let name = id
    try {
      const r = readRecord(root, id)
      name = r.name
      if (stillRuns(r)) {
        if (!opts.force) {
          throw new PodError(`pod.rm: ${r.name}: the pod is ${displayPhase(r, isAlive(r.supervisor))}`, {
            step: 'pod.rm',
            code: 'EBUSY',
            hint: `stop it first (pod-launch stop ${r.name}) or pod-launch rm --force ${r.name}`,
          })
        }
        await stopLocked(root, id, { force: true, onWarning: opts.onWarning })
      } else {
        // Ended (or nothing of it runs: a stop whose last record write a full disk refused), but its owner may
        // have died in the middle of the teardown: what the record names goes too.
        await killOrphaned(root, r)
      }
    } catch (e) {
      // A corrupt record must not make a pod unremovable with --force.
      if (!(e instanceof PodError && e.code === 'STATE_CORRUPT' && opts.force)) throw e
    }
    await releaseNetwork(root, id, name, opts.onWarning ?? stderrWarn) // a DEL that failed at teardown: retried once more
    unmountBelow(podDir(root, id)) // tmpfs emptyDirs of a pod whose supervisor died
    rmSync(podDir(root, id), { recursive: true, force: true })
    rmSync(lockFile(root, id), { force: true })
    return { id, name }
  })
}

/** The pod as Kubernetes would show it (kubectl get pod -o json), ours under `podLaunch`. */
export function inspectPod(root: string, ref: string): Record<string, unknown> {
  const { record: r, error } = resolvePod(root, ref)
  if (!r) throw error!
  return kubePod(root, r)
}

/** cpu, memory, pids per container and for the pod, read from its cgroups (throws `stats` when the pod is not running). */
export function podStats(root: string, ref: string): { name: string; stats: CgroupStats }[] {
  const { record: r, error } = resolvePod(root, ref)
  if (!r) throw error!
  const cg = recordCgroups(r)
  if (!cg || !isAlive(r.supervisor)) throw new PodError(`stats: ${r.name}: the pod is not running`, { step: 'stats', code: 'ESRCH' })
  return [...runningContainerStatuses(r).map(s => s.name), 'pod'].map(name => ({ name, stats: cg.stats(name) }))
}
