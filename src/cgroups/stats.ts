// Usage and OOM counts read from a cgroup's files (v1 per controller
// hierarchy, v2 from the one directory). A file the kernel does not offer
// (memory.peak before Linux 5.19) reads as undefined.
import { join } from 'node:path'
import { PodError } from '../errors.js'
import type { CgroupFs } from './fs.js'
import type { Hierarchy } from './detect.js'

export interface CgroupStats {
  memoryBytes?: number
  memoryPeakBytes?: number
  cpuUsageNs?: number
  pids?: number
  /** OOM kills the kernel made in this cgroup (and, for the pod, its children). */
  oomKills: number
}

/** Read a file, or undefined when it does not exist; other errors: `cgroup.read`. */
export function readOptional(fs: CgroupFs, path: string): string | undefined {
  try {
    return fs.readFile(path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw PodError.system('cgroup.read', e, path)
  }
}

/** `key value` lines (memory.events, cpu.stat, memory.oom_control) -> the value of `key`. */
export function keyedValue(text: string | undefined, key: string): number | undefined {
  if (text === undefined) return undefined
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/)
    if (k === key && v !== undefined) return Number(v)
  }
  return undefined
}

function num(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const t = text.trim()
  return t === 'max' ? Infinity : Number(t)
}

function dirFor(hs: Hierarchy[], controller: string, rel: string): string | undefined {
  const h = hs.find(h => h.controllers.includes(controller))
  return h && join(h.path, rel)
}

/** OOM kill count of exactly this cgroup (v1 memory.oom_control is not hierarchical). */
export function oomKillCount(fs: CgroupFs, hs: Hierarchy[], rel: string): number {
  const v2 = hs.find(h => h.version === 2 && h.controllers.includes('memory'))
  if (v2) return keyedValue(readOptional(fs, join(v2.path, rel, 'memory.events')), 'oom_kill') ?? 0
  const mem = dirFor(hs, 'memory', rel)
  return (mem && keyedValue(readOptional(fs, join(mem, 'memory.oom_control')), 'oom_kill')) || 0
}

/** Stats of one cgroup. `below` lists child cgroups whose v1 OOM kills count too. */
export function readStats(fs: CgroupFs, hs: Hierarchy[], rel: string, below: string[] = []): CgroupStats {
  const v2 = hs.find(h => h.version === 2 && h.controllers.length > 0)
  if (v2) {
    const dir = join(v2.path, rel)
    const usec = keyedValue(readOptional(fs, join(dir, 'cpu.stat')), 'usage_usec')
    return {
      memoryBytes: num(readOptional(fs, join(dir, 'memory.current'))),
      memoryPeakBytes: num(readOptional(fs, join(dir, 'memory.peak'))),
      cpuUsageNs: usec === undefined ? undefined : usec * 1000,
      pids: num(readOptional(fs, join(dir, 'pids.current'))),
      oomKills: oomKillCount(fs, hs, rel), // memory.events counts the subtree
    }
  }
  const at = (controller: string, file: string) => {
    const dir = dirFor(hs, controller, rel)
    return dir === undefined ? undefined : num(readOptional(fs, join(dir, file)))
  }
  return {
    memoryBytes: at('memory', 'memory.usage_in_bytes'),
    memoryPeakBytes: at('memory', 'memory.max_usage_in_bytes'),
    cpuUsageNs: at('cpuacct', 'cpuacct.usage'),
    pids: at('pids', 'pids.current'),
    oomKills: [rel, ...below].reduce((n, r) => n + oomKillCount(fs, hs, r), 0),
  }
}
