// The mount plan of a container on the host filesystem (images come later):
// private propagation, its own /proc, and a minimal private /dev like runc's
// (device nodes bound from the host, new devpts and mqueue, the pod's shm,
// the termination-log file). Executed in order by the child (native/spawn.c).
//
// The new /dev is built on a staging directory and moved onto /dev at the end:
// a bind mount can only take its source from the caller's own mount namespace,
// so the host's device nodes are bound by path while /dev is still the host's.
import { native, type NativeMount } from '../spawn/native.js'

export const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'] as const

export interface MountInputs {
  /** An empty directory on the host (in the pod dir) to build /dev on. */
  staging: string
  /** Directory bound at /dev/shm (the pod's), or the host's with hostIPC. */
  shmDir: string
  /** New mqueue mount (own ipc namespace) or none (hostIPC). */
  ownIpc: boolean
  /** Host file bound at /dev/<name> for terminationMessagePath. */
  terminationLog?: { source: string; target: string }
}

export function containerMounts(inp: MountInputs): NativeMount[] {
  const f = native().mountFlags
  const s = inp.staging
  const m: NativeMount[] = [
    // Nothing this container mounts may propagate back to the host.
    { target: '/', flags: f.MS_REC | f.MS_PRIVATE },
    // A /proc of the container's own pid namespace (pid 1 = its process, or pause when shared).
    { source: 'proc', target: '/proc', fstype: 'proc', flags: f.MS_NOSUID | f.MS_NODEV | f.MS_NOEXEC },
    // A private /dev as runc makes it: tmpfs, then only the safe devices.
    { source: 'tmpfs', target: s, fstype: 'tmpfs', flags: f.MS_NOSUID | f.MS_STRICTATIME, data: 'mode=755,size=65536k' },
  ]
  for (const d of DEVICES) {
    m.push({ kind: 'file', target: `${s}/${d}`, mode: 0o666 })
    m.push({ source: `/dev/${d}`, target: `${s}/${d}`, flags: f.MS_BIND })
  }
  m.push(
    { kind: 'mkdir', target: `${s}/pts`, mode: 0o755 },
    { source: 'devpts', target: `${s}/pts`, fstype: 'devpts', flags: f.MS_NOSUID | f.MS_NOEXEC, data: 'newinstance,ptmxmode=0666,mode=0620,gid=5' },
    { kind: 'symlink', source: 'pts/ptmx', target: `${s}/ptmx` },
    { kind: 'mkdir', target: `${s}/shm`, mode: 0o1777 },
    { source: inp.shmDir, target: `${s}/shm`, flags: f.MS_BIND },
    { kind: 'mkdir', target: `${s}/mqueue`, mode: 0o755 },
  )
  if (inp.ownIpc) m.push({ source: 'mqueue', target: `${s}/mqueue`, fstype: 'mqueue', flags: f.MS_NOSUID | f.MS_NODEV | f.MS_NOEXEC })
  for (const [name, to] of [['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2'], ['core', '/proc/kcore']]) {
    m.push({ kind: 'symlink', source: to, target: `${s}/${name}` })
  }
  if (inp.terminationLog) {
    const target = `${s}/${inp.terminationLog.target.slice('/dev/'.length)}`
    m.push({ kind: 'file', target, mode: 0o666 }, { source: inp.terminationLog.source, target, flags: f.MS_BIND })
  }
  m.push({ source: s, target: '/dev', flags: f.MS_MOVE })
  return m
}
