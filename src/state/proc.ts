// Process identity across commands: a pid plus its start time (field 22 of
// /proc/<pid>/stat), so a recycled pid is never mistaken for ours.
import { readdirSync, readFileSync } from 'node:fs'

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

/** A process as another command finds it again: its pid and start time. */
export interface ProcessIdentity {
  pid: number
  startTicks: string
}

/** `pid` as it is now (start time '' when it is already gone). */
export function processIdentity(pid: number): ProcessIdentity {
  return { pid, startTicks: startTicks(pid) ?? '' }
}

/** Whether the very process `p` recorded still runs (same pid, same start time, not a zombie). */
export function isAlive(p: ProcessIdentity | null | undefined): boolean {
  return !!p && startTicks(p.pid) === p.startTicks
}

const POD_CGROUP = /\/pod-([0-9a-f-]{36})(?:\/|$)/

/** The pod uid whose cgroup (`.../pod-<uid>/...`, any parent, any hierarchy) holds `pid`, if any. */
export function podOfProcess(pid: number): string | undefined {
  try {
    for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
      const m = POD_CGROUP.exec(line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1))
      if (m) return m[1]
    }
  } catch {
    // gone meanwhile
  }
  return undefined
}

/** Every live process in a pod cgroup, by pod uid: the proof a pod is (or is not) still running. */
export function processesByPod(): Map<string, number[]> {
  const out = new Map<string, number[]>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const pid = Number(name)
    const uid = podOfProcess(pid)
    if (!uid || startTicks(pid) === undefined) continue
    out.set(uid, [...(out.get(uid) ?? []), pid])
  }
  return out
}
