// Namespace files of a running process: open them (to join) and read inodes.
import { closeSync, constants, openSync, statSync } from 'node:fs'
import { PodError } from '../errors.js'
import type { NsType } from '../spawn/index.js'

export const NS_TYPES: NsType[] = ['uts', 'ipc', 'net', 'pid', 'mnt', 'cgroup', 'user', 'time']

export function nsPath(pid: number | 'self', type: NsType): string {
  return `/proc/${pid}/ns/${type}`
}

/** Inode of each namespace of `pid` (the number in `net:[4026531840]`). */
export function namespaceInodes(pid: number | 'self'): Record<NsType, number> {
  const out = {} as Record<NsType, number>
  for (const type of NS_TYPES) {
    try {
      out[type] = statSync(nsPath(pid, type)).ino
    } catch (e) {
      throw PodError.system('ns.read', e, nsPath(pid, type))
    }
  }
  return out
}

/** Open namespace files as close-on-exec fds; on failure closes what it opened. */
export function openNamespaces(pid: number, types: NsType[]): Map<NsType, number> {
  const fds = new Map<NsType, number>()
  try {
    for (const type of types) fds.set(type, openSync(nsPath(pid, type), 'r'))
  } catch (e) {
    closeAll(fds)
    throw PodError.system('ns.open', e, (e as NodeJS.ErrnoException).path)
  }
  return fds
}

/** A process's root directory (`/proc/PID/root`), open close-on-exec (to fchdir to). Throws `ns.open`. */
export function openDirectory(path: string): number {
  try {
    return openSync(path, constants.O_RDONLY | constants.O_DIRECTORY)
  } catch (e) {
    throw PodError.system('ns.open', e, path)
  }
}

export function closeAll(fds: Map<NsType, number>): void {
  for (const fd of fds.values()) closeSync(fd)
  fds.clear()
}
