// A container's whole mount plan, executed in order by its child (after
// unshare(CLONE_NEWNS), before chdir and exec; native/spawn.c):
//  1. / recursively private: nothing propagates back to the host (with a
//     propagating volume, the ties are kept and contained: propagation.ts);
//  2. the root filesystem on its staging directory R: the host view (tmpfs +
//     read-only binds), or an overlay of the image (lower) and a fresh upper;
//  3. R/proc (new, this pid namespace), R/sys read-only, a minimal runc-like
//     R/dev (host device nodes, new devpts, mqueue, the pod's shm);
//  4. /etc/hosts, /etc/hostname, /etc/resolv.conf of the pod; the
//     termination-log; the volumes (readOnly, subPath);
//  5. the working directory made;
//  6. R read-only when readOnlyRootFilesystem; pivot_root into R, old root detached;
//  7. masked and read-only paths, in the container's own view.
import { readdirSync, readlinkSync } from 'node:fs'
import { dirname } from 'node:path'
import { type NativeMount, native } from '../spawn/index.js'
import type { DeviceMapping } from '../spec/index.js'
import type { EtcFiles } from './etc-files.js'
import { bindPath, hostImageMounts } from './host-image.js'
import { maskMounts } from './masks.js'
import { propagatingTargets, withPropagation } from './propagation.js'
import { inRoot, mkdirs } from './paths.js'
import { volumeMounts } from './volumes.js'

export const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'] as const

export type RootSource = { kind: 'host' } | { kind: 'overlay'; lower: string[]; upper: string; work: string }

export interface RootfsInputs {
  /** Empty directory on the host (in the pod dir) the root is built on. */
  root: string
  source: RootSource
  shmDir: string
  ownIpc: boolean
  etc: EtcFiles
  /** Host file bound at terminationMessagePath. */
  terminationLog?: { source: string; target: string }
  volumes: { mounts: readonly import('../spec/index.js').VolumeMount[]; sources: Map<string, string> }
  workingDir: string
  readOnlyRoot: boolean
  /** privileged: the host's devices in /dev, /sys writable, no masked paths (as runc does for privileged). */
  privileged?: boolean
  /** Host device nodes at container paths (CRI devices), besides DEVICES. */
  devices?: readonly DeviceMapping[]
  /** Container paths to mask and to make read-only (default runc's: MASKED_PATHS, READONLY_PATHS). */
  maskedPaths?: readonly string[]
  readonlyPaths?: readonly string[]
}

/** What the container's /dev makes itself (its own devpts, shm, mqueue, the fd links): not taken from the host's. */
const OWN_DEV_ENTRIES = new Set(['pts', 'ptmx', 'shm', 'mqueue', 'fd', 'stdin', 'stdout', 'stderr', 'core'])

/**
 * privileged: every device of the host's /dev in the container's own /dev
 * tmpfs (runc gives a privileged container all host devices; a tmpfs keeps
 * the mountpoints the plan makes, such as the termination-log, off the
 * host's /dev). Device nodes and sockets are bound, directories of devices
 * bound recursively, symlinks copied; regular files are no devices.
 */
function hostDevices(f: ReturnType<typeof native>['mountFlags'], d: string): NativeMount[] {
  const m: NativeMount[] = []
  for (const e of readdirSync('/dev', { withFileTypes: true })) {
    if (OWN_DEV_ENTRIES.has(e.name)) continue
    const host = `/dev/${e.name}`
    const target = `${d}/${e.name}`
    if (e.isCharacterDevice() || e.isBlockDevice() || e.isSocket() || e.isFIFO())
      m.push({ kind: 'file', target, mode: 0o666 }, { source: host, target, flags: f.MS_BIND })
    else if (e.isDirectory()) m.push({ kind: 'mkdir', target, mode: 0o755 }, { source: host, target, flags: f.MS_BIND | f.MS_REC })
    else if (e.isSymbolicLink()) m.push({ kind: 'symlink', source: readlinkSync(host), target })
  }
  return m
}

