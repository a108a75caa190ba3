// Image `host`: a read-only view of the host's programs and libraries, so
// node, python3 or busybox from the host run inside a container of their own.
// Built on a tmpfs root: the host's /usr, /bin, /sbin, /lib* (bound read-only,
// or the same symlinks on a merged-/usr system) and the few /etc files that
// programs need to start (users, name service, linker cache, certificates).
import { existsSync, lstatSync, readlinkSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import type { NativeMount } from '../spawn/index.js'
import { inRoot, mkdirs, type Flags } from './paths.js'

const TOP = ['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']
const ETC = [
  'passwd',
  'group',
  'nsswitch.conf',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'alternatives',
  'ssl',
  'ca-certificates',
  'services',
  'protocols',
  'host.conf',
  'localtime',
  'os-release',
  'debian_version',
  'mime.types',
]

/** Bind `source` read-only at `target` (a bind mount takes the ro flag only on a remount). */
export function bindReadOnly(f: Flags, source: string, target: string, recursive = true): NativeMount[] {
  const rec = recursive ? f.MS_REC : 0
  return [
    { source, target, flags: f.MS_BIND | rec },
    { target, flags: f.MS_BIND | f.MS_REMOUNT | f.MS_RDONLY | rec },
  ]
}

/**
 * A bind mount of a host file or directory at the container path `path`
 * inside `root`, its mountpoint made first (a missing source is taken as a directory).
 */
export function bindPath(f: Flags, source: string, root: string, path: string, readOnly: boolean, sourceIsDir?: boolean): NativeMount[] {
  const isDir = sourceIsDir ?? (existsSync(source) ? statSync(source).isDirectory() : !/\/(hosts|hostname|resolv\.conf)$|[/.]termination-log$/.test(source))
  const target = inRoot(root, path)
  const point: NativeMount[] = isDir ? mkdirs(root, path) : [...mkdirs(root, dirname(path)), { kind: 'file', target, mode: 0o644 }]
  return [...point, ...(readOnly ? bindReadOnly(f, source, target) : [{ source, target, flags: f.MS_BIND | f.MS_REC }])]
}

export function hostImageMounts(f: Flags, root: string): NativeMount[] {
  const m: NativeMount[] = [{ source: 'tmpfs', target: root, fstype: 'tmpfs', flags: f.MS_NOSUID | f.MS_NODEV, data: 'mode=755,size=65536k' }]
  // One lstat per host entry (and an existsSync per symlink), for every container of every pod.
  for (const d of TOP) {
    const host = `/${d}`
    const st = lstatSync(host, { throwIfNoEntry: false })
    if (!st || (st.isSymbolicLink() && !existsSync(host))) continue // missing, or a dangling link
    if (st.isSymbolicLink()) m.push({ kind: 'symlink', source: readlinkSync(host), target: `${root}/${d}` })
    else if (st.isDirectory()) m.push({ kind: 'mkdir', target: `${root}/${d}`, mode: 0o755 }, ...bindReadOnly(f, host, `${root}/${d}`))
  }
  m.push({ kind: 'mkdir', target: `${root}/etc`, mode: 0o755 })
  for (const e of ETC) {
    const host = `/etc/${e}`
    const st = lstatSync(host, { throwIfNoEntry: false })
    if (!st || (st.isSymbolicLink() && !existsSync(host))) continue // missing, or a dangling link
    if (st.isSymbolicLink()) m.push({ kind: 'symlink', source: readlinkSync(host), target: `${root}/etc/${e}` })
    else m.push(...bindPath(f, host, root, `/etc/${e}`, true, st.isDirectory()))
  }
  for (const d of ['root', 'home', 'run', 'var', 'var/tmp', 'opt', 'mnt']) m.push({ kind: 'mkdir', target: `${root}/${d}`, mode: 0o755 })
  return m
}
