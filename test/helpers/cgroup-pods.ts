// Integration helper for the cgroups layer: a pod's cgroups made on this
// host's real hierarchy, processes spawned straight into them (no Pod
// engine), and a teardown that kills and removes everything even on failure.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs'
import { createPodCgroups, detectCgroups, planPodCgroups, type CgroupFs, type CgroupHost, type PlanOptions, type PodCgroups } from '../../src/cgroups/index.js'
import { native, spawnProcess, type ChildProcessHandle, type NativePlan } from '../../src/spawn/index.js'
import type { Resources } from '../../src/spec/resources.js'

export interface Teardown {
  teardown(fn: () => unknown): void
}

export const Mi = 2 ** 20
export const PATH = '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin'

export function resources(limits: { cpuMilli?: number; memoryBytes?: number } = {}): Resources {
  return { limits: { ...limits, hugepages: {} }, requests: { ...limits, hugepages: {} } }
}

let counter = 0
/** A uid unique to this test process and call. */
export function uniqueUid(prefix: string): string {
  return `plt-${prefix}-${process.pid}-${++counter}`
}

export interface TestPod {
  uid: string
  cg: PodCgroups
  /** Spawn `argv` into container `who`: clone3 into its cgroup2 cgroup when possible, cgroup.procs in beforeGo always. */
  run(who: string, argv: string[], extra?: Partial<NativePlan>): Promise<ChildProcessHandle>
  /** Pids in `who`'s cgroup, from the first hierarchy. */
  pids(who: string): number[]
}

export function makePod(
  t: Teardown,
  prefix: string,
  containers: Record<string, Resources>,
  opts: PlanOptions & { host?: CgroupHost; fs?: CgroupFs } = {},
): TestPod {
  const uid = uniqueUid(prefix)
  const host = opts.host ?? detectCgroups()
  const plan = planPodCgroups(
    { uid, name: uid, initContainers: [], containers: Object.entries(containers).map(([name, resources]) => ({ name, resources })) },
    host,
    opts,
  )
  const cg = createPodCgroups(plan, opts.fs)
  const devnull = openSync('/dev/null', 'r+')
  const children: ChildProcessHandle[] = []
  t.teardown(async () => {
    await cg.killAll()
    await Promise.all(children.map(c => c.exited.catch(() => undefined)))
    await cg.remove()
    closeSync(devnull)
  })
  return {
    uid,
    cg,
    async run(who, argv, extra = {}) {
      const child = await spawnProcess(
        { argv, envp: [`PATH=${PATH}`], searchPath: PATH, stdio: [devnull, devnull, devnull], dieWithParent: true, cgroupFd: cg.cgroupFd(who), ...extra },
        { beforeGo: pid => cg.enter(pid, who) },
      )
      children.push(child)
      return child
    },
    pids(who) {
      return readFileSync(`${cg.paths.containers[who][0]}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number)
    },
  }
}

/** Read a pipe to EOF (the writer end already closed here). */
export function readAll(fd: number): string {
  const chunks: Buffer[] = []
  const buf = Buffer.alloc(4096)
  for (;;) {
    let n: number
    try {
      n = readSync(fd, buf)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue
      throw e
    }
    if (n === 0) break
    chunks.push(Buffer.from(buf.subarray(0, n)))
  }
  closeSync(fd)
  return Buffer.concat(chunks).toString()
}

export function pipe(): [number, number] {
  return native().pipe()
}

export async function until(what: string, fn: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(r => setTimeout(r, 10))
  }
}

/** A process is gone, or a zombie nobody reaped yet (reparented to pid 1). */
export function isDead(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
  } catch {
    return true
  }
}