function devMounts(r: string, inp: RootfsInputs): NativeMount[] {
  const f = native().mountFlags
  const d = `${r}/dev`
  const m: NativeMount[] = [
    { kind: 'mkdir', target: d, mode: 0o755 },
    { source: 'tmpfs', target: d, fstype: 'tmpfs', flags: f.MS_NOSUID | f.MS_STRICTATIME, data: 'mode=755,size=65536k' },
  ]
  // The host's /dev is still ours until pivot_root: bind its safe device nodes by path.
  if (inp.privileged) m.push(...hostDevices(f, d))
  else
    for (const dev of DEVICES) m.push({ kind: 'file', target: `${d}/${dev}`, mode: 0o666 }, { source: `/dev/${dev}`, target: `${d}/${dev}`, flags: f.MS_BIND })
  m.push(
    { kind: 'mkdir', target: `${d}/pts`, mode: 0o755 },
    { source: 'devpts', target: `${d}/pts`, fstype: 'devpts', flags: f.MS_NOSUID | f.MS_NOEXEC, data: 'newinstance,ptmxmode=0666,mode=0620,gid=5' },
    { kind: 'symlink', source: 'pts/ptmx', target: `${d}/ptmx` },
    { kind: 'mkdir', target: `${d}/shm`, mode: 0o1777 },
    { source: inp.shmDir, target: `${d}/shm`, flags: f.MS_BIND },
    { kind: 'mkdir', target: `${d}/mqueue`, mode: 0o755 },
  )
  if (inp.ownIpc) m.push({ source: 'mqueue', target: `${d}/mqueue`, fstype: 'mqueue', flags: f.MS_NOSUID | f.MS_NODEV | f.MS_NOEXEC })
  for (const [name, to] of [
    ['fd', '/proc/self/fd'],
    ['stdin', '/proc/self/fd/0'],
    ['stdout', '/proc/self/fd/1'],
    ['stderr', '/proc/self/fd/2'],
    ['core', '/proc/kcore'],
  ]) {
    m.push({ kind: 'symlink', source: to, target: `${d}/${name}` })
  }
  for (const dv of inp.devices ?? []) {
    const target = inRoot(r, dv.containerPath)
    m.push(...mkdirs(r, dirname(dv.containerPath)), { kind: 'file', target, mode: 0o666 })
    m.push({ source: dv.hostPath, target, flags: f.MS_BIND })
  }
  return [...m, ...termLog(r, inp)]
}

function termLog(r: string, inp: RootfsInputs): NativeMount[] {
  if (!inp.terminationLog) return []
  const f = native().mountFlags
  const target = inRoot(r, inp.terminationLog.target)
  return [
    ...mkdirs(r, dirname(inp.terminationLog.target)),
    { kind: 'file', target, mode: 0o666 },
    { source: inp.terminationLog.source, target, flags: f.MS_BIND },
  ]
}

/**
 * The host file below `dir` that `mounts` (a container's, with its pivot)
 * bind at `path` of the container's root, the last such bind; undefined when
 * none does. Files outside `dir` (a kubelet's own termination-log, a volume)
 * are not taken.
 */
export function boundFile(mounts: readonly NativeMount[], path: string, dir: string): string | undefined {
  const root = mounts.find(m => m.kind === 'pivot')?.target
  if (root === undefined) return undefined
  const target = inRoot(root, path)
  const f = native().mountFlags
  const isBind = (m: NativeMount) => (m.kind ?? 'mount') === 'mount' && ((m.flags ?? 0) & (f.MS_BIND | f.MS_REMOUNT)) === f.MS_BIND
  return mounts.findLast(m => m.target === target && isBind(m) && (m.source ?? '').startsWith(`${dir}/`))?.source
}

export function rootfsMounts(inp: RootfsInputs): NativeMount[] {
  const f = native().mountFlags
  const r = inp.root
  const m: NativeMount[] = []
  if (inp.source.kind === 'host') m.push(...hostImageMounts(f, r))
  else {
    // overlayfs(5): the leftmost lowerdir is the top layer. Not nosuid: a setuid
    // program of the image works unless no_new_privs (allowPrivilegeEscalation:
    // false) says otherwise, as with containerd's rootfs; nodev stays (no device
    // cgroup here to stop a device node shipped in an image).
    const lower = [...inp.source.lower].reverse().join(':')
    m.push({
      source: 'overlay',
      target: r,
      fstype: 'overlay',
      flags: f.MS_NODEV,
      data: `lowerdir=${lower},upperdir=${inp.source.upper},workdir=${inp.source.work}`,
    })
  }
  m.push(
    { kind: 'mkdir', target: `${r}/proc`, mode: 0o555 },
    { source: 'proc', target: `${r}/proc`, fstype: 'proc', flags: f.MS_NOSUID | f.MS_NODEV | f.MS_NOEXEC },
    { kind: 'mkdir', target: `${r}/sys`, mode: 0o555 },
    { source: 'sysfs', target: `${r}/sys`, fstype: 'sysfs', flags: f.MS_NOSUID | f.MS_NODEV | f.MS_NOEXEC | (inp.privileged ? 0 : f.MS_RDONLY) },
    { kind: 'mkdir', target: `${r}/tmp`, mode: 0o1777 },
    ...devMounts(r, inp),
    { kind: 'mkdir', target: `${r}/etc`, mode: 0o755 },
    ...bindPath(f, inp.etc.hosts, r, '/etc/hosts', false),
    ...bindPath(f, inp.etc.hostname, r, '/etc/hostname', false),
    ...bindPath(f, inp.etc.resolvConf, r, '/etc/resolv.conf', false),
    ...volumeMounts(r, inp.volumes.mounts, inp.volumes.sources),
    ...mkdirs(r, inp.workingDir),
  )
  if (inp.readOnlyRoot) m.push({ target: r, flags: f.MS_BIND | f.MS_REMOUNT | f.MS_RDONLY })
  m.push({ kind: 'pivot', target: r })
  if (!inp.privileged) m.push(...maskMounts(f, inp.maskedPaths, inp.readonlyPaths))
  const propagating = propagatingTargets(r, inp.volumes.mounts)
  // Nothing shared with the host, unless a volume asks for propagation (propagation.ts).
  return propagating.size > 0 ? withPropagation(f, m, r, propagating) : [{ target: '/', flags: f.MS_REC | f.MS_PRIVATE }, ...m]
}
