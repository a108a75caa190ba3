// The STATUS kubectl get pods would print for a record, kubelet's event
// counting, and the statuses of a pod that waits for its images.
import t from 'tap'
import { mkdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { RecordKeeper } from '../../../src/manage/recorder.js'
import { waitingStatuses } from '../../../src/manage/snapshot.js'
import { parseManifest } from '../../../src/spec/index.js'
import { addEvent, podStatusText, type ContainerRecord, type PodRecord } from '../../../src/state/index.js'

const spec = (initContainers: object[] = []) =>
  parseManifest({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: {
      initContainers,
      containers: [
        { name: 'a', image: 'host', command: ['true'] },
        { name: 'b', image: 'host', command: ['true'] },
      ],
    },
  }).spec

const c = (name: string, state: ContainerRecord['state'], extra: Partial<ContainerRecord> = {}): ContainerRecord => ({
  name,
  init: false,
  state,
  restartCount: 0,
  started: false,
  ready: false,
  ...extra,
})
const record = (phase: PodRecord['phase'], containerStatuses: ContainerRecord[], initContainerStatuses: ContainerRecord[] = [], s = spec()): PodRecord => ({
  id: 'u',
  name: 'p',
  namespace: 'default',
  createdAt: '2026-01-01T00:00:00Z',
  supervisor: null,
  phase,
  spec: s,
  podIP: '',
  initContainerStatuses,
  containerStatuses,
})
const running = { running: { startedAt: '2026-01-01T00:00:00Z' } }
const ended = (exitCode: number, reason: 'Completed' | 'Error' | 'OOMKilled') => ({
  terminated: { exitCode, signal: null, reason, finishedAt: '2026-01-01T00:00:01Z' },
})

t.test("STATUS is kubectl's: a waiting reason wins over the phase", async t => {
  t.equal(
    podStatusText(
      record('Pending', [c('a', { waiting: { reason: 'ContainerCreating' } }), c('b', { waiting: { reason: 'ImagePullBackOff', message: 'x' } })]),
      true,
    ),
    'ContainerCreating',
    'the first container counts last',
  )
  t.equal(
    podStatusText(record('Pending', [c('a', { waiting: { reason: 'ErrImagePull' } }), c('b', { waiting: { reason: 'ContainerCreating' } })]), true),
    'ErrImagePull',
  )
  t.equal(podStatusText(record('Running', [c('a', running, { ready: true }), c('b', { waiting: { reason: 'CrashLoopBackOff' } })]), true), 'CrashLoopBackOff')
  t.equal(podStatusText(record('Running', [c('a', running, { ready: true }), c('b', running, { ready: true })]), true), 'Running')
})

t.test('STATUS of ended containers: Completed, Error, and Running while one still runs ready', async t => {
  t.equal(podStatusText(record('Succeeded', [c('a', ended(0, 'Completed')), c('b', ended(0, 'Completed'))]), false), 'Completed')
  t.equal(podStatusText(record('Failed', [c('a', ended(1, 'Error')), c('b', ended(0, 'Completed'))]), false), 'Error', 'the first container says it')
  t.equal(podStatusText(record('Running', [c('a', running, { ready: true }), c('b', ended(0, 'Completed'))]), true), 'Running')
  t.equal(podStatusText(record('Running', [c('a', running), c('b', ended(0, 'Completed'))]), false), 'Unknown', 'owner gone: Unknown, as the phase')
})

t.test('STATUS while init containers run: Init:N/M or Init:<reason>', async t => {
  const s = spec([
    { name: 'i1', image: 'host', command: ['true'] },
    { name: 'i2', image: 'host', command: ['true'] },
  ])
  const pending = [c('a', { waiting: { reason: 'PodInitializing' } }), c('b', { waiting: { reason: 'PodInitializing' } })]
  const init = (st: ContainerRecord['state'][]) => st.map((x, i) => c(`i${i + 1}`, x, { init: true }))
  t.equal(podStatusText(record('Pending', pending, init([ended(0, 'Completed'), running]), s), true), 'Init:1/2')
  t.equal(
    podStatusText(record('Pending', pending, init([{ waiting: { reason: 'ImagePullBackOff' } }, { waiting: { reason: 'PodInitializing' } }]), s), true),
    'Init:ImagePullBackOff',
  )
  t.equal(podStatusText(record('Failed', pending, init([ended(1, 'Error'), { waiting: { reason: 'PodInitializing' } }]), s), false), 'Init:Error')
})

t.test('an event seen again is counted, not listed again; the newest is last', async t => {
  const a = { type: 'Normal' as const, reason: 'Pulling', message: 'Pulling image "x"', fieldPath: 'spec.containers{a}' }
  const b = { type: 'Warning' as const, reason: 'Failed', message: 'Error: ErrImagePull', fieldPath: 'spec.containers{a}' }
  let ev = addEvent([], a, new Date('2026-01-01T00:00:00Z'))
  ev = addEvent(ev, b, new Date('2026-01-01T00:00:01Z'))
  ev = addEvent(ev, a, new Date('2026-01-01T00:00:02Z'))
  t.same(ev, [
    { ...b, count: 1, firstTimestamp: '2026-01-01T00:00:01.000Z', lastTimestamp: '2026-01-01T00:00:01.000Z' },
    { ...a, count: 2, firstTimestamp: '2026-01-01T00:00:00.000Z', lastTimestamp: '2026-01-01T00:00:02.000Z' },
  ])
  t.same(addEvent(ev, { ...a, fieldPath: 'spec.containers{b}' }).length, 3, 'another container: another event')
})

t.test('before the pod exists every container waits, with its image reason or kubelet default', async t => {
  const waiting = new Map([['b', { reason: 'ErrImagePull' as const, message: 'boom' }]])
  const plain = waitingStatuses(spec(), waiting)
  t.same(
    plain.containerStatuses.map(s => s.state),
    [{ waiting: { reason: 'ContainerCreating' } }, { waiting: { reason: 'ErrImagePull', message: 'boom' } }],
  )
  t.same(plain.initContainerStatuses, [])
  const withInit = waitingStatuses(spec([{ name: 'i', image: 'host', command: ['true'], restartPolicy: 'Always' }]), waiting)
  t.same(withInit.initContainerStatuses, [
    { name: 'i', init: true, sidecar: true, state: { waiting: { reason: 'PodInitializing' } }, restartCount: 0, started: false, ready: false },
  ])
  t.same(withInit.containerStatuses[0].state, { waiting: { reason: 'PodInitializing' } }, "kubelet's default once a pod has init containers")
})

t.test('a pull retried after a failure keeps the failure as the reason until a pull succeeds (kubelet keeps its last sync error)', async t => {
  const root = t.testdir()
  mkdirSync(join(root, 'u'))
  const keeper = new RecordKeeper(root, record('Pending', []), m => t.fail(m))
  const pull = (state: 'pulling' | 'failed' | 'backoff' | 'pulled') => {
    keeper.onEvent({
      type: 'image-pull',
      pod: 'p',
      image: 'x:1',
      containers: ['a'],
      state,
      ...(state !== 'pulling' && state !== 'pulled' && { error: 'boom' }),
    })
    return keeper.record.containerStatuses[0].state
  }
  t.same(pull('pulling'), { waiting: { reason: 'ContainerCreating' } }, 'the first pull: ContainerCreating')
  t.same(pull('failed'), { waiting: { reason: 'ErrImagePull', message: 'boom' } })
  t.same(pull('pulling'), { waiting: { reason: 'ErrImagePull', message: 'boom' } }, 'its retry still says ErrImagePull')
  t.match(pull('backoff'), { waiting: { reason: 'ImagePullBackOff' } })
  t.match(pull('pulling'), { waiting: { reason: 'ImagePullBackOff' } }, 'a retry after the back-off still says ImagePullBackOff')
  t.same(pull('pulled'), { waiting: { reason: 'ContainerCreating' } }, 'a pull that succeeds clears it')
  t.equal(keeper.record.events?.filter(e => e.reason === 'Pulling')[0]?.count, 3, 'every attempt is a Pulling event')
})

t.test("a running foreground pod's events are saved once per turn of the event loop; its end at once", async t => {
  const root = t.testdir()
  mkdirSync(join(root, 'u'))
  const file = join(root, 'u', 'pod.json')
  // Each save is a new file renamed over pod.json: its inode tells one write from the next.
  const ino = () => statSync(file, { throwIfNoEntry: false })?.ino
  const phase = (p: PodRecord['phase']) => keeper.onEvent({ type: 'pod-phase', pod: 'p', phase: p })
  const keeper = new RecordKeeper(root, { ...record('Pending', []), foreground: true }, m => t.fail(m))
  phase('Pending')
  const first = ino()
  t.ok(first, 'before coalesce: saved at once')
  keeper.coalesce()
  phase('Running')
  phase('Running')
  t.equal(ino(), first, 'coalescing: not yet written')
  await new Promise(r => setImmediate(r))
  const second = ino()
  t.not(second, first, 'written at the end of the turn')
  await new Promise(r => setImmediate(r))
  t.equal(ino(), second, 'once')
  phase('Succeeded')
  t.not(ino(), second, 'the end is saved at once')
  t.match(JSON.parse(readFileSync(file, 'utf8')), { foreground: true, events: Array }, 'the record as kept')
})
