// `gc [--dry-run]`: find and remove what no live pod owns, and nothing else:
// - pods whose supervisor died before they ended (Unknown): killed through
//   their cgroups, marked Failed (their logs stay until `rm`);
// - state directories without a readable record and without a live process;
// - pod cgroups (`<hierarchy>/pod-launch/pod-<uid>`) that hold no process and
//   belong to no live pod, or whose pod record says it is dead;
// - pause processes of ours (our binary) orphaned to pid 1 and owned by no record.
import { existsSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { detectCgroups, DEFAULT_PARENT } from '../cgroups/index.js'
import { native, pausePath } from '../spawn/native.js'
import { detachFromRecord, networkRecordIds, networkRecordLive } from '../net/index.js'
import { isAlive, listPods, mountsBelow, podDir } from '../state/index.js'
import { stopPod } from './ops.js'

export interface GcAction {
  kind: 'pod' | 'state-dir' | 'cgroup' | 'process' | 'mount' | 'network'
  target: string
  why: string
}

const OLD_ENOUGH_MS = 10_000 // a pod being created has a dir before its record: leave young ones alone

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

function rmdirBottomUp(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmdirBottomUp(join(dir, e.name))
  rmdirSync(dir)
}

export async function gc(root: string, dryRun: boolean): Promise<GcAction[]> {
  const actions: GcAction[] = []
  const pods = listPods(root)
  const live = new Set<string>()
  for (const p of pods) {
    const r = p.record
    if (r && isAlive(r.supervisor)) {
      live.add(p.id)
    } else if (r && r.phase !== 'Succeeded' && r.phase !== 'Failed') {
      actions.push({ kind: 'pod', target: `${r.name} (${p.id})`, why: 'its supervisor died before the pod ended: kill what is left, mark it Failed' })
      if (!dryRun) await stopPod(root, p.id, { force: true, onWarning: () => {} })
    }
  }
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
  // Every process of a pod (foreground or detached) is in its cgroup; a cgroup with processes is in use.
  const host = detectCgroups()
  const inUse = new Set<string>()
  const cgroupDirs: { uid: string; dir: string }[] = []
  for (const h of host.hierarchies) {
    const parent = join(h.path, DEFAULT_PARENT)
    if (!existsSync(parent)) continue
    for (const e of readdirSync(parent, { withFileTypes: true })) {
      const m = e.isDirectory() && /^pod-([0-9a-f-]{36})$/.exec(e.name)
      if (!m) continue
      const dir = join(parent, e.name)
      cgroupDirs.push({ uid: m[1], dir })
      if (procsIn(dir).length > 0) inUse.add(m[1])
    }
  }
  for (const { uid, dir } of cgroupDirs) {
    if (live.has(uid) || inUse.has(uid)) continue
    // A pod being created has its cgroups for a moment before pause enters them.
    if (Date.now() - statSync(dir).mtimeMs < OLD_ENOUGH_MS) continue
    actions.push({ kind: 'cgroup', target: dir, why: 'no process and no live pod' })
    if (!dryRun) rmdirBottomUp(dir)
  }
  if (!dryRun) {
    for (const h of host.hierarchies) {
      try {
        rmdirSync(join(h.path, DEFAULT_PARENT)) // only when empty; a pod being created retries its mkdir
      } catch {
        // not empty, or not there
      }
    }
  }
  for (const p of pods) {
    if (live.has(p.id) || inUse.has(p.id)) continue
    for (const m of mountsBelow(podDir(root, p.id))) {
      actions.push({ kind: 'mount', target: m, why: 'a volume of a pod that is not running' })
      if (!dryRun) native().umount(m, true)
    }
  }
  for (const p of pods) {
    if (p.record || live.has(p.id) || inUse.has(p.id)) continue
    const dir = podDir(root, p.id)
    if (Date.now() - statSync(dir).mtimeMs < OLD_ENOUGH_MS) continue
    actions.push({ kind: 'state-dir', target: dir, why: p.error ? p.error.message.split(': ').slice(-1)[0] : 'no pod record' })
    if (!dryRun) rmSync(dir, { recursive: true, force: true })
  }
  const known = new Set(pods.flatMap(p => (p.record?.pause ? [p.record.pause.pid] : [])))
  const pause = pausePath()
  for (const name of readdirSync('/proc').filter(n => /^\d+$/.test(n))) {
    const pid = Number(name)
    try {
      if (readlinkSync(`/proc/${pid}/exe`) !== pause || known.has(pid)) continue
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid !== 1) continue // its pod-launch parent still owns it
    } catch {
      continue
    }
    actions.push({ kind: 'process', target: `pause pid ${pid}`, why: 'orphaned to pid 1, owned by no pod record' })
    if (!dryRun) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // gone meanwhile
      }
    }
  }
  return actions
}
