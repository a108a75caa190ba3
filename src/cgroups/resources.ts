// Kubernetes resources -> cgroup file writes, as kubelet and runc compute
// them. Pure: no I/O. Formulas (learned from kubelet pkg/kubelet/cm
// helpers_linux.go and runc's cgroup v2 conversions):
//   cpu request m -> cpu.shares = clamp(m*1024/1000, 2, 262144); no request: 2
//   shares -> cpu.weight (v2) = 1 + ((shares-2)*9999)/262142 (integer division)
//   cpu limit m -> cfs quota = max(m*100000/1000, 1000) per period 100000 us
//   memory limit -> memory.limit_in_bytes / memory.max, bytes
//   container swap off: memory.memsw.limit_in_bytes = limit / memory.swap.max = 0
//   hugepages-<size> -> hugetlb.<size as the kernel spells it>.limit_in_bytes / .max
import { parseQuantity, quantityValue } from '../spec/quantity.js'
import type { PodResources, ResourceList, Resources } from '../spec/resources.js'
import { isSidecar } from '../spec/container.js'

export const CPU_PERIOD_US = 100_000
export const MIN_QUOTA_US = 1000
export const MIN_SHARES = 2
export const MAX_SHARES = 262_144
export const SHARES_PER_CPU = 1024

/** One write into a cgroup's control file; `from` is the Kubernetes field behind it. */
export interface CgroupWrite {
  file: string
  value: string
  from: string
  /** Skip silently when the kernel does not offer the file (swap accounting off). */
  ifExists?: boolean
}

export type CgroupVersion = 1 | 2

/** kubelet MilliCPUToShares. */
export function milliCpuToShares(milli: number): number {
  if (milli === 0) return MIN_SHARES
  const shares = Math.floor((milli * SHARES_PER_CPU) / 1000)
  return Math.min(Math.max(shares, MIN_SHARES), MAX_SHARES)
}

/** kubelet MilliCPUToQuota (period 100000 us); 0 means no limit. */
export function milliCpuToQuota(milli: number, periodUs = CPU_PERIOD_US): number {
  if (milli === 0) return 0
  return Math.max(Math.floor((milli * periodUs) / 1000), MIN_QUOTA_US)
}

/** runc ConvertCPUSharesToCgroupV2Value (the linear map [2, 262144] -> [1, 10000]). */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0
  return 1 + Math.floor(((shares - 2) * 9999) / 262142)
}

/** Page size in bytes -> the kernel's hugetlb file spelling: 2097152 -> `2MB`, 1Gi -> `1GB`. */
export function hugepageSizeName(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB']
  let size = bytes
  let i = 0
  while (size >= 1024 && i < units.length - 1) {
    size /= 1024
    i++
  }
  return `${size}${units[i]}`
}

/** `2Mi` (as written after `hugepages-`) -> bytes. */
export function pageSizeBytes(pageSize: string): number {
  const q = parseQuantity(pageSize)
  if (!q || q.nanos <= 0n) throw new Error(`hugepages-${pageSize}: not a page size`)
  return quantityValue(q)
}

