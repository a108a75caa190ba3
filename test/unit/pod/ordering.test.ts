import t from 'tap'
import { parseManifest } from '../../../src/index.js'
import { isSidecar, stopPrerequisites } from '../../../src/pod/index.js'

const c = (name: string, restartPolicy?: 'Always') => ({ name, command: ['sleep', '1'], ...(restartPolicy && { restartPolicy }) })
const spec = (initContainers: object[], containers: object[]) =>
  parseManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { initContainers, containers } }).spec

t.test('a sidecar is an init container with restartPolicy Always', async t => {
  const s = spec([c('plain'), c('side', 'Always')], [c('app')])
  t.same(s.initContainers.map(isSidecar), [false, true])
  t.equal(s.initContainers[1].restartPolicy, 'Always')
  t.notOk('restartPolicy' in s.initContainers[0], 'a plain init container carries no restartPolicy')
})

t.test('stop order: containers first, then sidecars in reverse order of declaration (kubelet newTerminationOrdering)', async t => {
  const s = spec([c('proxy', 'Always'), c('migrate'), c('logs', 'Always'), c('metrics', 'Always')], [c('app'), c('worker')])
  t.same(Object.fromEntries(stopPrerequisites(s)), {
    app: [],
    worker: [],
    migrate: [],
    metrics: ['app', 'worker'],
    logs: ['app', 'worker', 'metrics'],
    proxy: ['app', 'worker', 'logs'],
  })
})

t.test('without sidecars nobody waits: every container is stopped at once', async t => {
  const s = spec([c('setup')], [c('a'), c('b')])
  t.same([...stopPrerequisites(s).values()], [[], [], []])
})
