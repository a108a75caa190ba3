// The state root: one directory per pod, pod.json written atomically (tmp,
// fsync, rename: readers never see half a file), a flock per pod so two
// commands never act on one pod at once. A foreground pod's record is written
// without the fsync: its processes die with the host (and with its CLI), so
// after a crash of the host the record only tells gc what to remove, and a
// torn one (empty or truncated: ps shows it as unreadable) is a state
// directory without a readable record, which gc removes as well.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, existsSync } from 'node:fs'
import { dirname } from 'node:path'
import { writeJsonAtomic } from '../atomic-file.js'
import { PodError } from '../errors.js'
import { native } from '../spawn/native.js'
import { podDir, recordFile } from './layout.js'
import type { PodRecord } from './record.js'

/** Write pod.json atomically; durably (fsync) unless the pod is a foreground run's. */
export function writeRecord(root: string, record: PodRecord): void {
  writeJsonAtomic(recordFile(podDir(root, record.id)), record, 0o640, 'state.write', !record.foreground)
}

/** Read a pod's record; a missing or corrupt file is a clear error. */
export function readRecord(root: string, id: string): PodRecord {
  const { file, text } = recordText(root, id)
  return parseRecord(file, id, text)
}

/**
 * A pod's record if its text holds `needle` (undefined, unparsed, if not):
 * a string value `v` of the record is in its text as `JSON.stringify(v)`
 * (writeRecord writes JSON.stringify's output), so looking for one pod
 * among many need not parse every record (71 KB each with two containers'
 * stored plans). Errors as readRecord's.
 */
export function readRecordMentioning(root: string, id: string, needle: string): PodRecord | undefined {
  const { file, text } = recordText(root, id)
  return text.includes(needle) ? parseRecord(file, id, text) : undefined
}

function recordText(root: string, id: string): { file: string; text: string } {
  const file = recordFile(podDir(root, id))
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new PodError(`state.read: ${file}: no such pod record`, {
        step: 'state.read',
        code: 'POD_NOT_FOUND',
        path: file,
        hint: 'the pod was removed: pod-launch ps lists the pods',
      })
    }
    throw PodError.system('state.read', e, file)
  }
  return { file, text }
}

function parseRecord(file: string, id: string, text: string): PodRecord {
  try {
    const r = JSON.parse(text) as PodRecord
    if (typeof r?.id !== 'string' || typeof r.name !== 'string' || !r.spec) throw new Error('missing id, name or spec')
    return r
  } catch (e) {
    throw new PodError(`state.read: ${file}: corrupt pod record (${(e as Error).message})`, {
      step: 'state.read',
      code: 'STATE_CORRUPT',
      path: file,
      hint: `pod-launch rm --force ${id} cleans the pod from its cgroups; pod-launch gc removes what is left`,
    })
  }
}

/** Ids of every pod directory under the root (with or without a readable record). */
export function listPodIds(root: string): string[] {
  if (!existsSync(root)) return []
  return readdirSync(root, { withFileTypes: true })
    .filter(d => d.isDirectory() && /^[0-9a-f-]{36}$/.test(d.name))
    .map(d => d.name)
}

export function ensureRoot(root: string): void {
  try {
    mkdirSync(root, { recursive: true, mode: 0o711 })
  } catch (e) {
    throw PodError.system('state.mkdir', e, root)
  }
}

/** Take the lock on `file`'s fd, false when another holder has it; throws `state.lock`. */
function flockOrThrow(fd: number, file: string): boolean {
  try {
    return native().flock(fd, true)
  } catch (e) {
    throw PodError.system('state.lock', e, file)
  }
}

/**
 * The lock file, opened (made when missing). A full disk may refuse to make
 * it: then its directory is locked instead (coarser, but stop and rm never
 * wait on free space; a lock file that exists opens without any).
 */
function openLockFile(file: string): number {
  try {
    return openSync(file, 'a', 0o600)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code !== 'ENOSPC' && code !== 'EDQUOT') throw e
    return openSync(dirname(file), 'r')
  }
}

/**
 * Hold an exclusive lock on `file` while `fn` runs. Waits up to `timeoutMs` (a minute: 20 commands
 * started at once on a loaded host queue longer than 10 s behind short holds)
 * for another holder; then fails naming the file. An aborted `signal` stops
 * the wait (with its AbortError).
 */
export async function withLock<T>(file: string, fn: () => Promise<T> | T, timeoutMs = 60_000, signal?: AbortSignal): Promise<T> {
  let fd: number
  try {
    fd = openLockFile(file)
  } catch (e) {
    throw PodError.system('state.lock', e, file)
  }
  try {
    const deadline = Date.now() + timeoutMs
    while (!flockOrThrow(fd, file)) {
      signal?.throwIfAborted()
      if (Date.now() > deadline) {
        throw new PodError(`state.lock: ${file}: held by another pod-launch command`, {
          step: 'state.lock',
          code: 'EBUSY',
          path: file,
          hint: 'wait for the other command to finish, then retry',
        })
      }
      await new Promise(r => setTimeout(r, 20))
    }
    return await fn()
  } finally {
    closeSync(fd) // closing releases the flock
  }
}
