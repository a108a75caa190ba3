// The management commands (ps is in ps.ts, exec in exec.ts): inspect, logs, stop, rm, stats, gc (detached pods).
import {
  DEFAULT_PERSIST_ROOT,
  gc,
  inspectPod,
  listPods,
  podLogs,
  PodError,
  watchStats,
  type StatsRow,
  removePod,
  podSummary,
  selectPods,
  stopPod,
  unpersistPod,
  type GcOptions,
  type LogOptions,
} from '../index.js'
import { printData, type Format } from './format.js'
import type { Io } from './output.js'
import { PS_HEAD, PS_WIDE, psRow } from './ps.js'
import { table } from './table.js'

/** `inspect`: the pod as Kubernetes shows it (-o json, the default, or yaml); -o wide its ps line, -o name pod/NAME. */
export function inspectCommand(root: string, ref: string, format: Exclude<Format, 'table'>, io: Io): number {
  const pod = inspectPod(root, ref)
  if (format === 'name') io.out(`pod/${(pod.metadata as { name: string }).name}\n`)
  else if (format === 'wide') {
    const [p] = selectPods(listPods(root), { filters: [`id=${(pod.metadata as { uid: string }).uid}`] })
    io.out(table([...PS_HEAD, ...PS_WIDE], [psRow(podSummary(p), true)]))
  } else printData(io, format, pod)
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
const milli = (m?: number) => (m === undefined ? '-' : `${m}m`)
const pct = (p?: number) => (p === undefined ? '-' : `${p.toFixed(2)}%`)

function statsTable(rows: StatsRow[], wide: boolean): string {
  return table(
    ['CONTAINER', 'CPU', 'CPU%', 'MEMORY', 'MEM%', 'PIDS', ...(wide ? ['CPU LIMIT', 'MEM LIMIT', 'PEAK', 'OOM KILLS'] : [])],
    rows.map(r => [
      r.name,
      milli(r.cpuMilli),
      pct(r.cpuPercent),
      mib(r.memoryBytes),
      pct(r.memoryPercent),
      String(r.pids ?? '-'),
      ...(wide ? [milli(r.cpuLimitMilli), mib(r.memoryLimitBytes), mib(r.memoryPeakBytes), String(r.oomKills)] : []),
    ]),
  )
}

/**
 * `stats`: CPU over `intervalMs` (millicores and % of one CPU, as kubectl top
 * and podman stats), memory against the limit; `watch` prints again every
 * interval until the pod stops (on a terminal, in place).
 */
export async function statsCommand(
  root: string,
  ref: string,
  opts: { format: Format; watch: boolean; intervalMs: number },
  io: Io,
  isTTY = !!process.stdout.isTTY,
): Promise<number> {
  for await (const rows of watchStats(root, ref, opts.intervalMs)) {
    if (opts.format === 'json' || opts.format === 'yaml') printData(io, opts.format, rows)
    else if (opts.format === 'name') io.out(rows.map(r => `${r.name}\n`).join(''))
    else io.out(`${opts.watch && isTTY ? '\x1b[2J\x1b[H' : ''}${statsTable(rows, opts.format === 'wide')}${opts.watch && !isTTY ? '\n' : ''}`)
    if (!opts.watch) return 0
  }
  if (!opts.watch) throw new PodError(`stats: ${ref}: the pod stopped running`, { step: 'stats', code: 'ESRCH' })
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
