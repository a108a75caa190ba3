// Apply a CgroupPlan: mkdir and write in plan order, registering each
// directory made so a failure leaves nothing behind.
import { PodError } from '../errors.js'
import type { CgroupFs } from './fs.js'
import type { CgroupOp, CgroupPlan } from './plan.js'

function isEnoent(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT' || (e as PodError).code === 'ENOENT'
}

function applyOp(fs: CgroupFs, op: CgroupOp, created: string[]): void {
  if (op.op === 'mkdir') {
    try {
      if (fs.mkdir(op.path)) created.push(op.path)
    } catch (cause) {
      throw PodError.system('cgroup.mkdir', cause, op.path)
    }
    return
  }
  try {
    fs.writeFile(op.path, op.value)
  } catch (cause) {
    if (op.ifExists && isEnoent(cause)) return
    throw PodError.system('cgroup.write', cause, `${op.path} = "${op.value}"`, { path: op.path })
  }
}

/** rmdir what we made, newest first; a failure here must not hide the first error. */
export function rollback(fs: CgroupFs, created: string[]): void {
  while (created.length > 0) {
    const dir = created.pop()!
    try {
      fs.rmdir(dir)
    } catch {
      // left for remove()/gc; the error that made us roll back matters more
    }
  }
}

/**
 * Run every op of the plan. Another pod's teardown may rmdir the shared
 * parent (`pod-launch`) between our mkdirs: an ENOENT on a mkdir or on a
 * parent's cgroup.subtree_control is retried from the top, a few times.
 * Throws PodError `cgroup.mkdir` / `cgroup.write` naming the file and value.
 */
export function applyPlan(fs: CgroupFs, plan: CgroupPlan): void {
  applyOps(fs, plan.ops)
}

/** Run `ops` in order as applyPlan does (retried on the shared-parent race, rolled back on failure). */
export function applyOps(fs: CgroupFs, ops: readonly CgroupOp[]): void {
  for (let attempt = 1; ; attempt++) {
    const created: string[] = []
    let i = 0
    try {
      for (; i < ops.length; i++) applyOp(fs, ops[i], created)
      return
    } catch (e) {
      rollback(fs, created)
      const op = ops[i]
      const racy = op.op === 'mkdir' || op.path.endsWith('/cgroup.subtree_control')
      if (attempt < 4 && racy && isEnoent(e)) continue
      throw e
    }
  }
}
