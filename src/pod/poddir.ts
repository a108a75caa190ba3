// The pod's directory under the state root: CRI logs, the pod's /dev/shm,
// each container's termination-log file. Removed with the pod.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PodError } from '../errors.js'

export const DEFAULT_STATE_ROOT = '/run/pod-launch'

export class PodDir {
  readonly root: string
  constructor(stateRoot: string, uid: string) {
    this.root = join(stateRoot, uid)
  }

  create(): void {
    try {
      mkdirSync(join(this.root, 'shm'), { recursive: true, mode: 0o700 })
      mkdirSync(join(this.root, 'logs'), { recursive: true, mode: 0o750 })
      mkdirSync(join(this.root, 'containers'), { recursive: true, mode: 0o700 })
    } catch (e) {
      throw PodError.system('state.mkdir', e, this.root)
    }
  }

  get shm(): string {
    return join(this.root, 'shm')
  }

  /** `<pod dir>/logs/<container>/<restartCount>.log`, its folder made. */
  logFile(container: string, restartCount: number): string {
    const dir = join(this.root, 'logs', container)
    mkdirSync(dir, { recursive: true, mode: 0o750 })
    return join(dir, `${restartCount}.log`)
  }

  /** An empty directory the container's root is built on (in its own mount namespace only). */
  rootfs(container: string): string {
    const dir = join(this.root, 'containers', container, 'rootfs')
    mkdirSync(dir, { recursive: true, mode: 0o755 })
    return dir
  }

  /** A fresh overlay upper and work directory for a container run (writes never reach the image). */
  freshLayer(container: string): { upper: string; work: string } {
    const base = join(this.root, 'containers', container)
    const upper = join(base, 'upper')
    const work = join(base, 'work')
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
    const dir = join(this.root, 'containers', container)
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const file = join(dir, 'termination-log')
    rmSync(file, { force: true })
    writeFileSync(file, '', { mode: 0o666, flag: 'wx' })
    chmodSync(file, 0o666)
    return file
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true })
  }
}
