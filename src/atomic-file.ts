// Write a JSON file so that readers never see half of it: write a temporary
// file beside it, fsync (unless the caller's file need not survive a crash of
// the host), rename over (rename(2) is atomic within a directory).
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { PodError } from './errors.js'

/**
 * Throws PodError `step` naming the file. `durable: false` skips the fsync:
 * readers still see the old file or the new one, never a mix, but after a
 * crash of the host the file may be empty or truncated (as runc's state.json,
 * written by rename without fsync).
 */
export function writeJsonAtomic(file: string, value: unknown, mode: number, step: string, durable = true): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`)
  try {
    const fd = openSync(tmp, 'w', mode)
    try {
      writeSync(fd, JSON.stringify(value, null, 2) + '\n')
      if (durable) fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, file)
  } catch (e) {
    throw PodError.system(step, e, file)
  }
}
