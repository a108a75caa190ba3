// Pod shims running on this host, found through /proc (gc ends the orphaned
// ones; an engine adopts only a pod whose owner really is a shim).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { shimPath } from '../spawn/index.js'
import { startTicks, type ProcessIdentity } from '../state/index.js'

const SHIM_COMM = 'pod-launch-shim'

/** Whether `pid` is a pod shim (by its command name; the binary may have been rebuilt since). */
export function isShim(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === SHIM_COMM
  } catch {
    return false
  }
}

export interface RunningShim extends ProcessIdentity {
  /** The pod directory it serves (`--dir`). */
  dir: string
}

/** Every live shim, with the pod directory its command line names. */
export function findShims(): RunningShim[] {
  let bin = ''
  try {
    bin = shimPath()
  } catch {
    // not built: match by name only
  }
  const out: RunningShim[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const pid = Number(name)
    try {
      if (!isShim(pid)) continue
      const exe = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '')
      if (bin && exe !== bin && !exe.endsWith(`/${SHIM_COMM}`)) continue
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
      const i = argv.indexOf('--dir')
      const ticks = startTicks(pid)
      if (i < 0 || !argv[i + 1] || ticks === undefined) continue
      out.push({ pid, startTicks: ticks, dir: argv[i + 1] })
    } catch {
      // gone meanwhile
    }
  }
  return out
}
