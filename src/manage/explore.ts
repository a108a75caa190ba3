// Exploration of a running pod: its processes against their namespaces (`ns`)
// and its cgroup tree with processes and limits (`tree`), from the kernel's
// own evidence (/proc/<pid>/ns, cgroup.procs, the limit files).
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { PodError } from '../errors.js'
import { isAlive, resolvePod, runningContainerStatuses, type PodRecord } from '../state/index.js'

export const NS_COLUMNS = ['uts', 'ipc', 'net', 'pid', 'mnt', 'cgroup', 'user', 'time'] as const

export interface NsRow {
  pid: number
  command: string
  /** pause, a container's name, or `<name> (exec)` for other processes in its cgroup. */
  role: string
  ns: Record<string, { inode: number; shared: 'pause' | 'host' | 'own' | 'pause+host' }>
}

const comm = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').slice(0, 60)
  } catch {
    return '?'
  }
}
const ino = (pid: number | 'self', t: string) => {
  try {
    return statSync(`/proc/${pid}/ns/${t}`).ino
  } catch {
    return 0
  }
}
function procsOf(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number)
  } catch {
    return []
  }
}

function running(root: string, ref: string): PodRecord {
  const { record: r, error } = resolvePod(root, ref)
  if (!r) throw error!
  if (!isAlive(r.supervisor) && !isAlive(r.pause))
    throw new PodError(`explore: ${r.name}: the pod is not running`, {
      step: 'explore',
      code: 'ESRCH',
      hint: 'ns and tree read a live pod: pod-launch run -d first',
    })
  return r
}

/** Every process of the pod (from its cgroups) against its namespace inodes. */
export function podNamespaces(root: string, ref: string): NsRow[] {
  const r = running(root, ref)
  const paths = r.cgroups?.paths
  const pausePid = r.pause!.pid
  const groups: [string, number[]][] = [['pause', [pausePid]]]
  const statuses = runningContainerStatuses(r)
  for (const s of statuses) {
    const dir = paths?.containers[s.name]?.[0]
    const pids = dir ? procsOf(dir) : s.pid ? [s.pid] : []
    groups.push([s.name, pids])
  }
  return groups.flatMap(([name, pids]) =>
    pids.map(pid => {
      const main = statuses.find(s => s.name === name)?.pid === pid
      const ns: NsRow['ns'] = {}
      for (const t of NS_COLUMNS) {
        const inode = ino(pid, t)
        const withPause = name !== 'pause' && inode === ino(pausePid, t)
        const withHost = inode === ino('self', t)
        ns[t] = { inode, shared: withPause && withHost ? 'pause+host' : withPause ? 'pause' : withHost ? 'host' : 'own' }
      }
      return { pid, command: comm(pid), role: name === 'pause' || main ? name : `${name} (child/exec)`, ns }
    }),
  )
}

export interface TreeNode {
  path: string
  who: string
  limits: Record<string, string>
  processes: { pid: number; command: string }[]
}

const LIMIT_FILES = ['memory.max', 'memory.limit_in_bytes', 'cpu.max', 'cpu.cfs_quota_us', 'cpu.weight', 'cpu.shares', 'pids.max']

/** The pod's cgroups (first hierarchy holding each file), with their processes and main limits. */
export function podTree(root: string, ref: string): TreeNode[] {
  const r = running(root, ref)
  const paths = r.cgroups?.paths
  if (!paths) throw new PodError(`tree: ${r.name}: no cgroups recorded`, { step: 'tree' })
  const node = (who: string, dirs: string[]): TreeNode => {
    const limits: Record<string, string> = {}
    for (const f of LIMIT_FILES) {
      const d = dirs.find(d => existsSync(join(d, f)))
      if (d) limits[f] = readFileSync(join(d, f), 'utf8').trim()
    }
    const pids = [...new Set(dirs.flatMap(procsOf))]
    return { path: dirs.find(d => d.includes('/memory/')) ?? dirs[0], who, limits, processes: pids.map(pid => ({ pid, command: comm(pid) })) }
  }
  return [node('pod', paths.pod), node('pause', paths.pause), ...Object.entries(paths.containers).map(([n, d]) => node(n, d))]
}
