// PodResources + host -> the exact mkdirs and writes, in the order they are
// applied. Pure data: unit-tested without root and printable by `explain`.
import { join } from 'node:path'
import { PodError } from '../errors.js'
import type { PodResources, Resources } from '../spec/resources.js'
import type { CgroupHost, CgroupMode, Hierarchy } from './detect.js'
import { containerWrites, podWrites, type CgroupWrite } from './resources.js'

/** `pod`, `pause`, or a container name. */
export type Who = string

export interface CgroupNode {
  who: Who
  /** Path below each hierarchy's mount, e.g. `pod-launch/pod-<uid>/app`. */
  rel: string
  writes: CgroupWrite[]
}

export type CgroupOp = { op: 'mkdir'; path: string; who: Who | 'parent' } | { op: 'write'; path: string; value: string; from: string; ifExists?: boolean }

export interface CgroupPlan {
  mode: CgroupMode
  hierarchies: Hierarchy[]
  /** `pod-launch` (or the parent option), relative to the hierarchy roots. */
  parent: string
  pod: CgroupNode
  pause: CgroupNode
  /** Init containers first, then containers, each in its own cgroup. */
  containers: CgroupNode[]
  /** v2: controllers enabled top-down in cgroup.subtree_control. */
  enable: string[]
  /** Everything, absolute and in order. */
  ops: CgroupOp[]
  /** Planned with singleProcessOOMKill (containers added later get no memory.oom.group either). */
  singleProcessOOMKill?: boolean
}

export interface PlanOptions {
  /** Parent cgroup below the root (default `pod-launch`). */
  parent?: string
  /** pids.max of the pod cgroup. */
  pidsLimit?: number
  /** kubelet's singleProcessOOMKill: no memory.oom.group=1 on v2, the OOM killer takes one process, not the container. */
  singleProcessOOMKill?: boolean
}

export const DEFAULT_PARENT = 'pod-launch'
/** `pause` is the pause process's cgroup, `pod` names the pod's own (stats, killAll); `tasks` is a file in every v1 cgroup directory. */
const RESERVED = ['pause', 'pod', 'tasks']

function controllerOf(file: string): string {
  return file.slice(0, file.indexOf('.'))
}

function hierarchyFor(hs: Hierarchy[], w: CgroupWrite, node: CgroupNode): Hierarchy {
  const controller = controllerOf(w.file)
  const h = hs.find(h => h.controllers.includes(controller))
  if (h) return h
  throw new PodError(`cgroup.plan: ${node.rel}/${w.file} = "${w.value}": the ${controller} controller is not available on this host (${w.from})`, {
    step: 'cgroup.plan',
    code: 'ENOTSUP',
    path: `${node.rel}/${w.file}`,
  })
}

function checkContainerName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || RESERVED.includes(name)) {
    throw new PodError(`cgroup.plan: container ${JSON.stringify(name)}: not usable as a cgroup directory name`, {
      step: 'cgroup.plan',
      code: 'EINVAL',
      exitCode: 2,
    })
  }
}

/**
 * Plan a pod's cgroups: `<parent>/pod-<uid>` with `pause` and one cgroup per
 * container inside. Pure. Throws PodError `cgroup.plan` when a resource needs
 * a controller the host lacks, or a name cannot be a cgroup directory.
 */
