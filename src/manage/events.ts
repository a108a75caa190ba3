// The pod's events as kubelet words them (pkg/kubelet/events) for our
// lifecycle events; the record keeper adds them to the pod record
// (state/events.ts counts identical ones), `events` and `inspect` read them.
import type { PodEvent } from '../pod/index.js'
import { addEvent, listPods, resolvePod, type EventRecord, type PodRecord } from '../state/index.js'
import { containerFieldPath } from './snapshot.js'

type NewEvent = Parameters<typeof addEvent>[1]

/** kubelet's events for one lifecycle event of ours (none for most). */
export function kubeletEvents(e: PodEvent, r: PodRecord): NewEvent[] {
  if (!('container' in e)) return []
  const fieldPath = containerFieldPath(r.spec, e.container)
  const ev = (type: 'Normal' | 'Warning', reason: string, message: string): NewEvent => ({ type, reason, message, fieldPath })
  switch (e.type) {
    case 'container-started':
      return [ev('Normal', 'Created', `Created container: ${e.container}`), ev('Normal', 'Started', `Started container ${e.container}`)]
    case 'container-restarting':
      return e.delayMs > 0 ? [ev('Warning', 'BackOff', `Back-off restarting failed container ${e.container} in pod ${r.name}_${r.namespace}(${r.id})`)] : []
    case 'container-failed-to-start':
      return [ev('Warning', 'Failed', `Error: ${e.error.message}`)]
    case 'hook-failed':
      return [
        ev(
          'Warning',
          e.hook === 'postStart' ? 'FailedPostStartHook' : 'FailedPreStopHook',
          `${e.hook === 'postStart' ? 'PostStart' : 'PreStop'}Hook failed: ${e.message}`,
        ),
      ]
    case 'probe-failed':
      return [ev('Warning', 'Unhealthy', e.message)]
    case 'container-killing':
      return [ev('Normal', 'Killing', e.message)]
    default:
      return []
  }
}

/** `Stopping container NAME` for each container still running: a stop was asked for. */
export function stoppingEvents(r: PodRecord): NewEvent[] {
  return [...r.initContainerStatuses, ...r.containerStatuses]
    .filter(s => 'running' in s.state)
    .map(s => ({
      type: 'Normal' as const,
      reason: 'Killing',
      message: `Stopping container ${s.name}`,
      fieldPath: containerFieldPath(r.spec, s.name),
    }))
}

/** An event with the pod it is about. */
export interface PodEventRow extends EventRecord {
  pod: string
  namespace: string
}

/** The events of one pod, or of every pod under `root`, oldest first (by their last time seen). */
export function podEvents(root: string, ref?: string): PodEventRow[] {
  const records = ref
    ? [resolvePod(root, ref)].map(p => {
        if (!p.record) throw p.error!
        return p.record
      })
    : listPods(root).flatMap(p => (p.record ? [p.record] : []))
  return records
    .flatMap(r => (r.events ?? []).map(e => ({ pod: r.name, namespace: r.namespace, ...e })))
    .sort((a, b) => a.lastTimestamp.localeCompare(b.lastTimestamp))
}
