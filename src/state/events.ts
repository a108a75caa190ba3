// A pod's events as kubelet records them and `kubectl describe` shows them:
// type, reason, message, the container they concern, and how many times
// and since when (a repeated event is counted, as the event recorder's
// correlator does, not listed again). Kept in the pod record, newest last.

export interface EventRecord {
  type: 'Normal' | 'Warning'
  reason: string
  message: string
  /** What the event concerns: `spec.containers{name}` / `spec.initContainers{name}`; absent: the pod. */
  fieldPath?: string
  count: number
  firstTimestamp: string
  lastTimestamp: string
}

/** At most this many distinct events per pod (the oldest go first). */
export const MAX_EVENTS = 200

/** `events` with `e` added (or counted again when it is already there). Pure. */
export function addEvent(
  events: readonly EventRecord[],
  e: { type: EventRecord['type']; reason: string; message: string; fieldPath?: string },
  now: Date = new Date(),
): EventRecord[] {
  const at = now.toISOString()
  const same = (x: EventRecord) => x.type === e.type && x.reason === e.reason && x.message === e.message && x.fieldPath === e.fieldPath
  const old = events.find(same)
  const next: EventRecord = old ? { ...old, count: old.count + 1, lastTimestamp: at } : { ...e, count: 1, firstTimestamp: at, lastTimestamp: at }
  return [...events.filter(x => !same(x)), next].slice(-MAX_EVENTS)
}
