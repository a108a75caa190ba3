import t from 'tap'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { readManifest } from '../../../src/index.js'

const dir = fileURLToPath(new URL('../../../examples/', import.meta.url))

t.test('every example manifest parses', async t => {
  const files = readdirSync(dir).filter(f => /\.(ya?ml|json)$/.test(f))
  t.ok(files.length >= 2)
  for (const f of files) t.doesNotThrow(() => readManifest(dir + f), f)
})

t.test("the seeds' pod: two web containers on 8080 and 8081, a hostPath volume, Never, labels", async t => {
  const { spec, unsupported } = readManifest(dir + 'seeds-pod.yaml')
  t.same(
    spec.containers.map(c => c.ports.map(p => p.containerPort)),
    [[8080], [8081], []],
  )
  t.same(spec.volumes, [{ name: 'shared-data', kind: 'hostPath', source: { path: '/data', type: 'DirectoryOrCreate' } }])
  t.same(
    spec.containers.slice(0, 2).map(c => c.volumeMounts.map(m => m.mountPath)),
    [['/tmp'], ['/tmp']],
  )
  t.equal(spec.restartPolicy, 'Never')
  t.same(spec.labels, { app: 'web', tier: 'frontend' })
  t.same(unsupported, [], 'every field is honoured')
})

t.test('the sidecar example: a log shipper init container with restartPolicy Always beside a Never job', async t => {
  const { spec, unsupported } = readManifest(dir + 'sidecar-logshipper.yaml')
  t.same(
    spec.initContainers.map(c => [c.name, c.restartPolicy]),
    [['logshipper', 'Always']],
  )
  t.equal(spec.restartPolicy, 'Never')
  t.same(unsupported, [], 'every field is honoured')
})
