// The pod's directory under the state root: CRI logs, the pod's /dev/shm,
// each container's termination-log file. Removed with the pod. Paths come
// from state/layout.ts (a container's termination-log from its plan:
// plan.ts terminationLogOf); this class only makes and removes them.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { readdir, rm, rmdir, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { PodError } from '../errors.js'
import {
  containersDir,
  logFile,
  logsDir,
  mountTmpfs,
  mountsBelow,
  podDir,
  rootfsDir,
  secretsDir,
  shmDir,
  unmountBelow,
  upperDir,
  workDir,
} from '../state/index.js'
import type { SealedLists } from '../spawn/index.js'

/** The secrets tmpfs' limit: the Secrets a pod reads (1 MiB each at most) and each container's env, with room to spare. */
export const SECRETS_TMPFS_BYTES = 64 << 20

export class PodDir {
  readonly root: string
  constructor(stateRoot: string, uid: string) {
    this.root = podDir(stateRoot, uid)
  }

  create(): void {
    try {
      mkdirSync(shmDir(this.root), { recursive: true, mode: 0o700 })
      mkdirSync(logsDir(this.root), { recursive: true, mode: 0o750 })
      mkdirSync(containersDir(this.root), { recursive: true, mode: 0o700 })
    } catch (e) {
      throw PodError.system('state.mkdir', e, this.root)
    }
  }

  get shm(): string {
    return shmDir(this.root)
  }

  /** `<pod dir>/logs/<container>/<restartCount>.log`, its folder made. */
  logFile(container: string, restartCount: number): string {
    const file = logFile(this.root, container, restartCount)
    mkdirSync(dirname(file), { recursive: true, mode: 0o750 })
    return file
  }

  /** The empty directory the pod's containers build their roots on (each in its own mount namespace only). */
  rootfs(): string {
    const dir = rootfsDir(this.root)
    mkdirSync(dir, { recursive: true, mode: 0o755 })
    return dir
  }

  /** A fresh overlay upper and work directory for a container run (writes never reach the image). */
  freshLayer(container: string): { upper: string; work: string } {
    const upper = upperDir(this.root, container)
    const work = workDir(this.root, container)
    rmSync(upper, { recursive: true, force: true })
    rmSync(work, { recursive: true, force: true })
    mkdirSync(upper, { recursive: true, mode: 0o755 })
    mkdirSync(work, { recursive: true, mode: 0o700 })
    return { upper, work }
  }

  /**
   * A new, empty termination-log for a container instance (bind-mounted at
   * terminationMessagePath): a new file each run, as kubelet makes one per
   * container instance, writable by any uid (mode 0666, without the umask),
   * at `file` (plan.ts terminationLogOf).
   */
  terminationLog(file: string): string {
    rmSync(file, { force: true })
    writeFileSync(file, '', { mode: 0o666, flag: 'wx' })
    chmodSync(file, 0o666)
    return file
  }

  /**
   * The pod's secrets tmpfs (the pod reads a Secret): made before anything
   * is written there; unmounted by `closeSecrets`, or by rm --force and gc.
   */
  openSecrets(): void {
    if (mountsBelow(secretsDir(this.root)).length > 0) return // a detached start made it and put the Secrets there
    mountTmpfs(secretsDir(this.root), { mode: 0o700, sizeBytes: SECRETS_TMPFS_BYTES }, 'the secrets directory')
  }

  closeSecrets(): void {
    unmountBelow(secretsDir(this.root))
  }

  /** A container's real envp and argv, on the secrets tmpfs only (owner-only). */
  seal(file: string, lists: SealedLists): void {
    try {
      writeFileSync(file, JSON.stringify(lists), { mode: 0o600 })
    } catch (e) {
      throw PodError.system('state.seal', e, file)
    }
  }

  /**
   * The whole directory, as rm -rf. Its subtrees go concurrently on libuv's
   * thread pool: on ext4 with online discard (this project's VMs), each
   * directory's rmdir waits for the disk to discard its block (0.2-13 ms
   * each, ~35 directories in a pod of 10 containers).
   */
  remove(): Promise<void> {
    return removeTree(this.root)
  }
}

/**
 * rm -rf of a tree of plain files and directories: one readdir with types
 * per directory, its entries all at once (rm's own walk tries rmdir first
 * and lstats every entry), then the directory. Missing paths are fine; a
 * type that is not a directory, file, link, fifo or socket goes to rm.
 */
async function removeTree(dir: string): Promise<void> {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return
    if (code === 'ENOTDIR') return rm(dir, { force: true })
    throw e
  }
  const done = await Promise.allSettled(
    entries.map(d => {
      const path = join(dir, d.name)
      if (d.isDirectory()) return removeTree(path)
      if (d.isFile() || d.isSymbolicLink() || d.isFIFO() || d.isSocket()) return unlink(path).catch(missingOk)
      return rm(path, { recursive: true, force: true })
    }),
  )
  // Every removal has ended before the first failure is thrown: nothing goes on in the background.
  for (const r of done) if (r.status === 'rejected') throw r.reason
  await rmdir(dir).catch(missingOk)
}

function missingOk(e: NodeJS.ErrnoException): void {
  if (e.code !== 'ENOENT') throw e
}
