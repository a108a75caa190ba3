// Mounts of ours left in the host's mount namespace: the only ones are
// tmpfs under a pod's directory (`emptyDir: {medium: Memory}`, secret and
// projected volumes, the pod's secrets directory). A supervisor that died
// cannot unmount them; rm --force and gc do.
import { mkdirSync, readFileSync } from 'node:fs'
import { PodError } from '../errors.js'
import { native } from '../spawn/native.js'

/**
 * Mount a tmpfs (nosuid, nodev) on `dir`, made if missing; `mode` of its
 * root, `sizeBytes` its limit. Throws `volume.mount` naming `what` (the
 * volume) and the mount.
 */
export function mountTmpfs(dir: string, opts: { mode: number; sizeBytes?: number }, what: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const f = native().mountFlags
  const data = `mode=${opts.mode.toString(8)}${opts.sizeBytes ? `,size=${opts.sizeBytes}` : ''}`
  try {
    native().mount('tmpfs', dir, 'tmpfs', f.MS_NOSUID | f.MS_NODEV, data)
  } catch (e) {
    throw PodError.system('volume.mount', e, `${what}: tmpfs (${data}) on ${dir}`)
  }
}

/** Mount points at or below `dir` in our mount namespace, deepest first. */
export function mountsBelow(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map(l => l.split(' ')[4])
    .filter((p): p is string => !!p && (p === dir || p.startsWith(prefix)))
    .map(p => p.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length)
}

/** Detach every mount below `dir`; returns what was unmounted. */
export function unmountBelow(dir: string): string[] {
  const done: string[] = []
  for (const p of mountsBelow(dir)) if (native().umount(p, true) === 0) done.push(p)
  return done
}
