// `pod-launch ps`: its own module, loading only the state records and the
// spec's isSidecar (not the pod, image or network code), so a call costs
// little more than Node's start-up (main.ts loads it when ps runs).
import { isSidecar } from '../spec/sidecar.js'
import { displayPhase, isAlive, isReady, listPods, podStatusText, runningContainerStatuses, type PodRecord } from '../state/index.js'
import type { Io } from './output.js'
import { table } from './table.js'

function age(iso: string | undefined): string {
  if (!iso) return '-'
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : s < 172800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86400)}d`
}

/** READY and RESTARTS as kubectl counts them: the containers and the sidecars. */
function row(r: PodRecord) {
  const all = runningContainerStatuses(r)
  const ready = all.filter(isReady).length
  const restarts = all.reduce((n, s) => n + s.restartCount, 0)
  const total = r.spec.containers.length + r.spec.initContainers.filter(isSidecar).length
  const alive = isAlive(r.supervisor)
  return {
    pod: r.name,
    id: r.id.slice(0, 12),
    phase: displayPhase(r, alive),
    status: podStatusText(r, alive),
    ready: `${ready}/${total}`,
    restarts,
    age: age(r.startTime ?? r.createdAt),
    ip: r.podIP || '-',
  }
}

export function psCommand(root: string, json: boolean, io: Io): number {
  const pods = listPods(root)
  const rows = pods.map(p =>
    p.record
      ? row(p.record)
      : { pod: '?', id: p.id.slice(0, 12), phase: 'Unknown', status: 'Unknown', ready: '-', restarts: 0, age: '-', ip: '-', error: p.error?.message },
  )
  if (json) io.out(JSON.stringify(rows, null, 2) + '\n')
  else
    io.out(
      table(
        // STATUS as kubectl get pods prints it (ImagePullBackOff, CrashLoopBackOff, Completed...); --json has the phase too.
        ['POD', 'ID', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP'],
        rows.map(r => [r.pod, r.id, r.ready, r.status, String(r.restarts), r.age, r.ip]),
      ),
    )
  return 0
}
