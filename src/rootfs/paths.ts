// Small helpers of the mount plan.
import type { Addon, NativeMount } from '../spawn/native.js'

export type Flags = Addon['mountFlags']

/** mkdir of every component of an absolute path (EEXIST is fine in the child). */
export function mkdirs(path: string, mode = 0o755): NativeMount[] {
  const parts = path.split('/').filter(Boolean)
  return parts.map((_, i) => ({ kind: 'mkdir' as const, target: '/' + parts.slice(0, i + 1).join('/'), mode }))
}

/** `root` + an absolute container path. */
export const inRoot = (root: string, path: string) => (path === '/' ? root : `${root}${path}`)
