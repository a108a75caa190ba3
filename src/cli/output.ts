// All CLI printing of errors and warnings happens here, once.
import { PodError } from '../errors.js'

export interface Io {
  out: (s: string) => void
  err: (s: string) => void
}

export const processIo: Io & { raw: (b: Buffer) => void } = {
  out: s => process.stdout.write(s),
  err: s => process.stderr.write(s),
  /** Bytes as they are (container logs need not be UTF-8). */
  raw: b => process.stdout.write(b),
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
