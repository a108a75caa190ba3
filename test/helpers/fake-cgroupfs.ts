// A fake cgroup filesystem on real files (t.testdir): what the kernel would
// do on mkdir (interface files appear), on rmdir (busy while populated), on
// cgroup.kill, plus a fake statfs and mountinfo. Every write is logged.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { CGROUP2_SUPER_MAGIC, realFs, TMPFS_MAGIC, type CgroupFs } from '../../src/cgroups/index.js'

export type FakeMode = 'v1' | 'hybrid' | 'v2'

export interface FakeOptions {
  /** v1: mount cpu and cpuacct together as `cpu,cpuacct`. */
  coMountCpu?: boolean
  /** hugetlb controller present (2MB and 1GB pages). */
  hugetlb?: boolean
  /** swap accounting: memory.memsw.* (v1) / memory.swap.* (v2) files exist. */
  swap?: boolean
  /** v2: controllers in the root's cgroup.controllers. */
  v2Controllers?: string[]
}

const V1_FILES: Record<string, Record<string, string>> = {
  cpu: { 'cpu.shares': '1024\n', 'cpu.cfs_period_us': '100000\n', 'cpu.cfs_quota_us': '-1\n' },
  cpuacct: { 'cpuacct.usage': '0\n' },
  memory: {
    'memory.limit_in_bytes': '9223372036854771712\n',
    'memory.usage_in_bytes': '0\n',
    'memory.max_usage_in_bytes': '0\n',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
  },
  pids: { 'pids.max': 'max\n', 'pids.current': '0\n' },
  freezer: { 'freezer.state': 'THAWED\n' },
  hugetlb: { 'hugetlb.2MB.limit_in_bytes': '9223372036854771712\n', 'hugetlb.1GB.limit_in_bytes': '9223372036854771712\n' },
}

const V2_FILES: Record<string, Record<string, string>> = {
  cpu: { 'cpu.weight': '100\n', 'cpu.max': 'max 100000\n' },
  memory: {
    'memory.max': 'max\n',
    'memory.current': '0\n',
    'memory.peak': '0\n',
    'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n',
    'memory.oom.group': '0\n',
  },
  pids: { 'pids.max': 'max\n', 'pids.current': '0\n' },
  hugetlb: { 'hugetlb.2MB.max': 'max\n', 'hugetlb.1GB.max': 'max\n' },
}

export class FakeCgroupFs implements CgroupFs {
  readonly root: string
  readonly mode: FakeMode
  readonly opts: FakeOptions
  /** Every write: [path relative to root, value]. */
  readonly writes: [string, string][] = []
  readonly killed: number[] = []
  /** Make the write to this root-relative path fail with this errno code. */
  failWrite = new Map<string, string>()
  failMkdir = new Map<string, string>()
  private v1Mounts: { point: string; controllers: string[] }[] = []

  constructor(root: string, mode: FakeMode, opts: FakeOptions = {}) {
    this.root = root
    this.mode = mode
    this.opts = opts
    mkdirSync(root, { recursive: true })
    if (mode === 'v2') {
      const ctl = opts.v2Controllers ?? ['cpuset', 'cpu', 'io', 'memory', 'pids', ...(opts.hugetlb ? ['hugetlb'] : [])]
      this.files(root, { 'cgroup.procs': '1\n', 'cgroup.controllers': ctl.join(' ') + '\n', 'cgroup.subtree_control': '\n', 'cpu.stat': 'usage_usec 0\n' })
      return
    }
    const names = [
      opts.coMountCpu ? ['cpu', 'cpuacct'] : ['cpu'],
      ...(opts.coMountCpu ? [] : [['cpuacct']]),
      ['memory'],
      ['pids'],
      ['freezer'],
      ...(opts.hugetlb ? [['hugetlb']] : []),
    ]
    for (const controllers of names) {
      const point = join(root, controllers.join(','))
      this.v1Mounts.push({ point, controllers })
      mkdirSync(point)
      this.populateV1(point, controllers)
    }
    mkdirSync(join(root, 'systemd'))
    if (mode === 'hybrid') {
      mkdirSync(join(root, 'unified'))
      this.files(join(root, 'unified'), { 'cgroup.procs': '', 'cgroup.controllers': '', 'cgroup.subtree_control': '' })
    }
  }

