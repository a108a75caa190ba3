import t from 'tap'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { readManifest, readManifestSet } from '../../../src/index.js'

const dir = fileURLToPath(new URL('../../../examples/', import.meta.url))

t.test('every example manifest parses, every document of it, strictly', async t => {
  const files = readdirSync(dir).filter(f => /\.(ya?ml|json)$/.test(f))
  t.ok(files.length >= 2)
  for (const f of files) t.doesNotThrow(() => readManifestSet(dir + f, { strict: true }), f)
})

t.test("the Kubernetes docs' ConfigMap and Secret examples: the objects and the pods that read them, every field honoured", async t => {
  const kinds = (f: string) => {
    const s = readManifestSet(dir + f, { strict: true })
    t.same(
      s.pods.flatMap(p => p.parsed.unsupported),
      [],
      `${f}: every field is honoured`,
    )
    return [s.objects.configMaps.map(o => o.name), s.objects.secrets.map(o => o.name), s.pods.map(p => p.parsed.spec.name)]
  }
  t.same(kinds('configmap-game-demo.yaml'), [['game-demo'], [], ['configmap-demo-pod']])
  t.same(kinds('configmap-envfrom.yaml'), [['special-config'], [], ['dapi-test-pod']])
  t.same(kinds('configmap-volume.yaml'), [['special-config'], [], ['dapi-test-pod']])
  t.same(kinds('secret-dotfile.yaml'), [[], ['dotfile-secret'], ['secret-dotfiles-pod']])
  t.same(kinds('secret-env-single.yaml'), [[], ['backend-user'], ['env-single-secret']])
  const web = readManifestSet(dir + 'web-deployment.yaml', { strict: true })
  t.match(
    web.pods.map(p => p.parsed.spec.name),
    [/^web-[a-z0-9]+-[a-z0-9]{5}$/],
  )
  t.same(
    web.notRun.map(n => n.origin.kind),
    ['Service'],
  )
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
