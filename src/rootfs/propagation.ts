// Mount propagation of volumes (CRI Mount.propagation; mount_namespaces(7)):
// HostToContainer (rslave) lets mounts made on the host under the volume
// appear in the container; Bidirectional (rshared) also lets the container's
// mounts there appear on the host. Both need the volume's source to sit on a
// shared mount of the host (containerd checks the same).
//
// A container's mount plan normally starts by making its whole mount
// namespace private, which cuts every tie with the host. A plan with a
// propagating volume instead keeps the ties, and contains them: the host
// mount holding the container's root is made private (so nothing mounted in
// the root reaches the host, and pivot_root(2) accepts it), every bind mount
// is given its propagation right after it is made (private, or the volume's
// rslave / rshared), and pivot_root's old root is made a recursive slave
// before it is detached (native/spawn.c), as runc does.
import { existsSync, readFileSync, realpathSync } from 'node:fs'
import { dirname } from 'node:path'
import type { VolumeMount } from '../spec/index.js'
import type { NativeMount } from '../spawn/index.js'
import type { Flags } from './paths.js'

export interface HostMount {
  /** Where it is mounted. */
  mountPoint: string
  /** It is in a peer group (mountinfo `shared:N`). */
  shared: boolean
  /** It receives from a master (mountinfo `master:N`). */
  slave: boolean
}

/** mountinfo(5) escapes space, tab, newline and backslash as octal. */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))

/** The mount of our mount namespace that holds `path` (a real path: no symlinks in it), the topmost at its mount point. */
export function hostMountOf(path: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): HostMount {
  let best: HostMount = { mountPoint: '/', shared: false, slave: false }
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ')
    if (f.length < 7) continue
    const mountPoint = unescape(f[4])
    const under = mountPoint === '/' || path === mountPoint || path.startsWith(`${mountPoint}/`)
    // Later lines are mounted later: at the same mount point, the later one is on top.
    if (!under || mountPoint.length < best.mountPoint.length) continue
    const optional = f.slice(6, f.indexOf('-'))
    best = { mountPoint, shared: optional.some(o => o.startsWith('shared:')), slave: optional.some(o => o.startsWith('master:')) }
  }
  return best
}

/** `path` with its symlinks resolved, as far as it exists (the rest appended as is). */
export function realPath(path: string): string {
  let head = path
  while (!existsSync(head)) head = dirname(head)
  return `${realpathSync(head)}${path.slice(head.length)}`.replace(/\/\/+/g, '/')
}

/** The container's volumes that propagate, by their target in the staging root. */
export function propagatingTargets(root: string, mounts: readonly VolumeMount[]): Map<string, NonNullable<VolumeMount['propagation']>> {
  return new Map(mounts.filter(v => v.propagation).map(v => [`${root}${v.mountPath}`, v.propagation!]))
}

/**
 * The mounts of a plan with a propagating volume: first the host mount
 * holding the root made private, then `mounts` with propagation set after
 * each bind: a propagating volume's rslave or rshared, private for every
 * other bind.
 */
export function withPropagation(f: Flags, mounts: NativeMount[], root: string, targets: Map<string, string>): NativeMount[] {
  const out: NativeMount[] = [{ target: hostMountOf(realPath(root)).mountPoint, flags: f.MS_PRIVATE }]
  for (const m of mounts) {
    out.push(m)
    const isBind = (m.kind ?? 'mount') === 'mount' && ((m.flags ?? 0) & f.MS_BIND) !== 0 && ((m.flags ?? 0) & f.MS_REMOUNT) === 0
    if (!isBind) continue
    const p = targets.get(m.target)
    const flag = p === 'Bidirectional' ? f.MS_SHARED : p === 'HostToContainer' ? f.MS_SLAVE : f.MS_PRIVATE
    out.push({ target: m.target, flags: f.MS_REC | flag })
  }
  return out
}
