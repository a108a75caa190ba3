// The management commands (ps is in ps.ts, exec in exec.ts): inspect, logs, stop, rm (detached pods).
import {
  DEFAULT_PERSIST_ROOT,
  gc,
  inspectPod,
  podLogs,
  podStats,
  removePod,
  stopPod,
  unpersistPod,
  type GcOptions,
  type LogOptions,
} from '../index.js'
import type { Io } from './output.js'
import { table } from './table.js'

export function inspectCommand(root: string, ref: string, io: Io): number {
  io.out(JSON.stringify(inspectPod(root, ref), null, 2) + '\n')
  return 0
}

export async function logsCommand(root: string, ref: string, opts: LogOptions, io: Io & { raw?: (b: Buffer) => void }): Promise<number> {
  await podLogs(root, ref, opts, b => (io.raw ? io.raw(b) : io.out(b.toString('utf8'))))
  return 0
}

export async function stopCommand(root: string, refs: string[], grace: number | undefined, force: boolean, io: Io): Promise<number> {
  for (const ref of refs) {
    const r = await stopPod(root, ref, { gracePeriodSeconds: grace, force })
    io.out(`${r.name}\n`)
  }
  return 0
}

export async function rmCommand(root: string, refs: string[], force: boolean, io: Io, persistRoot = DEFAULT_PERSIST_ROOT): Promise<number> {
  for (const ref of refs) {
    const r = await removePod(root, ref, { force })
    unpersistPod(persistRoot, r.id) // a pod kept for boot is forgotten when it is removed
    io.out(`${r.name}\n`)
  }
  return 0
}

const mib = (b?: number) => (b === undefined ? '-' : `${(b / 1048576).toFixed(1)}Mi`)

export function statsCommand(root: string, ref: string, json: boolean, io: Io): number {
  const rows = podStats(root, ref)
  if (json) io.out(JSON.stringify(rows, null, 2) + '\n')
  else {
    io.out(
      table(
        ['CONTAINER', 'CPU', 'MEMORY', 'PEAK', 'PIDS', 'OOM KILLS'],
        rows.map(({ name, stats: s }) => [
          name,
          s.cpuUsageNs === undefined ? '-' : `${(s.cpuUsageNs / 1e9).toFixed(2)}s`,
          mib(s.memoryBytes),
          mib(s.memoryPeakBytes),
          String(s.pids ?? '-'),
          String(s.oomKills),
        ]),
      ),
    )
  }
  return 0
}

export async function gcCommand(root: string, opts: GcOptions, json: boolean, io: Io): Promise<number> {
  const actions = await gc(root, opts)
  if (json) io.out(JSON.stringify(actions, null, 2) + '\n')
  else if (actions.length === 0) io.out('nothing to collect\n')
  else
    io.out(
      table(
        ['KIND', 'TARGET', 'ACTION', 'BECAUSE'],
        actions.map(a => [a.kind, a.target, a.leftAlone ? 'left alone' : opts.dryRun ? 'would remove' : 'removed', a.why]),
      ),
    )
  return 0
}