  private files(dir: string, files: Record<string, string>): void {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content)
  }

  private populateV1(dir: string, controllers: string[]): void {
    this.files(dir, { 'cgroup.procs': '', tasks: '' })
    for (const c of controllers) this.files(dir, V1_FILES[c])
    if (controllers.includes('memory') && this.opts.swap) this.files(dir, { 'memory.memsw.limit_in_bytes': '9223372036854771712\n' })
  }

  rel(path: string): string {
    return relative(this.root, path)
  }

  statfsType(path: string): number {
    if (!existsSync(path)) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT', errno: -2, path })
    return this.mode === 'v2' && path === this.root ? CGROUP2_SUPER_MAGIC : TMPFS_MAGIC
  }

  mountinfo(): string {
    const lines = [`30 1 0:27 / ${this.root} rw,nosuid - tmpfs tmpfs rw,mode=755`]
    if (this.mode === 'v2') return `29 1 0:26 / ${this.root} rw - cgroup2 cgroup2 rw,nsdelegate\n`
    this.v1Mounts.forEach((m, i) => lines.push(`${40 + i} 30 0:${40 + i} / ${m.point} rw,relatime - cgroup cgroup rw,${m.controllers.join(',')}`))
    lines.push(`39 30 0:39 / ${join(this.root, 'systemd')} rw - cgroup cgroup rw,xattr,name=systemd`)
    if (this.mode === 'hybrid') lines.push(`38 30 0:38 / ${join(this.root, 'unified')} rw - cgroup2 cgroup2 rw,nsdelegate`)
    return lines.join('\n') + '\n'
  }

  readFile(path: string): string {
    return realFs.readFile(path)
  }

  writeFile(path: string, value: string): void {
    const code = this.failWrite.get(this.rel(path))
    if (code) throw Object.assign(new Error(`${code}: write ${path}`), { code, errno: -osErrno(code), syscall: 'write', path })
    realFs.writeFile(path, value) // O_WRONLY|O_TRUNC: ENOENT for a file the "kernel" did not make
    this.writes.push([this.rel(path), value])
    if (path.endsWith('/cgroup.kill') && value === '1') this.emptyProcs(dirname(path))
  }

  private emptyProcs(dir: string): void {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) this.emptyProcs(join(dir, e.name))
    writeFileSync(join(dir, 'cgroup.procs'), '')
  }

  mkdir(path: string): boolean {
    const code = this.failMkdir.get(this.rel(path))
    if (code) throw Object.assign(new Error(`${code}: mkdir ${path}`), { code, errno: -osErrno(code), syscall: 'mkdir', path })
    if (!realFs.mkdir(path)) return false
    const v1 = this.v1Mounts.find(m => path.startsWith(m.point + '/'))
    if (v1) {
      this.populateV1(path, v1.controllers)
      return true
    }
    // cgroup2: core files, plus those of the controllers the parent enabled.
    const enabled = readFileSync(join(dirname(path), 'cgroup.subtree_control'), 'utf8')
      .split(/\s+/)
      .filter(Boolean)
      .map(c => c.replace(/^\+/, ''))
    this.files(path, {
      'cgroup.procs': '',
      'cgroup.controllers': enabled.join(' ') + '\n',
      'cgroup.subtree_control': '',
      'cgroup.kill': '',
      'cgroup.freeze': '0\n',
      'cgroup.events': 'populated 0\nfrozen 0\n',
      'cpu.stat': 'usage_usec 0\n',
    })
    for (const c of enabled) if (V2_FILES[c]) this.files(path, V2_FILES[c])
    if (enabled.includes('memory') && this.opts.swap) this.files(path, { 'memory.swap.max': 'max\n' })
    return true
  }

  rmdir(path: string): void {
    if (!existsSync(path)) throw Object.assign(new Error(`ENOENT: rmdir ${path}`), { code: 'ENOENT', errno: -2, syscall: 'rmdir', path })
    const entries = readdirSync(path, { withFileTypes: true })
    const busy = entries.some(e => e.isDirectory()) || readFileSync(join(path, 'cgroup.procs'), 'utf8').trim() !== ''
    if (busy) throw Object.assign(new Error(`EBUSY: rmdir ${path}`), { code: 'EBUSY', errno: -16, syscall: 'rmdir', path })
    for (const e of entries) unlinkSync(join(path, e.name))
    rmdirSync(path)
  }

  subdirs(path: string): string[] {
    return realFs.subdirs(path)
  }
  exists(path: string): boolean {
    return existsSync(path)
  }
  openDir(path: string): number {
    return realFs.openDir(path)
  }
  openWrite(path: string): number {
    return realFs.openWrite(path)
  }
  close(fd: number): void {
    realFs.close(fd)
  }

  /** A fake process: its pid appears in cgroup.procs; kill removes it everywhere. */
  kill(pid: number, signal: NodeJS.Signals): void {
    if (signal !== 'SIGKILL') throw new Error(`fake kill: unexpected ${signal}`)
    this.killed.push(pid)
    this.dropPid(this.root, pid)
  }

  private dropPid(dir: string, pid: number): void {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) this.dropPid(join(dir, e.name), pid)
      else if (e.name === 'cgroup.procs') {
        const left = readFileSync(join(dir, e.name), 'utf8')
          .split('\n')
          .filter(l => l.trim() && Number(l) !== pid)
        writeFileSync(join(dir, e.name), left.map(l => l + '\n').join(''))
      }
    }
  }

  /** Fake "kernel" side: put a pid into a cgroup without logging a write. */
  addProcess(relDir: string, pid: number): void {
    const f = join(this.root, relDir, 'cgroup.procs')
    writeFileSync(f, readFileSync(f, 'utf8') + `${pid}\n`)
  }

  /** Fake "kernel" side: set a file's content (usage counters, events). */
  set(relFile: string, content: string): void {
    writeFileSync(join(this.root, relFile), content)
  }

  read(relFile: string): string {
    return readFileSync(join(this.root, relFile), 'utf8')
  }

  /** Every directory under root named pod-* (pod-launch and pod-<uid>). */
  leftovers(): string[] {
    const out: string[] = []
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (!e.isDirectory()) continue
        const p = join(d, e.name)
        if (e.name.startsWith('pod-')) out.push(this.rel(p))
        walk(p)
      }
    }
    walk(this.root)
    return out
  }
}

function osErrno(code: string): number {
  return ({ EINVAL: 22, ENOENT: 2, EBUSY: 16, EACCES: 13, EPERM: 1, ESRCH: 3, EROFS: 30 } as Record<string, number>)[code] ?? 5
}

export function isDir(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory()
}
