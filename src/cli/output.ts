// All CLI printing of errors and warnings happens here, once.
import { fstatSync, readlinkSync, writeSync } from 'node:fs'
import { PodError } from '../errors.js'

export interface Io {
  out: (s: string) => void
  err: (s: string) => void
}

/**
 * Whether fd 1 or 2 is written with writeSync instead of process.stdout /
 * process.stderr: when it is a regular file or /dev/null. Node's stream for
 * those writes each chunk with writeSync too, but making it loads node:stream
 * (~20 modules, ~1 ms of every CLI start). A pipe, a socket or a terminal gets
 * Node's stream.
 */
const direct = new Map<1 | 2, boolean>()
export function writtenDirectly(fd: 1 | 2): boolean {
  let d = direct.get(fd)
  if (d === undefined) {
    try {
      d = fstatSync(fd).isFile() || readlinkSync(`/proc/self/fd/${fd}`) === '/dev/null'
    } catch {
      d = false
    }
    direct.set(fd, d)
  }
  return d
}

const write = (fd: 1 | 2, data: string | Uint8Array): void => {
  if (writtenDirectly(fd)) {
    if (typeof data === 'string') writeSync(fd, data)
    else writeSync(fd, data)
  } else (fd === 1 ? process.stdout : process.stderr).write(data)
}

export const processIo: Io & { raw: (b: Buffer) => void } = {
  out: s => write(1, s),
  err: s => write(2, s),
  /** Bytes as they are (container logs need not be UTF-8). */
  raw: b => write(1, b),
}

/** Print an error as `pod-launch: <message>` + `hint: ...`; returns the exit code. */
export function printError(io: Io, e: unknown, debug = false): number {
  if (e instanceof PodError) {
    const where = e.container ? `container ${e.container}: ` : ''
    io.err(`pod-launch: ${where}${e.message}\n`)
    if (e.hint) io.err(`hint: ${e.hint}\n`)
    if (debug) io.err(`${e.stack ?? ''}\n${e.cause ? `cause: ${String((e.cause as Error).stack ?? e.cause)}\n` : ''}`)
    return e.exitCode
  }
  const err = e as Error
  io.err(`pod-launch: ${err?.message ?? String(e)}\n`)
  if (debug && err?.stack) io.err(`${err.stack}\n`)
  return 1
}

/** kubectl's note when it picked a container for you. */
export const defaultedNote = (io: Io) => (chosen: string, all: string[]) => io.err(`Defaulted container "${chosen}" out of: ${all.join(', ')}\n`)
