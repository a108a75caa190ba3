// Which cgroup layout this host has: v2 (cgroup2 at the root), hybrid (v1
// controllers plus a cgroup2 mount without controllers), or v1. The v1
// hierarchies come from /proc/self/mountinfo: cpu and cpuacct may be
// co-mounted (`cpu,cpuacct`) or not, so nothing is assumed from dir names.
import { join, resolve } from 'node:path'
import { PodError } from '../errors.js'
import { CGROUP2_SUPER_MAGIC, realFs, type CgroupFs } from './fs.js'

export type CgroupMode = 'v1' | 'hybrid' | 'v2'

/** One mounted hierarchy we create pod cgroups in. */
export interface Hierarchy {
  version: 1 | 2
  /** Mount point, e.g. /sys/fs/cgroup/memory or /sys/fs/cgroup. */
  path: string
  /** Controllers it holds; [] for the hybrid cgroup2 mount (membership only). */
  controllers: string[]
}

export interface CgroupHost {
  mode: CgroupMode
  root: string
  /** Every hierarchy pod cgroups are made in (v1 ones first, then cgroup2). */
  hierarchies: Hierarchy[]
  /** Controllers we can use, sorted. */
  controllers: string[]
  /** The cgroup2 mount: the root on v2, `<root>/unified` on hybrid. */
  unified?: string
}

/** v1 controllers we make pod cgroups in (others are left alone). */
export const V1_CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'pids', 'freezer', 'hugetlb']
/** v2 controllers we may enable through cgroup.subtree_control. */
export const V2_CONTROLLERS = ['cpu', 'memory', 'pids', 'hugetlb']

interface Mount {
  root: string
  point: string
  fstype: string
  superOptions: string[]
}

/** Mount points escape space, tab, newline and backslash as octal (proc(5)). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
}

export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = []
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ')
    if (sep < 0) continue
    const before = line.slice(0, sep).split(' ')
    const after = line.slice(sep + 3).split(' ')
    if (before.length < 5 || after.length < 3) continue
    mounts.push({ root: unescape(before[3]), point: unescape(before[4]), fstype: after[0], superOptions: after[2].split(',') })
  }
  return mounts
}

/**
 * Detect the cgroup layout under `root` (injectable for tests).
 * Throws PodError `cgroup.detect` when nothing usable is mounted there.
 */
export function detectCgroups(rootPath = '/sys/fs/cgroup', fs: CgroupFs = realFs): CgroupHost {
  const root = resolve(rootPath)
  let type: number
  try {
    type = fs.statfsType(root)
  } catch (cause) {
    throw PodError.system('cgroup.detect', cause, root)
  }
  if (type === CGROUP2_SUPER_MAGIC) {
    let available: string[]
    try {
      available = fs.readFile(join(root, 'cgroup.controllers')).trim().split(/\s+/).filter(Boolean)
    } catch (cause) {
      throw PodError.system('cgroup.detect', cause, join(root, 'cgroup.controllers'))
    }
    const controllers = V2_CONTROLLERS.filter(c => available.includes(c)).sort()
    return { mode: 'v2', root, hierarchies: [{ version: 2, path: root, controllers }], controllers, unified: root }
  }

  let mounts: Mount[]
  try {
    mounts = parseMountinfo(fs.mountinfo())
  } catch (cause) {
    throw PodError.system('cgroup.detect', cause, '/proc/self/mountinfo')
  }
  const hierarchies: Hierarchy[] = []
  for (const m of mounts) {
    // Only whole hierarchies mounted directly under root (root `/` of the fs).
    if (m.fstype !== 'cgroup' || m.root !== '/' || join(m.point, '..') !== root) continue
    const controllers = m.superOptions.filter(o => V1_CONTROLLERS.includes(o))
    if (controllers.length === 0 || hierarchies.some(h => h.path === m.point)) continue
    hierarchies.push({ version: 1, path: m.point, controllers: controllers.sort() })
  }
  if (hierarchies.length === 0) {
    throw new PodError(`cgroup.detect: ${root}: no cgroup2 and no cgroup v1 controller is mounted here`, {
      step: 'cgroup.detect',
      code: 'ENOENT',
      path: root,
    })
  }
  const unifiedMount = mounts.find(m => m.fstype === 'cgroup2' && m.root === '/' && join(m.point, '..') === root)
  const controllers = [...new Set(hierarchies.flatMap(h => h.controllers))].sort()
  if (!unifiedMount) return { mode: 'v1', root, hierarchies, controllers }
  const unified = unifiedMount.point
  return { mode: 'hybrid', root, hierarchies: [...hierarchies, { version: 2, path: unified, controllers: [] }], controllers, unified }
}
