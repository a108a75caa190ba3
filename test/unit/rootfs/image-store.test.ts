// Resolving and listing on a fabricated store (records written by hand; no root).
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { listImages, lowerdirOption, lookupImage } from '../../../src/rootfs/images/index.js'
import { entryComponents } from '../../../src/rootfs/images/safe-path.js'

const id = (c: string) => 'sha256:' + c.repeat(64)

function store(t: { testdir(): string }) {
  const root = t.testdir()
  mkdirSync(join(root, 'images', 'images'), { recursive: true })
  const put = (c: string, names: string[], diffIds: string[]) =>
    writeFileSync(join(root, 'images', 'images', `${c.repeat(64)}.json`), JSON.stringify({ id: id(c), names, diffIds, config: { cmd: ['sh'] }, size: 3 }))
  put('a', ['docker.io/library/busybox:latest', `docker.io/library/busybox@${id('d')}`], [id('1'), id('2')])
  put('b', ['quay.io/x/y:1'], [id('1')])
  return root
}
t.test('every spelling of a name resolves to the same record, layers bottom to top', async t => {
  const root = store(t)
  for (const n of ['busybox', 'busybox:latest', 'library/busybox', 'docker.io/library/busybox:latest', `busybox@${id('d')}`, 'aaaaaaaaaaaa', id('a')]) {
    t.equal(lookupImage(root, n).id, id('a'), n)
  }
  const r = lookupImage(root, 'busybox')
  t.same(r.layers, [join(root, 'images', 'layers', '1'.repeat(64)), join(root, 'images', 'layers', '2'.repeat(64))])
  t.same(r.config, { cmd: ['sh'] })
  t.equal(lowerdirOption(r.layers), `${r.layers[1]}:${r.layers[0]}`)
})

t.test('a missing image names what the store holds and how to import', async t => {
  const root = store(t)
  t.throws(() => lookupImage(root, 'alpine:3'), {
    step: 'image.resolve',
    code: 'IMAGE_NOT_FOUND',
    message: `image.resolve: alpine:3: no such image in the local store (${join(root, 'images')}); available: busybox:latest (sha256:aaaaaaaaaaaa); quay.io/x/y:1 (sha256:bbbbbbbbbbbb)`,
    hint: /^pull it: pod-launch image pull alpine:3; or import an archive made elsewhere: docker save alpine:3 -o img\.tar \(or skopeo copy docker:\/\/alpine:3 docker-archive:img\.tar:alpine:3\), then pod-launch image import img\.tar$/,
  })
  t.throws(() => lookupImage(t.testdir({}), 'busybox'), { message: /available: none$/ })
  t.throws(() => lookupImage(root, 'busybox:2'), { code: 'IMAGE_NOT_FOUND' })
})

t.test('listImages returns every record; an empty or absent store is empty', async t => {
  t.same(
    listImages(store(t)).map(r => r.id),
    [id('a'), id('b')],
  )
  t.same(listImages(t.testdir({})), [])
})

t.test('a corrupt record is a clear state error', async t => {
  const root = store(t)
  writeFileSync(join(root, 'images', 'images', `${'c'.repeat(64)}.json`), '{')
  t.throws(() => listImages(root), { step: 'image.store', code: 'STATE_CORRUPT' })
})

t.test('entry paths: "./" prefixes dropped; absolute and ".." refused', async t => {
  t.same(entryComponents('./a/b/'), ['a', 'b'])
  t.same(entryComponents('./'), [])
  t.throws(() => entryComponents('/etc/passwd'), { message: 'absolute path "/etc/passwd"' })
  t.throws(() => entryComponents('a/../../x'), { message: 'path "a/../../x" has a ".." component' })
})
