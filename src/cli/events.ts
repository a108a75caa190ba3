// `pod-launch events [POD]`: the pod's events as kubectl describe lists them
// (Type, Reason, Age with "(xN over T)", From, Message); every pod's with POD.
import { podEvents, type PodEventRow } from '../index.js'
import { humanDuration, kubeList, printData, type Format } from './format.js'
import type { Io } from './output.js'
import { table } from './table.js'

/** kubectl describe's Age: the last time seen, and for a repeated event how many times over how long. */
function eventAge(e: PodEventRow, now: number): string {
  const last = humanDuration(now - Date.parse(e.lastTimestamp))
  return e.count > 1 ? `${last} (x${e.count} over ${humanDuration(now - Date.parse(e.firstTimestamp))})` : last
}

/** core/v1 Event objects, as kubectl get events -o json shows them. */
function eventObject(e: PodEventRow): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { namespace: e.namespace },
    involvedObject: { kind: 'Pod', namespace: e.namespace, name: e.pod, ...(e.fieldPath && { fieldPath: e.fieldPath }) },
    type: e.type,
    reason: e.reason,
    message: e.message,
    source: { component: 'pod-launch' },
    count: e.count,
    firstTimestamp: e.firstTimestamp,
    lastTimestamp: e.lastTimestamp,
  }
}

export function eventsCommand(root: string, ref: string | undefined, format: Format, io: Io): number {
  const events = podEvents(root, ref)
  const now = Date.now()
  if (format === 'json' || format === 'yaml') printData(io, format, kubeList(events.map(eventObject)))
  else if (format === 'name') io.out(events.map(e => `event/${e.pod}.${e.reason}\n`).join(''))
  else if (events.length === 0) io.out(ref ? 'No events.\n' : 'No events found.\n')
  else {
    const all = !ref
    const wide = format === 'wide'
    io.out(
      table(
        [...(all ? ['POD'] : []), 'TYPE', 'REASON', 'AGE', 'FROM', ...(wide ? ['OBJECT'] : []), 'MESSAGE'],
        events.map(e => [
          ...(all ? [e.pod] : []),
          e.type,
          e.reason,
          eventAge(e, now),
          'pod-launch',
          ...(wide ? [e.fieldPath ?? `pod/${e.pod}`] : []),
          e.message,
        ]),
      ),
    )
  }
  return 0
}
