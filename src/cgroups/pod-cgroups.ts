// A pod's live cgroups: place processes, read stats and OOM kills, kill
// everything, remove the tree. Made by createPodCgroups (index.ts).
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { PodError } from '../errors.js'
import type { CgroupFs } from './fs.js'
import { DEFAULT_PARENT, planContainerCgroup, planContainerUpdate, type CgroupNode, type CgroupPlan, type Who } from './plan.js'
import { applyOps } from './apply.js'
import type { Resources } from '../spec/resources.js'
import { oomKillCount, readOptional, readStats, type CgroupStats } from './stats.js'

export interface EnterOptions {
  /** An extra process in a running container (exec): keep the OOM baseline. */
  exec?: boolean
}

const KILL_TIMEOUT_MS = 5000
const REMOVE_TIMEOUT_MS = 2000

export class PodCgroups {
  readonly plan: CgroupPlan
  /** Absolute directories per hierarchy, in `plan.hierarchies` order. */
  readonly paths: { pod: string[]; pause: string[]; containers: Record<string, string[]> }
  private readonly fs: CgroupFs
  private readonly oomBaseline = new Map<Who, number>()
  private readonly fds = new Map<Who, number>()
  /** Open cgroup v1 `tasks` files per cgroup (spawnPlacement), closed by remove(). */
  private readonly taskFds = new Map<Who, number[]>()
  /**
   * The pod's directories (deepest first) as killAll() of the whole pod last
   * walked them with no process left in any: remove() rmdirs these without
   * walking the tree again. Forgotten by anything that may add a process or a cgroup.
   */
  private emptyTree?: string[]
  /**
   * Per top directory of a container's cgroup (one per hierarchy): the
   * directories at and below it (deepest first) as killAll() of that
   * container last walked them with no process left. The pod's walk takes
   * them as read (a container's exit and the pod's teardown would read the
   * same empty directories twice). Forgotten when a process of that
   * container is placed.
   */
  private readonly emptyBelow = new Map<string, { who: Who; dirs: string[] }>()

  constructor(plan: CgroupPlan, fs: CgroupFs) {
    this.plan = plan
    this.fs = fs
    const abs = (n: CgroupNode) => plan.hierarchies.map(h => join(h.path, n.rel))
    this.paths = { pod: abs(plan.pod), pause: abs(plan.pause), containers: Object.fromEntries(plan.containers.map(c => [c.who, abs(c)])) }
  }

  private node(who: Who): CgroupNode {
    const n = who === 'pod' ? this.plan.pod : who === 'pause' ? this.plan.pause : this.plan.containers.find(c => c.who === who)
    if (!n) throw new PodError(`cgroup.enter: ${who}: no such container in pod cgroup ${this.plan.pod.rel}`, { step: 'cgroup.enter', code: 'ENOENT' })
    return n
  }

  /**
   * Make the cgroup of a container the pod was not planned with (the CRI's
   * CreateContainer); `plan` and `paths` name it from now on (save the record).
   * A container already planned is a no-op. Throws `cgroup.plan`, `cgroup.mkdir`, `cgroup.write`.
   */
  addContainer(c: { name: string; resources: Resources }): void {
    if (this.plan.containers.some(n => n.who === c.name)) return
    this.emptyTree = undefined
    const { node, ops } = planContainerCgroup(this.plan, c)
    applyOps(this.fs, ops)
    this.plan.containers.push(node)
    this.plan.ops.push(...ops)
    this.paths.containers[node.who] = this.plan.hierarchies.map(h => join(h.path, node.rel))
  }

  /** New limits for a container's cgroup (the CRI's UpdateContainerResources). Throws `cgroup.plan`, `cgroup.write`. */
  updateContainer(c: { name: string; resources: Resources }): void {
    applyOps(this.fs, planContainerUpdate(this.plan, c))
  }

  /**
   * Write `pid` to cgroup.procs in every hierarchy (call it in spawnProcess's
   * beforeGo: before the child may exec). A new container start also resets
   * the baseline oomKilled() compares with. Throws PodError `cgroup.enter`.
   */
  enter(pid: number, who: Who, opts: EnterOptions = {}): void {
    this.emptyTree = undefined
    const n = this.node(who)
    this.forgetEmpty(n.who)
    if (n.who === 'pod')
      throw new PodError(`cgroup.enter: ${n.rel}: the pod cgroup holds no process itself (pause or a container)`, { step: 'cgroup.enter', code: 'EINVAL' })
    if (!opts.exec) this.oomBaseline.set(n.who, oomKillCount(this.fs, this.plan.hierarchies, n.rel))
    for (const h of this.plan.hierarchies) this.writeProcs(join(h.path, n.rel, 'cgroup.procs'), pid)
  }