function cpuText(milli: number): string {
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`
}

function bytesText(bytes: number): string {
  for (const [suffix, mul] of [
    ['Ti', 2 ** 40],
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const) {
    if (bytes % mul === 0) return `${bytes / mul}${suffix}`
  }
  return String(bytes)
}

function cpuWrites(v: CgroupVersion, requestMilli: number | undefined, limitMilli: number | undefined, where: string): CgroupWrite[] {
  const shares = milliCpuToShares(requestMilli ?? 0)
  const reqFrom = requestMilli === undefined ? `${where}requests.cpu unset` : `${where}requests.cpu ${cpuText(requestMilli)}`
  const out: CgroupWrite[] = []
  if (v === 1) out.push({ file: 'cpu.shares', value: String(shares), from: reqFrom })
  else out.push({ file: 'cpu.weight', value: String(sharesToWeight(shares)), from: `${reqFrom} (shares ${shares})` })
  if (limitMilli !== undefined && limitMilli > 0) {
    const quota = milliCpuToQuota(limitMilli)
    const from = `${where}limits.cpu ${cpuText(limitMilli)}`
    if (v === 1) {
      out.push({ file: 'cpu.cfs_period_us', value: String(CPU_PERIOD_US), from })
      out.push({ file: 'cpu.cfs_quota_us', value: String(quota), from })
    } else {
      out.push({ file: 'cpu.max', value: `${quota} ${CPU_PERIOD_US}`, from })
    }
  }
  return out
}

function hugetlbWrites(v: CgroupVersion, pages: Record<string, number>, where: string): CgroupWrite[] {
  return Object.entries(pages)
    .map(([size, bytes]) => ({ size, bytes, name: hugepageSizeName(pageSizeBytes(size)), pageBytes: pageSizeBytes(size) }))
    .sort((a, b) => a.pageBytes - b.pageBytes)
    .map(p => ({
      file: v === 1 ? `hugetlb.${p.name}.limit_in_bytes` : `hugetlb.${p.name}.max`,
      value: String(p.bytes),
      from: `${where}limits.hugepages-${p.size} ${bytesText(p.bytes)}`,
    }))
}

/** The writes into one container's cgroup (kubelet's container config, then runc). */
export function containerWrites(v: CgroupVersion, r: Resources, opts: { singleProcessOOMKill?: boolean } = {}): CgroupWrite[] {
  const out = cpuWrites(v, r.requests.cpuMilli, r.limits.cpuMilli, '')
  const mem = r.limits.memoryBytes
  if (mem !== undefined && mem > 0) {
    const from = `limits.memory ${bytesText(mem)}`
    if (v === 1) {
      out.push({ file: 'memory.limit_in_bytes', value: String(mem), from })
      out.push({ file: 'memory.memsw.limit_in_bytes', value: String(mem), from: `${from} (swap off)`, ifExists: true })
    } else {
      out.push({ file: 'memory.max', value: String(mem), from })
      out.push({ file: 'memory.swap.max', value: '0', from: `${from} (swap off)`, ifExists: true })
    }
  }
  if (v === 2 && !opts.singleProcessOOMKill) {
    // kubelet >= 1.32 on cgroup v2 (singleProcessOOMKill=false): an OOM kills the whole container.
    out.push({ file: 'memory.oom.group', value: '1', from: 'kubelet default on cgroup v2 (singleProcessOOMKill false)', ifExists: true })
  }
  out.push(...hugetlbWrites(v, r.limits.hugepages, ''))
  return out
}

/** Pod-level totals as kubelet's ResourceConfigForPod computes them. */
export interface PodTotals {
  cpuRequestMilli: number
  /** Set only when every app container has a cpu limit. */
  cpuLimitMilli?: number
  /** Set only when every app container has a memory limit. */
  memoryLimitBytes?: number
  hugepages: Record<string, number>
}

type Key = 'cpuMilli' | 'memoryBytes'

/**
 * PodRequests / PodLimits with sidecars (KEP-753): the containers and the
 * sidecars run together (their sum); while init container i runs, the
 * sidecars declared before it run beside it. The pod needs the larger.
 */
function effective(pod: PodResources, pick: (r: Resources) => ResourceList, key: Key): number {
  let sum = pod.containers.reduce((n, c) => n + (pick(c.resources)[key] ?? 0), 0)
  let sidecars = 0
  let initPeak = 0
  for (const c of pod.initContainers) {
    const own = pick(c.resources)[key] ?? 0
    if (isSidecar(c)) {
      sum += own
      sidecars += own
      initPeak = Math.max(initPeak, sidecars)
    } else initPeak = Math.max(initPeak, sidecars + own)
  }
  return Math.max(sum, initPeak)
}

export function podTotals(pod: PodResources): PodTotals {
  const limits = (r: Resources) => r.limits
  // Sidecars run beside the containers: a pod limit needs theirs too.
  const running = [...pod.initContainers.filter(isSidecar), ...pod.containers]
  // A pod with no container yet (a CRI sandbox: containers come later) has no pod limit.
  const everyLimit = (key: Key) => running.length > 0 && running.every(c => (c.resources.limits[key] ?? 0) > 0)
  const hugepages: Record<string, number> = {}
  for (const c of running) {
    for (const [size, bytes] of Object.entries(c.resources.limits.hugepages)) hugepages[size] = (hugepages[size] ?? 0) + bytes
  }
  const sidecarPages: Record<string, number> = {}
  for (const c of pod.initContainers) {
    for (const [size, bytes] of Object.entries(c.resources.limits.hugepages)) {
      if (isSidecar(c)) sidecarPages[size] = (sidecarPages[size] ?? 0) + bytes
      else hugepages[size] = Math.max(hugepages[size] ?? 0, (sidecarPages[size] ?? 0) + bytes)
    }
  }
  return {
    cpuRequestMilli: effective(pod, r => r.requests, 'cpuMilli'),
    cpuLimitMilli: everyLimit('cpuMilli') ? effective(pod, limits, 'cpuMilli') : undefined,
    memoryLimitBytes: everyLimit('memoryBytes') ? effective(pod, limits, 'memoryBytes') : undefined,
    hugepages,
  }
}

/** The writes into the pod cgroup: kubelet's pod-level config, plus an optional pids limit. */
export function podWrites(v: CgroupVersion, pod: PodResources, opts: { pidsLimit?: number } = {}): CgroupWrite[] {
  const t = podTotals(pod)
  const out = cpuWrites(v, t.cpuRequestMilli, t.cpuLimitMilli, 'pod ')
  if (t.memoryLimitBytes !== undefined) {
    out.push({
      file: v === 1 ? 'memory.limit_in_bytes' : 'memory.max',
      value: String(t.memoryLimitBytes),
      from: `pod limits.memory ${bytesText(t.memoryLimitBytes)}`,
    })
  }
  out.push(...hugetlbWrites(v, t.hugepages, 'pod '))
  if (opts.pidsLimit !== undefined) out.push({ file: 'pids.max', value: String(opts.pidsLimit), from: `pidsLimit ${opts.pidsLimit}` })
  return out
}
