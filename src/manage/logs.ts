// `logs POD [-c C | --all-containers] [-f] [--previous] [--timestamps]
// [--tail N] [--since D | --since-time T] [--prefix]`: read the CRI log
// files; -f follows new lines and the next file after a restart.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs'
import { PodError } from '../errors.js'
import { parseCriLog } from '../pod/index.js'
import { isAlive, logFile, podDir, readRecord, resolvePod, type ContainerRecord, type PodRecord } from '../state/index.js'

export interface LogOptions {
  container?: string
  /** Every container's logs, init containers first; each line prefixed `[name] `. */
  allContainers?: boolean
  /** kubectl's `[pod/NAME/CONTAINER] ` before each line. */
  prefix?: boolean
  follow?: boolean
  previous?: boolean
  timestamps?: boolean
  tail?: number
  /** Only lines written at or after this time (ms since the epoch): --since, --since-time. */
  sinceMs?: number
  /** No -c and several containers: the one chosen (kubectl's default container), and all of them. */
  onDefault?: (chosen: string, all: string[]) => void
}

/** kubectl's default container: the `kubectl.kubernetes.io/default-container` annotation, else the first container. */
export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container'

/** `-c NAME`, or the default container (`onDefault` hears of the choice when there were several). */
export function pickContainer(r: PodRecord, name: string | undefined, step: string, onDefault?: (chosen: string, all: string[]) => void): ContainerRecord {
  const all = [...r.initContainerStatuses, ...r.containerStatuses]
  const named = r.spec.annotations[DEFAULT_CONTAINER_ANNOTATION]
  const s = name ? all.find(c => c.name === name) : (r.containerStatuses.find(c => c.name === named) ?? r.containerStatuses[0])
  if (!s) {
    throw new PodError(name ? `${step}: ${r.name}: no container ${name}` : `${step}: ${r.name}: no container has started yet`, {
      step,
      code: 'ENOENT',
      exitCode: 2,
      hint: `containers: ${[...r.spec.initContainers, ...r.spec.containers].map(c => c.name).join(', ')}`,
    })
  }
  if (!name && all.length > 1)
    onDefault?.(
      s.name,
      all.map(c => (c.init ? `${c.name} (init)` : c.name)),
    )
  return s
}

/** Writes the CRI records of one container's log as the options ask. */
class Renderer {
  private atLineStart = true
  private readonly label?: Buffer

  constructor(
    private readonly opts: LogOptions,
    private readonly write: (s: Buffer) => void,
    pod: string,
    container: string,
  ) {
    if (opts.prefix) this.label = Buffer.from(`[pod/${pod}/${container}] `)
    else if (opts.allContainers) this.label = Buffer.from(`[${container}] `)
  }

  /** Render the whole records of `buf`; returns the bytes consumed. */
  push(buf: Buffer): number {
    const end = buf.lastIndexOf(0x0a) + 1
    // One write per batch, not per line: a million small writes queue a million buffers on a slow pipe.
    const parts: Buffer[] = []
    for (const rec of parseCriLog(buf.subarray(0, end))) {
      if (this.opts.sinceMs !== undefined && Date.parse(rec.time) < this.opts.sinceMs) continue
      if (this.atLineStart) {
        if (this.label) parts.push(this.label)
        if (this.opts.timestamps) parts.push(Buffer.from(`${rec.time} `))
      }
      parts.push(rec.content)
      if (rec.full) parts.push(NEWLINE)
      this.atLineStart = rec.full
    }
    if (parts.length > 0) this.write(Buffer.concat(parts))
    return end
  }
}

const NEWLINE = Buffer.from('\n')

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

/** The last `n` whole records of `buf`. */
function lastRecords(buf: Buffer, n: number): Buffer {
  const lines = buf.toString('latin1').split('\n').slice(0, -1)
  return Buffer.from(
    lines
      .slice(Math.max(0, lines.length - n))
      .map(l => l + '\n')
      .join(''),
    'latin1',
  )
}

/** One container's logs, then (with -f) what it writes next, across restarts, until the pod's owner is gone. */
async function containerLogs(root: string, id: string, record: PodRecord, first: ContainerRecord, opts: LogOptions, write: (s: Buffer) => void): Promise<void> {
  const out = new Renderer(opts, write, record.name, first.name)
  let status = first
  let restart = status.restartCount
  if (opts.previous) {
    if (restart === 0) throw new PodError(`logs: ${record.name}/${status.name}: no previous run (restartCount 0)`, { step: 'logs', code: 'ENOENT' })
    restart--
  }
  const fileOf = (n: number) => logFile(podDir(root, id), status.name, n)
  let file = fileOf(restart)
  let offset = 0
  if (existsSync(file)) {
    const buf = readFrom(file, 0)
    offset = buf.lastIndexOf(0x0a) + 1
    out.push(opts.tail !== undefined ? lastRecords(buf.subarray(0, offset), opts.tail) : buf)
  }
  if (!opts.follow || opts.previous) return
  for (;;) {
    await new Promise(r => setTimeout(r, 100))
    if (existsSync(file)) offset += out.push(readFrom(file, offset))
    let r: PodRecord
    try {
      r = readRecord(root, id)
    } catch {
      return // removed
    }
    status = [...r.initContainerStatuses, ...r.containerStatuses].find(s => s.name === status.name) ?? status
    if (status.restartCount > restart) {
      // A restart: finish this file, go on with the next run's.
      if (existsSync(file)) out.push(readFrom(file, offset))
      restart = status.restartCount
      file = fileOf(restart)
      offset = 0
      continue
    }
    if (!isAlive(r.supervisor)) {
      if (existsSync(file)) out.push(readFrom(file, offset))
      return
    }
  }
}

export async function podLogs(root: string, ref: string, opts: LogOptions, write: (s: Buffer) => void): Promise<void> {
  const { id, record, error } = resolvePod(root, ref)
  if (!record) throw error!
  if (!opts.allContainers) return containerLogs(root, id, record, pickContainer(record, opts.container, 'logs', opts.onDefault), opts, write)
  const all = [...record.initContainerStatuses, ...record.containerStatuses]
  // Followed: all at once, as their lines come; else one container after the other, as kubectl does.
  if (opts.follow) await Promise.all(all.map(s => containerLogs(root, id, record, s, opts, write)))
  else for (const s of all) await containerLogs(root, id, record, s, { ...opts, previous: opts.previous && s.restartCount > 0 }, write)
}