  private writeProcs(file: string, pid: number): void {
    try {
      this.fs.writeFile(file, String(pid))
    } catch (cause) {
      throw PodError.system('cgroup.enter', cause, `${file} = "${pid}"`, { path: file })
    }
  }

  /**
   * v2 and hybrid: a directory fd of `who`'s cgroup2 cgroup for clone3's
   * CLONE_INTO_CGROUP (NativePlan.cgroupFd); undefined on v1. Closed by remove().
   */
  cgroupFd(who: Who): number | undefined {
    const h = this.plan.hierarchies.find(h => h.version === 2)
    if (!h) return undefined
    const n = this.node(who)
    let fd = this.fds.get(n.who)
    if (fd === undefined) {
      const dir = join(h.path, n.rel)
      try {
        fd = this.fs.openDir(dir)
      } catch (cause) {
        throw PodError.system('cgroup.enter', cause, dir)
      }
      this.fds.set(n.who, fd)
    }
    return fd
  }

  /**
   * How a new process of `who` (not an exec) gets into its cgroups without
   * cgroup.procs writes: clone3 starts it in the cgroup2 one (`cgroupFd`, v2
   * and hybrid), and it writes "0" to each cgroup v1 `tasks` file itself
   * (`tasks`, fds kept open until remove(); `paths` for messages), which
   * moves its single thread without the global lock a write of its pid to
   * cgroup.procs takes (an RCU grace period per placement). Then call
   * placed() before the go byte. Throws PodError `cgroup.enter`.
   */
  spawnPlacement(who: Who): { cgroupFd?: number; tasks: number[]; paths: string[] } {
    this.emptyTree = undefined
    const n = this.node(who)
    this.forgetEmpty(n.who)
    const v1 = this.plan.hierarchies.filter(h => h.version === 1)
    const paths = v1.map(h => join(h.path, n.rel, 'tasks'))
    let tasks = this.taskFds.get(n.who)
    if (!tasks) {
      tasks = []
      try {
        for (const file of paths) tasks.push(this.fs.openWrite(file))
      } catch (cause) {
        for (const fd of tasks) this.fs.close(fd)
        throw PodError.system('cgroup.enter', cause, paths[tasks.length], { path: paths[tasks.length] })
      }
      this.taskFds.set(n.who, tasks)
    }
    return { cgroupFd: this.cgroupFd(who), tasks, paths }
  }

  /**
   * The parent's part of a spawnPlacement() start, after clone and before
   * the go byte: the OOM baseline oomKilled() compares with, and the cgroup2
   * cgroup.procs when clone3 did not place the child (`intoCgroup` false: no
   * clone3 or no CLONE_INTO_CGROUP). Throws PodError `cgroup.enter`.
   */
  placed(pid: number, who: Who, intoCgroup: boolean): void {
    const n = this.node(who)
    this.oomBaseline.set(n.who, oomKillCount(this.fs, this.plan.hierarchies, n.rel))
    if (intoCgroup) return
    for (const h of this.plan.hierarchies.filter(h => h.version === 2)) this.writeProcs(join(h.path, n.rel, 'cgroup.procs'), pid)
  }

  /**
   * Where a process of `who` is placed by someone else (the pod's shim):
   * the cgroup.procs file of every hierarchy, the cgroup2 directory for
   * clone3's CLONE_INTO_CGROUP (v2 and hybrid), and the file whose
   * `oom_kill` counts its OOM kills (memory.events on v2, memory.oom_control on v1).
   */
  placement(who: Who): { procs: string[]; cgroup2Dir?: string; oomFile?: string } {
    this.emptyTree = undefined
    const n = this.node(who)
    this.forgetEmpty(n.who)
    const v2 = this.plan.hierarchies.find(h => h.version === 2)
    const v2mem = this.plan.hierarchies.find(h => h.version === 2 && h.controllers.includes('memory'))
    const v1mem = this.plan.hierarchies.find(h => h.version === 1 && h.controllers.includes('memory'))
    return {
      procs: this.plan.hierarchies.map(h => join(h.path, n.rel, 'cgroup.procs')),
      ...(v2 && { cgroup2Dir: join(v2.path, n.rel) }),
      ...(v2mem ? { oomFile: join(v2mem.path, n.rel, 'memory.events') } : v1mem ? { oomFile: join(v1mem.path, n.rel, 'memory.oom_control') } : {}),
    }
  }

