// The pod's directory under the state root: CRI logs, the pod's /dev/shm,
// each container's termination-log file. Removed with the pod. Paths come
// from state/layout.ts; this class only makes and removes them.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { PodError } from '../errors.js'
import { containerDir, containersDir, logFile, logsDir, podDir, rootfsDir, shmDir, terminationLogFile, upperDir, workDir } from '../state/index.js'

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

  /** An empty directory the container's root is built on (in its own mount namespace only). */
  rootfs(container: string): string {
    const dir = rootfsDir(this.root, container)
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
   * container instance, writable by any uid (mode 0666, without the umask).
   */
  terminationLog(container: string): string {
    mkdirSync(containerDir(this.root, container), { recursive: true, mode: 0o700 })
    const file = terminationLogFile(this.root, container)
    rmSync(file, { force: true })
    writeFileSync(file, '', { mode: 0o666, flag: 'wx' })
    chmodSync(file, 0o666)
    return file
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true })
  }
}
