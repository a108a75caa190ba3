// The seam: every cgroup file operation goes through a CgroupFs, so unit
// tests run on fake trees (t.testdir) with a fake statfs and mountinfo.
import { closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, statfsSync, statSync, writeSync } from 'node:fs'

export const CGROUP2_SUPER_MAGIC = 0x63677270
export const CGROUP_SUPER_MAGIC = 0x27e0eb
export const TMPFS_MAGIC = 0x01021994

export interface CgroupFs {
  /** statfs(2) f_type of a path. */
  statfsType(path: string): number
  /** Text of /proc/self/mountinfo (proc(5)). */
  mountinfo(): string
  readFile(path: string): string
  /**
   * One write(2) of `value`, opened O_WRONLY|O_TRUNC and never O_CREAT
   * (as runc does): a missing control file is ENOENT, not a new file.
   */
  writeFile(path: string, value: string): void
  /** mkdir(2); false when the directory already existed (EEXIST on a file is thrown). */
  mkdir(path: string): boolean
  rmdir(path: string): void
  /** Names of the subdirectories (child cgroups) of a cgroup directory. */
  subdirs(path: string): string[]
  exists(path: string): boolean
  /** An O_RDONLY|O_DIRECTORY fd of a cgroup2 directory (for CLONE_INTO_CGROUP). */
  openDir(path: string): number
  /** An O_WRONLY fd of a control file, never O_CREAT (a cgroup v1 `tasks` file a child writes itself to). */
  openWrite(path: string): number
  close(fd: number): void
  /** kill(2); ESRCH is thrown like any error. */
  kill(pid: number, signal: NodeJS.Signals): void
}

export const realFs: CgroupFs = {
  statfsType: path => statfsSync(path).type,
  mountinfo: () => readFileSync('/proc/self/mountinfo', 'utf8'),
  readFile: path => readFileSync(path, 'utf8'),
  writeFile(path, value) {
    const fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC)
    try {
      writeSync(fd, value)
    } finally {
      closeSync(fd)
    }
  },
  mkdir(path) {
    try {
      mkdirSync(path)
      return true
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(path).isDirectory()) return false
      throw e
    }
  },
  rmdir: path => rmdirSync(path),
  subdirs: path =>
    readdirSync(path, { withFileTypes: true })
      .filter(d => d.isDirectory())
      .map(d => d.name),
  exists: path => existsSync(path),
  openDir: path => openSync(path, constants.O_RDONLY | constants.O_DIRECTORY),
  openWrite: path => openSync(path, constants.O_WRONLY),
  close: fd => closeSync(fd),
  kill: (pid, signal) => void process.kill(pid, signal),
}
