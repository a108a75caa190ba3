// cgroups: detect the layout, plan a pod's cgroup writes (pure), apply them,
// place processes, read stats and OOM kills, kill everything, remove.
import { applyPlan } from './apply.js'
import { realFs, type CgroupFs } from './fs.js'
import type { CgroupPlan } from './plan.js'
import { PodCgroups } from './pod-cgroups.js'

export { detectCgroups, parseMountinfo, V1_CONTROLLERS, V2_CONTROLLERS, type CgroupHost, type CgroupMode, type Hierarchy } from './detect.js'
export { realFs, CGROUP2_SUPER_MAGIC, CGROUP_SUPER_MAGIC, TMPFS_MAGIC, type CgroupFs } from './fs.js'
export {
  planPodCgroups,
  planContainerCgroup,
  formatPlan,
  DEFAULT_PARENT,
  type CgroupPlan,
  type CgroupNode,
  type CgroupOp,
  type PlanOptions,
  type Who,
} from './plan.js'
export {
  containerWrites,
  podWrites,
  podTotals,
  milliCpuToShares,
  milliCpuToQuota,
  sharesToWeight,
  hugepageSizeName,
  CPU_PERIOD_US,
  type CgroupWrite,
  type PodTotals,
} from './resources.js'
export { PodCgroups, type EnterOptions } from './pod-cgroups.js'
export type { CgroupStats } from './stats.js'

/**
 * Make the pod's cgroups as planned (mkdirs and writes in plan order) and
 * return the handle that places processes and tears them down. On failure
 * every directory made is removed again. Throws PodError `cgroup.mkdir` or
 * `cgroup.write` (`<path> = "<value>": <reason>`) with a hint.
 */
export function createPodCgroups(plan: CgroupPlan, fs: CgroupFs = realFs): PodCgroups {
  applyPlan(fs, plan)
  return new PodCgroups(plan, fs)
}
