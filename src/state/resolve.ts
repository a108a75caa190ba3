// A pod reference on the command line: its name, its id, or a unique id prefix.
import { PodError } from '../errors.js'
import type { PodRecord } from './record.js'
import { listPodIds, readRecord, readRecordMentioning } from './store.js'

export interface PodRef {
  id: string
  /** The record, or the error reading it (a corrupt pod.json must still be removable). */
  record?: PodRecord
  error?: PodError
}

export function listPods(root: string): PodRef[] {
  return listPodIds(root).map(id => podRef(root, id))
}

function podRef(root: string, id: string): PodRef {
  try {
    return { id, record: readRecord(root, id) }
  } catch (e) {
    return { id, error: e as PodError }
  }
}

/**
 * The pods named `name` whose record reads (unreadable ones are skipped):
 * only the records that hold the name are parsed, so looking one pod up
 * among many does not parse every pod.json (71 KB each with two containers).
 */
export function podsNamed(root: string, name: string, ids = listPodIds(root)): (PodRef & { record: PodRecord })[] {
  const quoted = JSON.stringify(name)
  return ids.flatMap(id => {
    try {
      const record = readRecordMentioning(root, id, quoted)
      return record?.name === name ? [{ id, record }] : []
    } catch {
      return []
    }
  })
}

export function resolvePod(root: string, ref: string): PodRef {
  if (!ref) throw new PodError('pod.resolve: empty pod reference', { step: 'pod.resolve', exitCode: 2 })
  // Every command that takes a pod resolves it: one record is read, not every pod's (stop, rm, logs of one pod among 100).
  const ids = listPodIds(root)
  if (ids.includes(ref)) return podRef(root, ref)
  const byName = podsNamed(root, ref, ids)
  if (byName.length === 1) return byName[0]
  const byPrefix = ids.filter(id => id.startsWith(ref)).map(id => podRef(root, id))
  if (byPrefix.length === 1) return byPrefix[0]
  if (byName.length + byPrefix.length > 1) {
    throw new PodError(`pod.resolve: ${ref}: matches ${byName.length + byPrefix.length} pods`, {
      step: 'pod.resolve',
      code: 'AMBIGUOUS',
      exitCode: 2,
      hint: 'give more of the pod id (pod-launch ps shows them)',
    })
  }
  throw new PodError(`pod.resolve: ${ref}: no such pod`, { step: 'pod.resolve', code: 'POD_NOT_FOUND', hint: `pod-launch ps lists the pods under ${root}` })
}