  /** Usage of one container (or `pause`), or of the whole pod when `who` is omitted. Throws `cgroup.read`. */
  stats(who: Who = 'pod'): CgroupStats {
    const n = this.node(who)
    const below = n.who === 'pod' ? [this.plan.pause.rel, ...this.plan.containers.map(c => c.rel)] : []
    return readStats(this.fs, this.plan.hierarchies, n.rel, below)
  }

  /**
   * Whether the kernel OOM-killed a process in `who`'s cgroup since its last
   * enter() (memory.events oom_kill on v2, memory.oom_control oom_kill on v1).
   */
  oomKilled(who: Who): boolean {
    const n = this.node(who)
    return oomKillCount(this.fs, this.plan.hierarchies, n.rel) > (this.oomBaseline.get(n.who) ?? 0)
  }

  /**
   * oomKilled(), for a container that just exited by SIGKILL: the kernel
   * sends the OOM SIGKILL before it counts the kill (mm/oom_kill.c), so a
   * fast exit watcher can look too early. Polls up to `graceMs`.
   */
  async oomKilledAfterExit(who: Who, graceMs = 100): Promise<boolean> {
    const deadline = Date.now() + graceMs
    for (;;) {
      if (this.oomKilled(who)) return true
      if (Date.now() >= deadline) return false
      await sleep(5)
    }
  }

  private forgetEmpty(who: Who): void {
    for (const [top, e] of this.emptyBelow) if (e.who === who) this.emptyBelow.delete(top)
  }

  /**
   * Every cgroup directory at and below `rel`, deepest first, in every
   * hierarchy (nested ones a container made too). The directories of a
   * container found empty (emptyBelow) are not read again, but go into `known`.
   */
  private dirsBottomUp(rel = this.plan.pod.rel, known?: Set<string>): string[] {
    const out: string[] = []
    const walk = (dir: string) => {
      const empty = this.emptyBelow.get(dir)
      if (empty) {
        for (const d of empty.dirs) known?.add(d)
        out.push(...empty.dirs)
        return
      }
      let subs: string[]
      try {
        subs = this.fs.subdirs(dir)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return
        throw PodError.system('cgroup.read', e, dir)
      }
      for (const s of subs) walk(join(dir, s))
      out.push(dir)
    }
    for (const h of this.plan.hierarchies) walk(join(h.path, rel))
    return out
  }

  /** The pids in `rel`'s cgroups and below, in every hierarchy, and the directories read (deepest first). */
  private scan(rel: string): { pids: number[]; dirs: string[] } {
    const pids = new Set<number>()
    const known = new Set<string>()
    const dirs = this.dirsBottomUp(rel, known)
    for (const dir of dirs) {
      if (known.has(dir)) continue
      for (const line of (readOptional(this.fs, join(dir, 'cgroup.procs')) ?? '').split('\n')) if (line.trim()) pids.add(Number(line))
    }
    return { pids: [...pids], dirs }
  }

  private pids(rel: string): number[] {
    return this.scan(rel).pids
  }

  private write(file: string, value: string, step = 'cgroup.kill'): boolean {
    try {
      this.fs.writeFile(file, value)
      return true
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return false
      throw PodError.system(step, cause, `${file} = "${value}"`, { path: file })
    }
  }

