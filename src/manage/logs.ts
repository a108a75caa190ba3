// `logs POD [-c C] [-f] [--previous] [--timestamps] [--tail N]`: read the CRI
// log files; -f follows new lines and the next file after a restart.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs'
import { PodError } from '../errors.js'
import { parseCriLog } from '../pod/index.js'
import { isAlive, logFile, podDir, readRecord, resolvePod, type PodRecord } from '../state/index.js'

export interface LogOptions {
  container?: string
  follow?: boolean
  previous?: boolean
  timestamps?: boolean
  tail?: number
}

function pick(r: PodRecord, name?: string) {
  const all = [...r.initContainerStatuses, ...r.containerStatuses]
  const s = name ? all.find(c => c.name === name) : r.containerStatuses.length === 1 ? r.containerStatuses[0] : undefined
  if (!s) {
    const names = all.map(c => c.name).join(', ')
    throw new PodError(name ? `logs: ${r.name}: no container ${name}` : `logs: ${r.name}: choose a container with -c`, {
      step: 'logs',
      exitCode: 2,
      hint: `containers: ${names}`,
    })
  }
  return s
}

/** Render CRI records of `buf` (whole records only); returns bytes consumed. */
function render(buf: Buffer, opts: LogOptions, write: (s: Buffer) => void): number {
  const end = buf.lastIndexOf(0x0a) + 1
  // One write per batch, not per line: a million small writes queue a million buffers on a slow pipe.
  const parts: Buffer[] = []
  const newline = Buffer.from('\n')
  for (const rec of parseCriLog(buf.subarray(0, end))) {
    if (opts.timestamps) parts.push(Buffer.from(`${rec.time} `))
    parts.push(rec.content)
    if (rec.full) parts.push(newline)
  }
  if (parts.length > 0) write(Buffer.concat(parts))
  return end
}

function readFrom(file: string, offset: number): Buffer {
  const fd = openSync(file, 'r')
  try {
    const size = statSync(file).size
    const buf = Buffer.alloc(Math.max(0, size - offset))
    let n = 0
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, offset + n)
      if (got === 0) break
      n += got
    }
    return buf.subarray(0, n)
  } finally {
    closeSync(fd)
  }
}

export async function podLogs(root: string, ref: string, opts: LogOptions, write: (s: Buffer) => void): Promise<void> {
  const { id, record, error } = resolvePod(root, ref)
  if (!record) throw error!
  let status = pick(record, opts.container)
  let restart = status.restartCount
  if (opts.previous) {
    if (restart === 0) throw new PodError(`logs: ${record.name}/${status.name}: no previous run (restartCount 0)`, { step: 'logs', code: 'ENOENT' })
    restart--
  }
  const fileOf = (n: number) => logFile(podDir(root, id), status.name, n)
  let file = fileOf(restart)
  let offset = 0
  if (existsSync(file)) {
    let buf = readFrom(file, 0)
    offset = buf.lastIndexOf(0x0a) + 1
    if (opts.tail !== undefined) {
      const lines = buf.subarray(0, offset).toString('latin1').split('\n').slice(0, -1)
      buf = Buffer.from(
        lines
          .slice(Math.max(0, lines.length - opts.tail))
          .map(l => l + '\n')
          .join(''),
        'latin1',
      )
    }
    render(buf, opts, write)
  }
  if (!opts.follow || opts.previous) return
  for (;;) {
    await new Promise(r => setTimeout(r, 100))
    if (existsSync(file)) offset += render(readFrom(file, offset), opts, write)
    let r: PodRecord
    try {
      r = readRecord(root, id)
    } catch {
      return // removed
    }
    status = pick(r, status.name)
    if (status.restartCount > restart) {
      // A restart: finish this file, go on with the next run's.
      if (existsSync(file)) render(readFrom(file, offset), opts, write)
      restart = status.restartCount
      file = fileOf(restart)
      offset = 0
      continue
    }
    if (!isAlive(r.supervisor)) {
      if (existsSync(file)) render(readFrom(file, offset), opts, write)
      return
    }
  }
}
