// `gc [--dry-run] [--cgroup-parent P]... [--all-roots]`: find and remove what
// no live pod owns, and nothing else. gc acts only on what it can prove is
// its root's and dead; an orphan it cannot place in its root is reported and
// left alone unless --all-roots (or --force) claims every orphan of ours.
// - pods of this root whose owner (shim, or foreground CLI) died before
//   they ended: killed through their recorded cgroups, marked Failed (their
//   logs stay until `rm`); a foreground pod's directory goes too, as its run would have;
// - state directories without a readable record and with no live process in
//   a cgroup of theirs (`.../pod-<uid>`, any parent, any hierarchy);
// - pod cgroups under every parent a record of this root names and under
//   each --cgroup-parent (default: pod-launch): empty ones of this root's
//   dead or ended pods; those no record places: reported (--all-roots: killed, removed);
// - pause processes of ours orphaned to pid 1: placed by their cgroup; one no
//   record of this root owns is reported (--all-roots: killed);
// - shims no record of this root names (their engine died before recording
//   them, or their pod is gone): ended, and their processes with them;
//   another root's are reported (--all-roots: ended);
// - in the image store, what interrupted imports and pulls left (rootfs/images/store-gc.ts).
import { existsSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { detectCgroups, DEFAULT_PARENT } from '../cgroups/index.js'
import { native, pausePath } from '../spawn/index.js'
import { detachFromRecord, networkRecordIds, networkRecordLive } from '../net/index.js'
import {
  CRI_RECORD_FILE,
  isAlive,
  listPods,
  mountsBelow,
  podDir,
  podOfProcess,
  processesByPod,
  recordFile,
  startTicks,
  type PodRecord,
} from '../state/index.js'
import { removePod, stopPod, teardownUnfinished } from './ops.js'
import { gcImageStore, type StoreGcAction } from '../rootfs/images/index.js'
import { findShims } from '../shim/find.js'

export interface GcAction {
  kind: 'pod' | 'state-dir' | 'cgroup' | 'process' | 'mount' | 'network' | StoreGcAction['kind']
  target: string
  why: string
  /** Reported only: not provably this root's (gc --all-roots acts on it). */
  leftAlone?: boolean
}

export interface GcOptions {
  dryRun?: boolean
  /** Cgroup parents to scan besides those the records name (default: pod-launch). */
  cgroupParents?: string[]
  /** Also end orphans no record of this root places (another root's, or a lost one's). */
  allRoots?: boolean
}

const OLD_ENOUGH_MS = 10_000 // a pod being created has a dir before its record: leave young ones alone
const NOT_OURS = 'no record of this root names it: left alone (pod-launch gc --all-roots ends it)'

function procsIn(dir: string): number[] {
  const out: number[] = []
  const walk = (d: string) => {
    try {
      for (const l of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (l) out.push(Number(l))
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name))
    } catch {
      // gone meanwhile
    }
  }
  walk(dir)
  return out
}

const gone = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT'

/** Remove a cgroup and its children; one its own shim or engine removed meanwhile is done already. */
function rmdirBottomUp(dir: string): void {
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmdirBottomUp(join(dir, e.name))
    rmdirSync(dir)
  } catch (e) {
    if (!gone(e)) throw e
  }
}

function tryKill(pid: number, ticks: string | undefined): void {
  try {
    if (ticks !== undefined && startTicks(pid) === ticks) process.kill(pid, 'SIGKILL')
  } catch {
    // gone meanwhile
  }
}

/** Kill every process in an orphan pod cgroup, then remove it (--all-roots). */
async function killCgroup(dir: string): Promise<void> {
  for (let round = 0; round < 250; round++) {
    const pids = procsIn(dir)
    if (pids.length === 0) break
    for (const pid of pids) tryKill(pid, startTicks(pid))
    await new Promise(r => setTimeout(r, 20))
  }
  rmdirBottomUp(dir)
}

/**
 * Changed in the last OLD_ENOUGH_MS (a pod being created or started), or gone meanwhile (its own shim
 * or engine removed it): either way, nothing for gc to judge now.
 */
function young(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs < OLD_ENOUGH_MS
  } catch (e) {
    if (gone(e)) return true
    throw e
  }
}

