// The files of configMap, secret and projected volumes (kubelet's payload:
// every key or the items, modes, later projected sources winning) and the
// AtomicWriter layout they are written in (..data, one symlink per name).
import t from 'tap'
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { parseManifestSetText } from '../../../src/index.js'
import { onTmpfs, volumePayload, writeAtomicVolume } from '../../../src/rootfs/api-volumes.js'

const file = parseManifestSetText(
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { b: 'bee', a: 'ay' }, binaryData: { bin: 'AAEC' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { pw: 's3cr3t', a: 'from secret' } },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web' },
        spec: {
          volumes: [
            { name: 'all', configMap: { name: 'cfg' } },
            {
              name: 'some',
              secret: {
                secretName: 'db',
                defaultMode: 0o400,
                items: [
                  { key: 'pw', path: 'db/pw', mode: 0o440 },
                  { key: 'a', path: 'a' },
                ],
              },
            },
            { name: 'none', configMap: { name: 'missing', optional: true } },
            {
              name: 'mix',
              projected: {
                defaultMode: 0o600,
                sources: [
                  { configMap: { name: 'cfg' } },
                  { secret: { name: 'db', items: [{ key: 'a', path: 'a' }] } },
                  { downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
                ],
              },
            },
          ],
          containers: [{ name: 'app', image: 'host', command: ['x'] }],
        },
      },
    ],
  }),
)
const spec = file.pods[0].parsed.spec
const payload = (i: number) => volumePayload(spec, spec.volumes[i], file.objects)!.map(f => [f.path, f.data.toString('base64'), f.mode.toString(8)])
const b64 = (s: string) => Buffer.from(s).toString('base64')

t.test('a configMap volume without items: every key (data and binaryData) as a file of its name, defaultMode 0644', async t => {
  t.same(payload(0), [
    ['a', b64('ay'), '644'],
    ['b', b64('bee'), '644'],
    ['bin', 'AAEC', '644'],
  ])
})

t.test("with items: only those keys, at their paths, an item's mode over defaultMode", async t => {
  t.same(payload(1), [
    ['db/pw', b64('s3cr3t'), '440'],
    ['a', b64('from secret'), '400'],
  ])
})

t.test('an optional object that is missing gives an empty volume', async t => {
  t.same(payload(2), [])
})

t.test("a projected volume joins its sources in order, a later source's file replacing an earlier one's", async t => {
  t.same(payload(3), [
    ['a', b64('from secret'), '600'],
    ['b', b64('bee'), '600'],
    ['bin', 'AAEC', '600'],
    ['name', b64('web'), '600'],
  ])
  t.same(spec.volumes.map(onTmpfs), [false, true, false, true], 'secret and projected volumes are kept on tmpfs, as kubelet backs them with memory')
})

t.test('the AtomicWriter layout: files in ..<time>, ..data pointing at it, a symlink per top-level name; modes exact', async t => {
  const dir = t.testdir()
  const old = process.umask(0o077)
  t.teardown(() => void process.umask(old))
  writeAtomicVolume(dir, volumePayload(spec, spec.volumes[1], file.objects)!)
  const names = readdirSync(dir).sort()
  t.equal(names.length, 4)
  const ts = names.find(n => /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d+$/.test(n))!
  t.ok(ts, 'a timestamped directory')
  t.same(
    names.filter(n => n !== ts),
    ['..data', 'a', 'db'],
  )
  t.equal(readlinkSync(join(dir, '..data')), ts)
  t.equal(readlinkSync(join(dir, 'db')), '..data/db')
  t.equal(readFileSync(join(dir, 'db', 'pw'), 'utf8'), 's3cr3t')
  t.equal(lstatSync(join(dir, ts, 'db', 'pw')).mode & 0o777, 0o440)
  t.equal(lstatSync(join(dir, ts, 'a')).mode & 0o777, 0o400)
  t.equal(lstatSync(join(dir, ts)).mode & 0o777, 0o755, 'the data directory, whatever the umask')
})