  /**
   * SIGKILL every process in the pod's cgroups (or only in `who`'s: a
   * container's leftovers before a restart), daemons that left their parent
   * included, and wait until none remains. cgroup2 (v2, and the hybrid
   * membership tree): cgroup.kill (Linux 5.14). Otherwise, or for anything
   * left: freeze, SIGKILL each pid, thaw, until empty. Throws PodError
   * `cgroup.kill` after 5 s.
   */
  async killAll(who: Who = 'pod'): Promise<void> {
    const rel = this.node(who).rel
    const v2 = this.plan.hierarchies.find(h => h.version === 2)
    const deadline = Date.now() + KILL_TIMEOUT_MS
    for (let round = 0; ; round++) {
      const { pids, dirs } = this.scan(rel)
      if (pids.length === 0) {
        if (who === 'pod') this.emptyTree = dirs
        else this.rememberEmpty(who, rel, dirs)
        return
      }
      if (Date.now() > deadline) {
        throw new PodError(`cgroup.kill: ${rel}: ${pids.length} processes remain after ${KILL_TIMEOUT_MS / 1000}s (${pids.slice(0, 10).join(' ')})`, {
          step: 'cgroup.kill',
          code: 'EBUSY',
        })
      }
      // cgroup.kill (Linux 5.14) kills the whole subtree, forks in flight included.
      // Whatever is left a few rounds later (a v1-only member, no cgroup.kill) is frozen and killed by pid.
      const killed = round === 0 && v2 !== undefined && this.write(join(v2.path, rel, 'cgroup.kill'), '1')
      if (!killed && round % 5 === 0) await this.freezeAndKill(rel)
      await sleep(round < 10 ? 5 : 20)
    }
  }

  private rememberEmpty(who: Who, rel: string, dirs: string[]): void {
    for (const h of this.plan.hierarchies) {
      const top = join(h.path, rel)
      this.emptyBelow.set(top, { who, dirs: dirs.filter(d => d === top || d.startsWith(`${top}/`)) })
    }
  }

  /**
   * Without cgroup.kill: freeze (v1 freezer.state, else cgroup2's
   * cgroup.freeze, Linux 5.2), SIGKILL each pid, thaw. A frozen process
   * cannot fork or exit, so no pid is reused before our kill lands.
   */
  private async freezeAndKill(rel: string): Promise<void> {
    const v1 = this.plan.hierarchies.find(h => h.controllers.includes('freezer'))
    const v2 = this.plan.hierarchies.find(h => h.version === 2)
    const freeze = v1
      ? { file: join(v1.path, rel, 'freezer.state'), on: 'FROZEN', off: 'THAWED', done: join(v1.path, rel, 'freezer.state'), frozen: /^FROZEN$/ }
      : v2 && { file: join(v2.path, rel, 'cgroup.freeze'), on: '1', off: '0', done: join(v2.path, rel, 'cgroup.events'), frozen: /^frozen 1$/m }
    const frozen = freeze !== undefined && this.write(freeze.file, freeze.on)
    if (freeze && frozen) {
      for (let i = 0; i < 100 && !freeze.frozen.test(readOptional(this.fs, freeze.done)?.trim() ?? ''); i++) await sleep(2)
    }
    try {
      for (const pid of this.pids(rel)) {
        try {
          this.fs.kill(pid, 'SIGKILL')
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw PodError.system('cgroup.kill', e, `pid ${pid}`)
        }
      }
    } finally {
      if (freeze && frozen) this.write(freeze.file, freeze.off)
    }
  }

  /**
   * rmdir every cgroup of the pod, deepest first, in every hierarchy, then
   * the shared parent when it is empty. EBUSY is retried briefly (exiting
   * processes); ENOENT is fine. Throws PodError `cgroup.remove`.
   */
  async remove(): Promise<void> {
    for (const fd of [...this.fds.values(), ...[...this.taskFds.values()].flat()]) this.fs.close(fd)
    this.fds.clear()
    this.taskFds.clear()
    const deadline = Date.now() + REMOVE_TIMEOUT_MS
    // Right after killAll() found the pod empty, its walk is the whole tree: no process is left to make a cgroup.
    const dirs = this.emptyTree ?? this.dirsBottomUp()
    this.emptyTree = undefined
    for (const dir of dirs) {
      for (;;) {
        try {
          this.fs.rmdir(dir)
          break
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code
          if (code === 'ENOENT') break
          if (code === 'EBUSY' && Date.now() < deadline) {
            await sleep(10)
            continue
          }
          throw PodError.system('cgroup.remove', e, dir)
        }
      }
    }
    // Our shared default parent goes when no other pod uses it (another pod
    // may race us: applyPlan retries). A parent given as an option is not ours.
    if (this.plan.parent !== DEFAULT_PARENT) return
    const parents = this.plan.parent
      ? this.plan.parent
          .split('/')
          .map((_, i, a) => a.slice(0, i + 1).join('/'))
          .reverse()
      : []
    for (const h of this.plan.hierarchies) {
      for (const p of parents) {
        try {
          this.fs.rmdir(join(h.path, p))
        } catch {
          break // busy (another pod), gone, or not ours to remove
        }
      }
    }
  }
}
