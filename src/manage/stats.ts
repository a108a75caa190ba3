// `stats`: each container's use as kubectl top and podman stats show it: CPU
// as millicores and percent of one CPU over the last interval (two readings
// of the cgroup's cumulative usage), memory against its limit (else the
// host's memory), peak, pids, OOM kills.
import { cpus, totalmem } from 'node:os'
import type { CgroupStats } from '../cgroups/index.js'
import { resolvePod } from '../state/index.js'
import { podStats } from './ops.js'

export interface StatsRow {
  /** The container, or `pod` for the whole pod cgroup. */
  name: string
  /** CPU used over the interval, in millicores (1000 = one CPU busy). */
  cpuMilli?: number
  /** The same as a percentage of one CPU (podman's CPU %). */
  cpuPercent?: number
  /** limits.cpu in millicores; the pod's is the sum of its containers' when each has one. */
  cpuLimitMilli?: number
  memoryBytes?: number
  /** limits.memory, else the host's memory (podman's MEM %). */
  memoryLimitBytes: number
  memoryPercent?: number
  memoryPeakBytes?: number
  pids?: number
  oomKills: number
}

interface Reading {
  atNs: bigint
  rows: { name: string; stats: CgroupStats }[]
}

function read(root: string, ref: string): Reading {
  return { atNs: process.hrtime.bigint(), rows: podStats(root, ref) }
}

/** The limits each row is measured against, from the pod's spec. */
function limitsOf(root: string, ref: string): Map<string, { cpuMilli?: number; memoryBytes?: number }> {
  const { record: r } = resolvePod(root, ref)
  const out = new Map<string, { cpuMilli?: number; memoryBytes?: number }>()
  const all = [...(r?.spec.initContainers ?? []), ...(r?.spec.containers ?? [])]
  for (const c of all) out.set(c.name, c.resources.limits)
  const app = r?.spec.containers ?? []
  const sum = (k: 'cpuMilli' | 'memoryBytes') =>
    app.every(c => c.resources.limits[k] !== undefined) ? app.reduce((n, c) => n + c.resources.limits[k]!, 0) : undefined
  out.set('pod', { cpuMilli: sum('cpuMilli'), memoryBytes: sum('memoryBytes') })
  return out
}

function rates(prev: Reading, cur: Reading, limits: ReturnType<typeof limitsOf>): StatsRow[] {
  const dtNs = Number(cur.atNs - prev.atNs)
  const host = totalmem()
  return cur.rows.map(({ name, stats: s }) => {
    const before = prev.rows.find(p => p.name === name)?.stats.cpuUsageNs
    const cpuMilli =
      s.cpuUsageNs !== undefined && before !== undefined && dtNs > 0 ? Math.max(0, Math.round(((s.cpuUsageNs - before) / dtNs) * 1000)) : undefined
    const limit = limits.get(name) ?? {}
    const memoryLimitBytes = limit.memoryBytes ?? host
    return {
      name,
      ...(cpuMilli !== undefined && { cpuMilli, cpuPercent: Math.round(cpuMilli) / 10 }),
      ...(limit.cpuMilli !== undefined && { cpuLimitMilli: limit.cpuMilli }),
      ...(s.memoryBytes !== undefined && { memoryBytes: s.memoryBytes, memoryPercent: Math.round((s.memoryBytes / memoryLimitBytes) * 10000) / 100 }),
      memoryLimitBytes,
      ...(s.memoryPeakBytes !== undefined && { memoryPeakBytes: s.memoryPeakBytes }),
      ...(s.pids !== undefined && { pids: s.pids }),
      oomKills: s.oomKills,
    }
  })
}

/** The host's CPUs in millicores (what 100% of the machine is). */
export const hostMillicores = () => cpus().length * 1000

/**
 * Readings of the pod every `intervalMs`: each yield is the use over the
 * interval before it. Ends when the pod stops running (throws `stats` if it
 * is not running at the first reading).
 */
export async function* watchStats(root: string, ref: string, intervalMs: number): AsyncGenerator<StatsRow[]> {
  const limits = limitsOf(root, ref)
  let prev = read(root, ref)
  for (;;) {
    await new Promise(res => setTimeout(res, intervalMs))
    let cur: Reading
    try {
      cur = read(root, ref)
    } catch {
      return // the pod ended or was removed
    }
    yield rates(prev, cur, limits)
    prev = cur
  }
}
