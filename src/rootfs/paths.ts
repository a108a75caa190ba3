// Small helpers of the mount plan.
import type { Native, NativeMount } from '../spawn/index.js'

export type Flags = Native['mountFlags']

/**
 * mkdir of every component of the container path `path` below `root` (EEXIST
 * is fine in the child); the root and the host directories above it exist.
 */
export function mkdirs(root: string, path: string, mode = 0o755): NativeMount[] {
  const parts = path.split('/').filter(Boolean)
  return parts.map((_, i) => ({ kind: 'mkdir' as const, target: `${root}/${parts.slice(0, i + 1).join('/')}`, mode }))
}

/** `root` + an absolute container path. */
export const inRoot = (root: string, path: string) => (path === '/' ? root : `${root}${path}`)