export function planPodCgroups(pod: PodResources, host: CgroupHost, opts: PlanOptions = {}): CgroupPlan {
  const parent = (opts.parent ?? DEFAULT_PARENT).replace(/^\/+|\/+$/g, '')
  const v = host.mode === 'v2' ? 2 : 1
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(pod.uid)) {
    throw new PodError(`cgroup.plan: pod uid ${JSON.stringify(pod.uid)}: not usable as a cgroup directory name`, {
      step: 'cgroup.plan',
      code: 'EINVAL',
      exitCode: 2,
    })
  }
  for (const name of [...pod.initContainers.map(c => c.name), ...pod.containers.map(c => c.name)]) checkContainerName(name)
  const podRel = parent ? `${parent}/pod-${pod.uid}` : `pod-${pod.uid}`
  const podNode: CgroupNode = { who: 'pod', rel: podRel, writes: podWrites(v, pod, opts) }
  const pause: CgroupNode = { who: 'pause', rel: `${podRel}/pause`, writes: [] }
  const containers = [...pod.initContainers, ...pod.containers].map(c => ({
    who: c.name,
    rel: `${podRel}/${c.name}`,
    writes: containerWrites(v, c.resources, opts),
  }))
  const nodes = [podNode, pause, ...containers]
  const hs = host.hierarchies
  // Every write must find a hierarchy holding its controller (checked before any op).
  const routed = nodes.map(n => n.writes.map(w => ({ w, h: hierarchyFor(hs, w, n) })))
  const needed = new Set(routed.flat().map(r => controllerOf(r.w.file)))
  // v2: enable what we write, plus memory and pids for stats (when the host has them).
  const enable = v === 2 ? hs[0].controllers.filter(c => needed.has(c) || c === 'memory' || c === 'pids') : []

  const ops: CgroupOp[] = []
  const parents = parent ? parent.split('/').map((_, i, a) => a.slice(0, i + 1).join('/')) : []
  for (const h of hs) {
    const subtree = (rel: string): CgroupOp[] =>
      h.version === 2 && enable.length > 0
        ? [{ op: 'write', path: join(h.path, rel, 'cgroup.subtree_control'), value: enable.map(c => `+${c}`).join(' '), from: 'enable controllers top-down' }]
        : []
    ops.push(...subtree(''))
    for (const p of parents) ops.push({ op: 'mkdir', path: join(h.path, p), who: 'parent' }, ...subtree(p))
    ops.push({ op: 'mkdir', path: join(h.path, podRel), who: 'pod' }, ...subtree(podRel))
    for (const n of nodes.slice(1)) ops.push({ op: 'mkdir', path: join(h.path, n.rel), who: n.who })
  }
  // Pod limits before container limits: a v1 child's cfs quota may not exceed its parent's.
  nodes.forEach((n, i) => ops.push(...writeOps(n, routed[i])))
  const single = opts.singleProcessOOMKill ? { singleProcessOOMKill: true } : {}
  return { mode: host.mode, hierarchies: hs, parent, pod: podNode, pause, containers, enable, ops, ...single }
}

function writeOps(n: CgroupNode, routed: { w: CgroupWrite; h: Hierarchy }[]): CgroupOp[] {
  return routed.map(({ w, h }) => ({ op: 'write', path: join(h.path, n.rel, w.file), value: w.value, from: w.from, ...(w.ifExists ? { ifExists: true } : {}) }))
}

/**
 * The cgroup of a container added to a planned pod (the CRI's
 * CreateContainer): its node, and the mkdirs and writes that make it. Pure.
 * Throws `cgroup.plan` for a name that cannot be a directory or is taken.
 */
export function planContainerCgroup(plan: CgroupPlan, c: { name: string; resources: Resources }): { node: CgroupNode; ops: CgroupOp[] } {
  checkContainerName(c.name)
  if (plan.containers.some(n => n.who === c.name)) {
    throw new PodError(`cgroup.plan: container ${c.name}: the pod has a cgroup of this name`, { step: 'cgroup.plan', code: 'EEXIST' })
  }
  const node: CgroupNode = { who: c.name, rel: `${plan.pod.rel}/${c.name}`, writes: containerWrites(plan.mode === 'v2' ? 2 : 1, c.resources, plan) }
  const routed = node.writes.map(w => ({ w, h: hierarchyFor(plan.hierarchies, w, node) }))
  const mkdirs: CgroupOp[] = plan.hierarchies.map(h => ({ op: 'mkdir', path: join(h.path, node.rel), who: node.who }))
  return { node, ops: [...mkdirs, ...writeOps(node, routed)] }
}

/** The writes that set a planned container's cgroup to `resources` (the CRI's UpdateContainerResources). */
export function planContainerUpdate(plan: CgroupPlan, c: { name: string; resources: Resources }): CgroupOp[] {
  const old = plan.containers.find(n => n.who === c.name)
  if (!old) throw new PodError(`cgroup.plan: container ${c.name}: the pod has no cgroup of this name`, { step: 'cgroup.plan', code: 'ENOENT' })
  const node: CgroupNode = { ...old, writes: containerWrites(plan.mode === 'v2' ? 2 : 1, c.resources, plan) }
  return writeOps(
    node,
    node.writes.map(w => ({ w, h: hierarchyFor(plan.hierarchies, w, node) })),
  )
}

/** One line per op, for `explain`. */
export function formatPlan(plan: CgroupPlan): string[] {
  return plan.ops.map(o => (o.op === 'mkdir' ? `mkdir ${o.path}` : `write ${o.path} = "${o.value}"  # ${o.from}${o.ifExists ? ' (if the file exists)' : ''}`))
}
