// Manifest and archive values that used to pass validation and fail later
// (in the kernel, in the child) or vanish silently: each is refused up front,
// naming its field, and nothing is created.
import t from 'tap'
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { requires } from '../helpers/requires.js'
import { cli } from '../helpers/cli.js'
import { manifest, uniqueName } from '../helpers/pods.js'
import { makeTar } from '../helpers/tar-writer.js'
import { newRoot, writeManifest } from '../helpers/detached-pods.js'

const skip = requires('root', 'built')
const created = (root: string) => readdirSync(root, { recursive: true }).filter(f => f !== '.lock')
const withCpu = (name: string, ...cpus: string[]) =>
  manifest(
    name,
    cpus.map((cpu, i) => ({ name: `c${i}`, command: ['true'], resources: { limits: { cpu } } }) as never),
  )

t.test("a cpu limit beyond the kernel's CFS quota is refused by explain and run; the largest allowed one runs", { skip }, async t => {
  const root = newRoot(t)
  for (const m of [withCpu(uniqueName('cpu'), '1e11'), withCpu(uniqueName('cpu'), '100000000', '100000000')]) {
    const file = writeManifest(t, m)
    for (const cmd of ['explain', 'run']) {
      const r = await cli(root, cmd, file)
      t.equal(r.code, 2, `${cmd}: ${r.stderr}`)
      t.match(r.stderr, /spec\.containers\[(0|\*)\]\.resources\.limits\.cpu: .*more than 175921860444m/)
      t.notMatch(r.stderr, 'cgroup.write')
    }
  }
  t.same(created(root), [], 'nothing was created')
  const ok = await cli(root, 'run', writeManifest(t, withCpu(uniqueName('cpumax'), '175921860444m')))
  t.equal(ok.code, 0, `the bound itself is a quota the kernel takes: ${ok.stderr}`)
  t.match(ok.stdout + ok.stderr, 'Succeeded')
  t.same(created(root), [], 'the pod left nothing')
})

t.test('a mountPath with .. is refused in validation, naming the field', { skip }, async t => {
  const root = newRoot(t)
  const m = manifest(uniqueName('dotdot'), [{ name: 'c', command: ['true'], volumeMounts: [{ name: 'v', mountPath: '/..' }] } as never], {
    volumes: [{ name: 'v', emptyDir: {} }],
  })
  const r = await cli(root, 'run', writeManifest(t, m))
  t.equal(r.code, 2)
  t.match(r.stderr, `spec.containers[0].volumeMounts[0].mountPath: "/.." must not contain '..'`)
  t.same(created(root), [])
})

t.test('a malformed image name names spec.containers[i].image', { skip }, async t => {
  const root = newRoot(t)
  const m = manifest(uniqueName('badimg'), [{ name: 'a', command: ['true'] }, { name: 'b', command: ['true'], image: 'Bad//Name' } as never])
  const r = await cli(root, 'run', writeManifest(t, m))
  t.equal(r.code, 2)
  t.match(r.stderr, /^pod-launch: image\.name: spec\.containers\[1\]\.image: Bad\/\/Name: /)
  t.same(created(root), [])
})

t.test('an archive RepoTag that is not an image name is named in a warning, the valid one kept', { skip }, async t => {
  const root = newRoot(t)
  const dir = join(t.testdir(), 'archive')
  mkdirSync(join(dir, 'l'), { recursive: true })
  const layer = makeTar([{ path: 'f', body: 'one' }])
  writeFileSync(join(dir, 'l/layer.tar'), layer)
  const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')
  const config = JSON.stringify({ os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] } })
  writeFileSync(join(dir, `${sha(config)}.json`), config)
  const good = `plt-repotag-${process.pid}:1`
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: ['../../x:1', good], Layers: ['l/layer.tar'] }]))
  const r = await cli(root, 'image', 'import', dir)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /^warning: image\.name: .*: RepoTags entry "\.\.\/\.\.\/x:1" is not a valid image name: dropped$/m)
  t.match(r.stdout, `imported ${good}`)
  const rm = await cli(root, 'image', 'rm', good)
  t.equal(rm.code, 0, rm.stderr)
})
