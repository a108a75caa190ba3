// One `pod-launch cri` per state root: two servers on one root would both
// adopt its sandboxes and both drive their shims. The first server holds an
// flock(2) on `<root>/.cri.lock` while it lives and writes its pid into the
// file; a second one fails at once, naming that pid, before it adopts or
// touches anything. The kernel drops the lock when the holder dies (even by
// SIGKILL), so a crashed server never blocks the next one. The fd is
// close-on-exec (Node opens every file so), so no shim inherits the lock.
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { PodError } from '../errors.js'
import { native } from '../spawn/index.js'
import { CRI_LOCK_FILE, ensureRoot } from '../state/index.js'

/** The holder's pid as it wrote it, waiting a moment for a holder that has the lock but has not written yet. */
async function holderPid(file: string): Promise<number | undefined> {
  for (let i = 0; i < 20; i++) {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10)
    if (pid > 0) return pid
    await new Promise(r => setTimeout(r, 25))
  }
  return undefined
}

/**
 * Take `root`'s CRI lock (making the root if missing); resolves with a
 * release function (once is enough; later calls do nothing). Throws `cri.lock` (ALREADY_EXISTS) when another server
 * holds it, or on a file system error.
 */
export async function lockCriRoot(root: string): Promise<() => void> {
  const file = join(root, CRI_LOCK_FILE)
  let fd: number
  try {
    ensureRoot(root)
    fd = openSync(file, 'a', 0o600)
  } catch (e) {
    throw e instanceof PodError ? e : PodError.system('cri.lock', e, file)
  }
  try {
    if (!native().flock(fd, true)) {
      const pid = await holderPid(file)
      const who = pid ? `pid ${pid}` : `pid unknown, see ${file}`
      throw new PodError(`cri.lock: ${root}: another pod-launch cri (${who}) serves this state root`, {
        step: 'cri.lock',
        code: 'ALREADY_EXISTS',
        path: file,
        hint: `stop it first${pid ? ` (kill -TERM ${pid}: its pods run on and this server adopts them)` : ''}, or pass another --root`,
      })
    }
    ftruncateSync(fd, 0)
    writeSync(fd, `${process.pid}\n`)
  } catch (e) {
    closeSync(fd)
    throw e instanceof PodError ? e : PodError.system('cri.lock', e, file)
  }
  let held = true
  return () => {
    if (held) closeSync(fd) // closing releases the flock
    held = false
  }
}
