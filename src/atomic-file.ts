// Write a JSON file so that readers never see half of it: write a temporary
// file beside it, fsync, rename over (rename(2) is atomic within a directory).
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { PodError } from './errors.js'

/** Throws PodError `step` naming the file. */
export function writeJsonAtomic(file: string, value: unknown, mode: number, step: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`)
  try {
    const fd = openSync(tmp, 'w', mode)
    try {
      writeSync(fd, JSON.stringify(value, null, 2) + '\n')
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, file)
  } catch (e) {
    throw PodError.system(step, e, file)
  }
}
