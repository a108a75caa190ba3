// Find host processes by namespace inode (for "nothing left behind" checks).
import { readdirSync, statSync } from 'node:fs'

/** Pids of every process whose `type` namespace has inode `ino`. */
export function processesInNamespace(type: 'uts' | 'pid' | 'net' | 'ipc', ino: number): number[] {
  const found: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (statSync(`/proc/${name}/ns/${type}`).ino === ino) found.push(Number(name))
    } catch {
      // gone, or unreadable (pid 1 of this VM): not ours
    }
  }
  return found
}
