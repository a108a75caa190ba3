import t from 'tap'
import { computeConditions, updateConditions } from '../../../src/manage/conditions.js'
import { kubeletEvents, stoppingEvents } from '../../../src/manage/events.js'
import { parseDuration } from '../../../src/manage/duration.js'
import { parseWaitFor } from '../../../src/manage/wait.js'
import { parsePortPair } from '../../../src/manage/port-forward.js'
import { parseCpArg } from '../../../src/manage/cp.js'
import { PodError } from '../../../src/errors.js'
import type { PodRecord } from '../../../src/state/index.js'

const running = { running: { startedAt: '2025-01-01T00:00:00Z' } }
function record(over: Partial<PodRecord> = {}): PodRecord {
  return {
    id: 'u1',
    name: 'web',
    namespace: 'default',
    createdAt: '2025-01-01T00:00:00Z',
    supervisor: null,
    phase: 'Running',
    spec: { initContainers: [], containers: [{ name: 'app' }, { name: 'side' }] } as never,
    pause: { pid: 1, startTicks: '1', namespaces: {} },
    podIP: '',
    initContainerStatuses: [],
    containerStatuses: [
      { name: 'app', init: false, state: running, restartCount: 0, started: true, ready: true },
      { name: 'side', init: false, state: running, restartCount: 0, started: true, ready: false },
    ],
    ...over,
  }
}

t.test("conditions in kubelet's order; unready containers named; an ended pod is PodCompleted", async t => {
  t.match(computeConditions(record()), [
    { type: 'PodReadyToStartContainers', status: 'True' },
    { type: 'Initialized', status: 'True' },
    { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [side]' },
    { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady' },
    { type: 'PodScheduled', status: 'True' },
  ])
  t.match(computeConditions(record({ phase: 'Succeeded' })), [
    { type: 'PodReadyToStartContainers', status: 'False' },
    { type: 'Initialized', status: 'True', reason: 'PodCompleted' },
    { type: 'Ready', status: 'False', reason: 'PodCompleted' },
    { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' },
    { type: 'PodScheduled', status: 'True' },
  ])
})

t.test('lastTransitionTime moves only when a status changes', async t => {
  const first = updateConditions(record(), new Date('2025-01-01T00:00:01Z'))
  const r = record()
  r.conditions = first
  r.containerStatuses[1].ready = true
  const second = updateConditions(r, new Date('2025-01-01T00:00:09Z'))
  const at = (list: typeof first, type: string) => list.find(c => c.type === type)!.lastTransitionTime
  t.equal(at(second, 'PodScheduled'), '2025-01-01T00:00:01.000Z', 'unchanged: its first time')
  t.equal(at(second, 'Ready'), '2025-01-01T00:00:09.000Z', 'Ready turned True: now')
  t.equal(second.find(c => c.type === 'Ready')!.status, 'True')
})

t.test("kubelet's events for our lifecycle events, by container field path", async t => {
  const r = record()
  t.same(
    kubeletEvents({ type: 'container-started', pod: 'web', container: 'app', pid: 5, restartCount: 0 }, r).map(e => [e.reason, e.message, e.fieldPath]),
    [
      ['Created', 'Created container: app', 'spec.containers{app}'],
      ['Started', 'Started container app', 'spec.containers{app}'],
    ],
  )
  const backoff = kubeletEvents({ type: 'container-restarting', pod: 'web', container: 'side', delayMs: 10000, restartCount: 1 }, r)
  t.match(backoff, [{ type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container side in pod web_default(u1)' }])
  t.same(kubeletEvents({ type: 'container-restarting', pod: 'web', container: 'side', delayMs: 0, restartCount: 1 }, r), [], 'no back-off: no event')
  t.match(kubeletEvents({ type: 'probe-failed', pod: 'web', container: 'app', probe: 'liveness', message: 'Liveness probe failed: x' }, r), [
    { type: 'Warning', reason: 'Unhealthy', message: 'Liveness probe failed: x' },
  ])
  t.match(
    kubeletEvents(
      { type: 'container-failed-to-start', pod: 'web', container: 'app', error: new PodError('child.exec: /x: no such file', { step: 'child.exec' }) },
      r,
    ),
    [{ reason: 'Failed', message: 'Error: child.exec: /x: no such file' }],
  )
  t.match(stoppingEvents(r), [{ reason: 'Killing', message: 'Stopping container app' }, { message: 'Stopping container side' }])
})

t.test('durations as kubectl takes them; wait --for forms; port pairs; cp arguments', async t => {
  t.equal(parseDuration('30s', '--timeout'), 30000)
  t.equal(parseDuration('1h30m', '--timeout'), 5400000)
  t.equal(parseDuration('250ms', '--timeout'), 250)
  t.equal(parseDuration('2', '--timeout'), 2000)
  t.equal(parseDuration('-1s', '--timeout'), -1000)
  t.throws(() => parseDuration('5 minutes', '--since'), { message: '--since: "5 minutes": not a duration', exitCode: 2 })
  t.same(parseWaitFor('condition=Ready'), { condition: 'Ready', status: 'True' })
  t.same(parseWaitFor('condition=ready=false'), { condition: 'ready', status: 'False' })
  t.same(parseWaitFor('delete'), { delete: true })
  t.throws(() => parseWaitFor('jsonpath={.status}'), { message: /--for=jsonpath=\{\.status\}: not understood/, exitCode: 2 })
  t.same(parsePortPair('8080:80'), { local: 8080, remote: 80 })
  t.same(parsePortPair('80'), { local: 80, remote: 80 })
  t.same(parsePortPair(':80'), { local: 0, remote: 80 })
  for (const bad of ['', 'x:80', '80:', '70000', '0:80', ':0']) t.throws(() => parsePortPair(bad), { name: 'PodError', message: /^port-forward: / }, bad)
  t.same(parseCpArg('web:/etc/hosts'), { pod: 'web', path: '/etc/hosts' })
  t.same(parseCpArg('./a:b'), { path: './a:b' })
  t.same(parseCpArg('/tmp/x'), { path: '/tmp/x' })
})
