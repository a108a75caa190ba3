// Start a pod's shim: `pod-launch-shim --dir <pod dir> --ready-fd 3`, in its
// own session, its stderr appended to `<pod dir>/shim.log`. The shim forks
// once (we reap the parent at once) and says "ready <pid>" on fd 3 once it
// listens on `<pod dir>/shim.sock`; EOF before that is a failed start.
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PodError } from '../errors.js'
import { shimPath } from '../spawn/index.js'

export const SHIM_LOG = 'shim.log'

/** The last line of the shim's log ('' when there is none). */
function logTail(podDir: string): string {
  try {
    return readFileSync(join(podDir, SHIM_LOG), 'utf8').trimEnd().split('\n').pop()!.slice(0, 300)
  } catch {
    return ''
  }
}

/**
 * Start `file args` in its own session, stdout and stderr appended to `logFile`
 * (or stdout to /dev/null when `stdoutToLog` is false), and resolve with what
 * it writes on fd 3 before closing it (its readiness line), '' when it closed
 * it saying nothing. Its parent is then not us for long: it forks or daemonizes.
 */
export async function spawnWithReadyFd(file: string, args: string[], logFile: string, stdoutToLog = true): Promise<string> {
  const logFd = openSync(logFile, 'a', 0o640)
  let child
  try {
    child = spawn(file, args, { detached: true, stdio: ['ignore', stdoutToLog ? logFd : 'ignore', logFd, 'pipe'] })
  } finally {
    closeSync(logFd)
  }
  const text = await new Promise<string>(resolve => {
    let out = ''
    const pipe = child.stdio[3] as NodeJS.ReadableStream
    pipe.setEncoding('utf8')
    pipe.on('data', (d: string) => (out += d))
    pipe.on('close', () => resolve(out))
    pipe.on('error', () => resolve(out))
    child.once('error', e => resolve(`error ${e.message}`))
  })
  child.unref()
  return text
}

/** Launch the shim of the pod whose directory is `podDir`; resolves with its pid once it listens. Throws `shim.start`. */
export async function launchShim(podDir: string): Promise<number> {
  const text = await spawnWithReadyFd(shimPath(), ['--dir', podDir, '--ready-fd', '3'], join(podDir, SHIM_LOG), false)
  const m = /^ready (\d+)\n/.exec(text)
  if (!m) {
    const tail = logTail(podDir)
    throw new PodError(`shim.start: ${podDir}: the shim did not start${tail ? ` (${tail})` : text ? ` (${text.trim()})` : ''}`, {
      step: 'shim.start',
      hint: `its log: ${join(podDir, SHIM_LOG)}`,
    })
  }
  return Number(m[1])
}
