// Find host processes by namespace inode (for "nothing left behind" checks).
// Namespace inodes are reused as soon as a namespace dies, and tests run in
// parallel: a process is only counted when it was born before `bornBefore`
// (clock ticks since boot, see bootTicks), so a newer pod that got the same
// inode is never mistaken for a leftover of ours.
import { readdirSync, readFileSync, statSync } from 'node:fs'

const CLK_TCK = 100

/** Now, in clock ticks since boot (the unit of /proc/<pid>/stat field 22). */
export function bootTicks(): number {
  return Math.floor(Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * CLK_TCK)
}

function startTicks(pid: string): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19])
}

/** Running: it exists and is not a zombie waiting for its reaper (the state follows the last ')' of stat). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat[stat.lastIndexOf(')') + 2] !== 'Z'
  } catch {
    return false
  }
}

/** The pod uid whose cgroup holds `pid` (`.../pod-<uid>/...`), if any. */
function podOf(pid: string): string | undefined {
  return /\/pod-([0-9a-f-]{36})(?:\/|$)/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1]
}

/**
 * Pids of every process whose `type` namespace has inode `ino` (and, if
 * given, born before `bornBefore`). With `uid`, a process in another pod's
 * cgroup is not counted: it is that pod's, in a namespace that got our
 * freed inode while tests run in parallel.
 */
export function processesInNamespace(type: 'uts' | 'pid' | 'net' | 'ipc', ino: number, bornBefore = Infinity, uid?: string): number[] {
  const found: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (statSync(`/proc/${name}/ns/${type}`).ino !== ino || startTicks(name) >= bornBefore) continue
      const pod = uid === undefined ? undefined : podOf(name)
      if (pod === undefined || pod === uid) found.push(Number(name))
    } catch {
      // gone, or unreadable (pid 1 of this VM): not ours
    }
  }
  return found
}
