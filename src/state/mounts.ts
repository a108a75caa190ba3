// Mounts of ours left in the host's mount namespace: the only ones are the
// tmpfs of `emptyDir: {medium: Memory}` volumes under a pod's directory.
// A supervisor that died cannot unmount them; rm --force and gc do.
import { readFileSync } from 'node:fs'
import { native } from '../spawn/index.js'

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
