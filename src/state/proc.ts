// Process identity across commands: a pid plus its start time (field 22 of
// /proc/<pid>/stat), so a recycled pid is never mistaken for ours.
import { readFileSync } from 'node:fs'

export function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (fields[0] === 'Z') return undefined // a zombie is not alive
    return fields[19]
  } catch {
    return undefined
  }
}

export function isAlive(p: { pid: number; startTicks: string } | null | undefined): boolean {
  return !!p && startTicks(p.pid) === p.startTicks
}