/** The record in a pod directory of another root, if readable. */
function readRecordAt(dir: string): PodRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordFile(dir), 'utf8')) as PodRecord
  } catch {
    return undefined
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
  } catch {
    return undefined
  }
}

/** A live process outside pod `uid` that is the parent of one inside it (its shim or foreground CLI): then it is no orphan. */
function ownerOf(uid: string, pids: number[]): number | undefined {
  for (const pid of pids) {
    const ppid = parentOf(pid)
    if (ppid !== undefined && ppid > 1 && podOfProcess(ppid) !== uid) return ppid
  }
  return undefined
}

export async function gc(root: string, opts: GcOptions = {}): Promise<GcAction[]> {
  const { dryRun = false, allRoots = false } = opts
  const actions: GcAction[] = []
  const pods = listPods(root)
  const ours = new Set(pods.map(p => p.id))
  const live = new Set<string>()
  for (const p of pods) {
    const r = p.record
    if (r && isAlive(r.supervisor)) {
      live.add(p.id)
    } else if (r && (teardownUnfinished(r) || r.foreground)) {
      const fg = !!r.foreground
      actions.push({
        kind: 'pod',
        target: `${r.name} (${p.id})`,
        why: `its ${fg ? 'foreground run' : 'shim'} died before the pod was torn down: kill what is left, ${fg ? 'remove it' : 'mark it ended'}`,
      })
      if (dryRun) continue
      // A foreground run removes its pod when it ends: gc finishes that run's teardown.
      if (fg) await removePod(root, p.id, { force: true, onWarning: () => {} })
      else await stopPod(root, p.id, { force: true, onWarning: () => {} })
    }
  }
  // Shims no record names as its pod's owner (their engine died before recording them, or their pod
  // directory is gone): ended first, so that the cgroups they held are found empty below.
  const ended: number[] = []
  for (const sh of findShims()) {
    const mine = resolve(dirname(sh.dir)) === resolve(root)
    const record = mine ? pods.find(p => p.id === basename(sh.dir))?.record : readRecordAt(sh.dir)
    if (record?.supervisor?.pid === sh.pid && record.supervisor.startTicks === sh.startTicks) {
      if (!mine) actions.push({ kind: 'process', target: `shim pid ${sh.pid}`, why: `a live pod of another root (${sh.dir}): left alone`, leftAlone: true })
      continue
    }
    if (existsSync(sh.dir) && young(sh.dir)) continue // a pod being started (in this root or another)
    if (existsSync(join(sh.dir, CRI_RECORD_FILE))) {
      // A sandbox of `pod-launch cri`: the server adopts it after a restart; crictl rmp (RemovePodSandbox) removes it.
      actions.push({ kind: 'process', target: `shim pid ${sh.pid}`, why: `a sandbox of pod-launch cri (${sh.dir}): left alone`, leftAlone: true })
      continue
    }
    if (!mine && !allRoots) {
      actions.push({ kind: 'process', target: `shim pid ${sh.pid}`, why: `an orphaned shim of ${sh.dir}; ${NOT_OURS}`, leftAlone: true })
      continue
    }
    actions.push({ kind: 'process', target: `shim pid ${sh.pid}`, why: `an orphaned shim of ${sh.dir} (no record names it): ended with its processes` })
    if (!dryRun) {
      tryKill(sh.pid, sh.startTicks)
      ended.push(sh.pid)
    }
  }
  for (let i = 0; i < 250 && ended.some(pid => startTicks(pid) !== undefined); i++) await new Promise(r => setTimeout(r, 20))
  // CNI DEL that never ran or failed (network records outlive the pod's directory until DEL succeeds).
  for (const id of networkRecordIds(root)) {
    if (live.has(id) || networkRecordLive(root, id)) continue
    const action: GcAction = { kind: 'network', target: id, why: 'CNI DEL of a pod that is gone' }
    if (!dryRun) {
      try {
        await detachFromRecord(root, id)
      } catch (e) {
        action.why = `CNI DEL failed again: ${(e as Error).message}`
      }
    }
    actions.push(action)
  }
  // The proof of life: a process in a cgroup of the pod, whatever its parent (by pid and start time).
  const running = processesByPod()
  // Every parent a record of this root names, and those asked for.
  const parents = new Set(opts.cgroupParents?.length ? opts.cgroupParents.map(p => p.replace(/^\/+|\/+$/g, '')) : [DEFAULT_PARENT])
  for (const p of listPods(root)) {
    const plan = p.record?.cgroups?.plan
    if (plan) parents.add(plan.parent)
  }
  const host = detectCgroups()
  for (const h of host.hierarchies) {
    for (const parent of parents) {
      const base = join(h.path, parent)
      if (!existsSync(base)) continue
      for (const e of readdirSync(base, { withFileTypes: true })) {
        const m = e.isDirectory() && /^pod-([0-9a-f-]{36})$/.exec(e.name)
        if (!m) continue
        const uid = m[1]
        const dir = join(base, e.name)
        if (live.has(uid)) continue
        const procs = procsIn(dir)
        const busy = procs.length > 0
        if (!ours.has(uid)) {
          const owner = ownerOf(uid, procs)
          if (owner !== undefined) {
            actions.push({ kind: 'cgroup', target: dir, why: `a live pod of another root (its owner, pid ${owner}, runs): left alone`, leftAlone: true })
            continue
          }
          // Another root's pod (alive or not), or one whose record is lost: not provably ours.
          if (!allRoots) {
            if (busy || !young(dir)) actions.push({ kind: 'cgroup', target: dir, why: `${busy ? 'holds processes; ' : ''}${NOT_OURS}`, leftAlone: true })
            continue
          }
          if (!busy && young(dir)) continue // a pod being created, or gone meanwhile
          actions.push({
            kind: 'cgroup',
            target: dir,
            why: busy ? 'an orphan pod cgroup (--all-roots): processes killed, removed' : 'an empty orphan pod cgroup (--all-roots)',
          })
          if (!dryRun) await killCgroup(dir)
          continue
        }
        if (busy || running.has(uid)) continue // still in use: never removed
        actions.push({ kind: 'cgroup', target: dir, why: 'no process and no live pod' })
        if (!dryRun) rmdirBottomUp(dir)
      }
      if (!dryRun && parent === DEFAULT_PARENT) {
        try {
          rmdirSync(base) // our shared default parent, only when empty; a pod being created retries its mkdir
        } catch {
          // not empty, or not there
        }
      }
    }
  }
  const remaining = listPods(root)
  for (const p of remaining) {
    if (live.has(p.id) || running.has(p.id)) continue
    for (const m of mountsBelow(podDir(root, p.id))) {
      actions.push({ kind: 'mount', target: m, why: 'a volume of a pod that is not running' })
      if (!dryRun) native().umount(m, true)
    }
  }
  for (const p of remaining) {
    if (p.record || live.has(p.id) || running.has(p.id)) continue
    const dir = podDir(root, p.id)
    if (young(dir)) continue
    actions.push({
      kind: 'state-dir',
      target: dir,
      why: p.error ? p.error.message.split(': ').slice(-1)[0] : 'no pod record, and no process in a cgroup of it',
    })
    if (!dryRun) rmSync(dir, { recursive: true, force: true })
  }
  const known = new Set(pods.flatMap(p => (p.record?.pause ? [p.record.pause.pid] : [])))
  const pause = pausePath()
  for (const name of readdirSync('/proc').filter(n => /^\d+$/.test(n))) {
    const pid = Number(name)
    let ticks: string | undefined
    try {
      if (readlinkSync(`/proc/${pid}/exe`) !== pause || known.has(pid)) continue
      if (parentOf(pid) !== 1) continue // its pod-launch parent still owns it
      ticks = startTicks(pid)
    } catch {
      continue
    }
    const uid = podOfProcess(pid)
    if (uid && ours.has(uid)) continue // this root's: its pod was handled above
    if (!allRoots) {
      actions.push({ kind: 'process', target: `pause pid ${pid}`, why: `orphaned to pid 1 (pod ${uid ?? 'unknown'}); ${NOT_OURS}`, leftAlone: true })
      continue
    }
    actions.push({ kind: 'process', target: `pause pid ${pid}`, why: `orphaned to pid 1 (pod ${uid ?? 'unknown'}), claimed by --all-roots` })
    if (!dryRun) tryKill(pid, ticks)
  }
  actions.push(...(await gcImageStore(root, dryRun)))
  return actions
}
