// A pod reference on the command line: its name, its id, or a unique id prefix.
import { PodError } from '../errors.js'
import type { PodRecord } from './record.js'
import { listPodIds, readRecord } from './store.js'

export interface PodRef {
  id: string
  /** The record, or the error reading it (a corrupt pod.json must still be removable). */
  record?: PodRecord
  error?: PodError
}

export function listPods(root: string): PodRef[] {
  return listPodIds(root).map(id => {
    try {
      return { id, record: readRecord(root, id) }
    } catch (e) {
      return { id, error: e as PodError }
    }
  })
}

export function resolvePod(root: string, ref: string): PodRef {
  if (!ref) throw new PodError('pod.resolve: empty pod reference', { step: 'pod.resolve', exitCode: 2 })
  const pods = listPods(root)
  const byId = pods.find(p => p.id === ref)
  if (byId) return byId
  const byName = pods.filter(p => p.record?.name === ref)
  if (byName.length === 1) return byName[0]
  const byPrefix = pods.filter(p => p.id.startsWith(ref))
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
