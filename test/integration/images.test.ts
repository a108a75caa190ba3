// The local image store on a real filesystem, as root: import an OCI layout
// (dir and tar) and a docker-archive made by scripts/make-test-images.sh,
// resolve names, check the overlay form of whiteouts by mounting the layers,
// and refuse malicious or corrupt archives without writing outside the store.
import t from 'tap'
import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createHash, randomBytes } from 'node:crypto'
import { native } from '../../src/index.js'
import {
  OPAQUE_XATTR,
  importImage,
  listImages,
  lowerdirOption,
  removeImage,
  lookupImage,
  resolveImageUser,
  unpackLayer,
} from '../../src/rootfs/images/index.js'
import { readMergedFile } from '../../src/rootfs/images/run-config.js'
import { makeTar, type TarEntry } from '../helpers/tar-writer.js'
import { requires } from '../helpers/requires.js'

const skip = requires('root', 'built')
const repo = new URL('../../', import.meta.url).pathname
let images = ''

t.before(() => {
  if (skip) return
  images = t.testdir({})
  execFileSync('bash', [join(repo, 'scripts/make-test-images.sh'), images], { stdio: ['ignore', 'ignore', 'inherit'] })
})

const warnings: string[] = []
const onWarning = (m: string) => void warnings.push(m)
const sha = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex')

t.test('an OCI layout dir, its tar, and a docker-archive import as one image under every spelling of busybox', { skip }, async t => {
  const root = t.testdir({})
  const fromDir = await importImage(join(images, 'busybox-oci'), { root, onWarning })
  const fromTar = await importImage(join(images, 'busybox-oci.tar'), { root, onWarning })
  const fromDocker = await importImage(join(images, 'busybox-docker.tar'), { root, onWarning, name: 'tools/busybox:v1' })
  t.equal(fromTar.id, fromDir.id)
  t.equal(fromDocker.id, fromDir.id)
  for (const n of ['busybox', 'busybox:latest', 'docker.io/library/busybox:latest', 'library/busybox', 'tools/busybox:v1'])
    t.equal(lookupImage(root, n).id, fromDir.id, n)
  const r = lookupImage(root, 'busybox')
  t.equal(r.layers.length, 2)
  t.ok(r.layers.every(l => l.startsWith(join(root, 'images', 'layers') + '/') && statSync(l).isDirectory()))
  t.same(r.config, { cmd: ['sh'], env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], workingDir: '/root', stopSignal: 'SIGTERM' })
  t.ok(r.size > 500_000, `size ${r.size}`)
  t.equal(listImages(root).length, 1)
  t.same(readdirSync(join(root, 'images', 'tmp')), [], 'nothing left in tmp/')
  t.same(warnings, [])
  const digestName = r.names.find(n => n.includes('@'))!
  t.equal(lookupImage(root, digestName.replace('docker.io/library/', '')).id, r.id, 'name@manifest-digest resolves')
})

t.test('the docker-archive alone gives the same layers (uncompressed layer tars)', { skip }, async t => {
  const root = t.testdir({})
  const r = await importImage(join(images, 'busybox-docker.tar'), { root })
  t.equal(lookupImage(root, 'docker.io/library/busybox:latest').id, r.id)
  const lower = r.layers[0]
  t.ok(lstatSync(join(lower, 'bin/sh')).isSymbolicLink())
  t.equal(statSync(join(lower, 'bin/busybox')).mode & 0o777, 0o755)
  t.equal(statSync(join(lower, 'tmp')).mode & 0o7777, 0o1777)
})

t.test('the top layer holds an overlay whiteout (char 0:0) and the opaque xattr', { skip }, async t => {
  const root = t.testdir({})
  const r = await importImage(join(images, 'busybox-oci.tar'), { root })
  const [lower, upper] = r.layers
  const wh = lstatSync(join(upper, 'etc/gone'))
  t.ok(wh.isCharacterDevice(), 'etc/gone is a character device')
  t.equal(wh.rdev, 0, 'device 0:0')
  t.notOk(existsSync(join(upper, 'etc/.wh.gone')), 'the .wh. file itself is not unpacked')
  t.equal(native().lgetxattr(join(upper, 'data/opaque'), OPAQUE_XATTR), 'y')
  t.notOk(existsSync(join(upper, 'data/opaque/.wh..wh..opq')))
  t.equal(native().lgetxattr(join(lower, 'data/opaque'), OPAQUE_XATTR), null, 'the lower dir is not opaque')
  t.equal(readFileSync(join(lower, 'etc/gone'), 'utf8'), 'deleted by layer 2\n')
})

t.test('an overlay of the layers hides the deleted file and empties the opaque dir, and leaves no mount', { skip }, async t => {
  const root = t.testdir({})
  const r = await importImage(join(images, 'busybox-oci'), { root })
  const mnt = join(root, 'mnt')
  mkdirSync(mnt)
  const script = [
    'set -e',
    'mount -t overlay overlay -o "lowerdir=$2" "$1"',
    'cd "$1"',
    'echo "etc: $(ls -A etc | tr "\\n" " ")"',
    'echo "opaque: $(ls -A data/opaque | tr "\\n" " ")"',
    'echo "data: $(ls -A data | tr "\\n" " ")"',
    'chroot "$1" /bin/sh -c "cat /hello; test -e /etc/gone || echo no-gone"',
  ].join('\n')
  const out = execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', mnt, lowerdirOption(r.layers)], { encoding: 'utf8' })
  t.same(out.split('\n'), ['etc: group passwd ', 'opaque: new ', 'data: kept opaque ', 'hello from layer 2', 'no-gone', ''])
  t.notOk(readFileSync('/proc/self/mountinfo', 'utf8').includes(mnt), 'no mount left in our namespace')
})

/** A docker-archive directory of one layer tar (with a correct diff_id). */
function dockerArchive(dir: string, layer: Buffer): string {
  mkdirSync(join(dir, 'l'), { recursive: true })
  writeFileSync(join(dir, 'l/layer.tar'), layer)
  const config = JSON.stringify({ os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [sha(layer)] } })
  const cfgName = sha(config).slice(7) + '.json'
  writeFileSync(join(dir, cfgName), config)
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: cfgName, RepoTags: ['evil:1'], Layers: ['l/layer.tar'] }]))
  return dir
}

const tag = randomBytes(4).toString('hex')
const outside = {
  dotdot: (store: string) => join(store, 'escape'),
  abs: `/tmp/pl-abs-${tag}`,
  symlinkDir: `/tmp/pl-symlink-${tag}`,
}
const malicious: [string, TarEntry[], (layerParent: string) => string[]][] = [
  ['"../escape"', [{ path: '../escape', body: 'x' }], p => [join(p, 'escape'), join(p, '..', 'escape')]],
  ['"/abs"', [{ path: outside.abs, body: 'x' }], () => [outside.abs]],
  [
    'a symlink "evil -> /tmp/x" then "evil/file"',
    [
      { path: 'evil', type: 'symlink', linkpath: outside.symlinkDir },
      { path: 'evil/file', body: 'x' },
    ],
    () => [join(outside.symlinkDir, 'file')],
  ],
  ['a hardlink to /etc/passwd', [{ path: 'pw', type: 'link', linkpath: '/etc/passwd' }], () => []],
  ['a hardlink to ../../../../etc/passwd', [{ path: 'pw', type: 'link', linkpath: '../../../../etc/passwd' }], () => []],
]

for (const [what, entries, targets] of malicious) {
  t.test(`a layer with ${what} is refused and writes nothing outside its directory`, { skip }, async t => {
    mkdirSync(outside.symlinkDir, { recursive: true })
    t.teardown(() => rmSync(outside.symlinkDir, { recursive: true, force: true }))
    const passwdLinks = statSync('/etc/passwd').nlink
    const base = t.testdir({})
    const dest = join(base, 'layer')
    mkdirSync(dest)
    writeFileSync(join(base, 'evil.tar'), makeTar(entries))
    await t.rejects(unpackLayer(join(base, 'evil.tar'), dest, { compression: 'tar', label: 'evil.tar' }), {
      step: 'image.unpack',
      code: 'IMAGE_LAYER_UNSAFE',
      message: /^image\.unpack: evil\.tar: /,
    })
    for (const p of targets(dest)) t.notOk(existsSync(p), `${p} not written`)
    t.equal(statSync('/etc/passwd').nlink, passwdLinks, '/etc/passwd gained no link')
    t.same(readdirSync(outside.symlinkDir), [], 'the symlink target dir is untouched')

    // Through importImage: rejected, and the store keeps no layer, record or tmp dir.
    const root = join(base, 'root')
    await t.rejects(importImage(dockerArchive(join(base, 'archive'), makeTar(entries)), { root }), { code: 'IMAGE_LAYER_UNSAFE' })
    t.same(readdirSync(join(root, 'images', 'layers')), [])
    t.same(readdirSync(join(root, 'images', 'images')), [])
    t.same(readdirSync(join(root, 'images', 'tmp')), [])
    for (const p of targets(join(root, 'images', 'tmp', 'x', 'layer-0'))) t.notOk(existsSync(p), `${p} not written`)
  })
}

t.test('a later entry replaces a symlink instead of writing through it', { skip }, async t => {
  mkdirSync(outside.symlinkDir, { recursive: true })
  t.teardown(() => rmSync(outside.symlinkDir, { recursive: true, force: true }))
  const base = t.testdir({})
  const dest = join(base, 'layer')
  mkdirSync(dest)
  const entries: TarEntry[] = [
    { path: 'link', type: 'symlink', linkpath: join(outside.symlinkDir, 'target') },
    { path: 'link', body: 'replaced' },
    { path: 'dir/', type: 'dir' },
    { path: 'dir/a', body: 'a' },
    { path: 'dir/hard', type: 'link', linkpath: 'dir/a' },
  ]
  writeFileSync(join(base, 'ok.tar'), makeTar(entries))
  const { diffId } = await unpackLayer(join(base, 'ok.tar'), dest, { compression: 'tar', label: 'ok.tar' })
  t.equal(diffId, sha(makeTar(entries)))
  t.notOk(existsSync(join(outside.symlinkDir, 'target')))
  t.ok(lstatSync(join(dest, 'link')).isFile())
  t.equal(readFileSync(join(dest, 'link'), 'utf8'), 'replaced')
  t.equal(statSync(join(dest, 'dir/hard')).ino, statSync(join(dest, 'dir/a')).ino, 'hardlink inside the layer kept')
})

t.test('device nodes in a layer are skipped with a warning', { skip }, async t => {
  const base = t.testdir({})
  mkdirSync(join(base, 'layer'))
  writeFileSync(
    join(base, 'dev.tar'),
    makeTar([
      { path: 'dev/null', type: 'char' },
      { path: 'ok', body: '1' },
    ]),
  )
  const seen: string[] = []
  await unpackLayer(join(base, 'dev.tar'), join(base, 'layer'), { compression: 'tar', label: 'dev.tar', onWarning: m => void seen.push(m) })
  t.same(seen, ['image.unpack: dev.tar: dev/null: CharacterDevice entries are not unpacked (skipped)'])
  t.notOk(existsSync(join(base, 'layer/dev/null')))
  t.ok(existsSync(join(base, 'layer/ok')))
})

t.test('a blob whose bytes do not match its digest is refused before unpacking', { skip }, async t => {
  const base = t.testdir({})
  const oci = join(base, 'oci')
  cpSync(join(images, 'busybox-oci'), oci, { recursive: true })
  const index = JSON.parse(readFileSync(join(oci, 'index.json'), 'utf8'))
  const manifest = JSON.parse(readFileSync(join(oci, 'blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8'))
  const blob = join(oci, 'blobs/sha256', manifest.layers[1].digest.slice(7))
  const bytes = readFileSync(blob)
  bytes[bytes.length - 10] ^= 0xff
  writeFileSync(blob, bytes)
  const root = join(base, 'root')
  await t.rejects(importImage(oci, { root }), {
    step: 'image.verify',
    code: 'IMAGE_DIGEST_MISMATCH',
    message: new RegExp(`^image\\.verify: ${blob}: digest sha256:[0-9a-f]{64} does not match the manifest's ${manifest.layers[1].digest}$`),
  })
  t.same(readdirSync(join(root, 'images', 'images')), [])
  t.same(readdirSync(join(root, 'images', 'tmp')), [])
})

t.test('a docker-archive layer that does not match its diff_id is refused', { skip }, async t => {
  const base = t.testdir({})
  const dir = dockerArchive(join(base, 'a'), makeTar([{ path: 'f', body: 'one' }]))
  writeFileSync(join(dir, 'l/layer.tar'), makeTar([{ path: 'f', body: 'two' }]))
  const root = join(base, 'root')
  await t.rejects(importImage(dir, { root }), {
    step: 'image.verify',
    code: 'IMAGE_DIGEST_MISMATCH',
    message: /uncompressed digest sha256:\w+ does not match the config's diff_id/,
  })
  t.same(readdirSync(join(root, 'images', 'layers')), [])
})

t.test('two imports of the same image at once leave one record and whole layers', { skip }, async t => {
  const root = t.testdir({})
  const [a, b, c] = await Promise.all([
    importImage(join(images, 'busybox-oci.tar'), { root }),
    importImage(join(images, 'busybox-docker.tar'), { root }),
    importImage(join(images, 'busybox-oci'), { root }),
  ])
  t.equal(a.id, b.id)
  t.equal(b.id, c.id)
  t.equal(listImages(root).length, 1)
  t.equal(readdirSync(join(root, 'images', 'layers')).length, 2)
  t.same(readdirSync(join(root, 'images', 'tmp')), [])
  t.ok(existsSync(join(a.layers[0], 'bin/busybox')))
  t.ok(lstatSync(join(a.layers[1], 'etc/gone')).isCharacterDevice())
})

t.test('removeImage deletes the record and the layers no other image uses', { skip }, async t => {
  const base = t.testdir({})
  const root = join(base, 'root')
  const busybox = await importImage(join(images, 'busybox-oci'), { root })
  // A second image sharing the bottom layer: same layer 1, a different config.
  const dir = join(base, 'other')
  mkdirSync(join(dir, 'l'), { recursive: true })
  const layer1 = readFileSync(join(images, 'busybox-oci/blobs/sha256', busybox.layers[0].split('/').pop()!))
  writeFileSync(join(dir, 'l/layer.tar'), layer1)
  const config = JSON.stringify({ os: 'linux', config: { Cmd: ['true'] }, rootfs: { type: 'layers', diff_ids: [sha(layer1)] } })
  writeFileSync(join(dir, 'c.json'), config)
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: 'c.json', RepoTags: ['other:1'], Layers: ['l/layer.tar'] }]))
  const other = await importImage(dir, { root })
  t.same(other.layers, [busybox.layers[0]], 'the shared layer is stored once')
  t.equal(listImages(root).length, 2)

  const removed = await removeImage(root, 'busybox')
  t.equal(removed.id, busybox.id)
  t.same(removed.layers, [busybox.layers[1]], 'only the unshared layer is deleted')
  t.notOk(existsSync(busybox.layers[1]))
  t.ok(existsSync(join(busybox.layers[0], 'bin/busybox')), 'the shared layer stays')
  t.same(
    listImages(root).map(r => r.id),
    [other.id],
  )
  t.throws(() => lookupImage(root, 'busybox'), { code: 'IMAGE_NOT_FOUND', message: /available: other:1 \(sha256:/ })
  await t.rejects(removeImage(root, 'busybox'), { code: 'IMAGE_NOT_FOUND' })
  await removeImage(root, 'other:1')
  t.same(readdirSync(join(root, 'images', 'layers')), [])
  t.same(listImages(root), [])
})

t.test('a missing image lists the images there are and how to import one', { skip }, async t => {
  const root = t.testdir({})
  await importImage(join(images, 'busybox-docker.tar'), { root })
  t.throws(() => lookupImage(root, 'nginx'), {
    step: 'image.resolve',
    code: 'IMAGE_NOT_FOUND',
    message: /^image\.resolve: nginx: no such image in the local store \(.*\); available: busybox:latest \(sha256:[0-9a-f]{12}\)$/,
    hint: /^pull it: pod-launch image pull nginx; or import .*docker save nginx .*skopeo copy docker:\/\/nginx docker-archive:img\.tar:nginx\), then pod-launch image import img\.tar$/,
  })
})

t.test('a file that is not an image archive is a clear error', { skip }, async t => {
  const base = t.testdir({ 'notes.txt': 'hello', empty: {} })
  const root = join(base, 'root')
  await t.rejects(importImage(join(base, 'notes.txt'), { root }), { step: 'image.unpack', code: 'IMAGE_INVALID' })
  await t.rejects(importImage(join(base, 'missing.tar'), { root }), { step: 'image.read', code: 'ENOENT' })
  await t.rejects(importImage(join(base, 'empty'), { root }), { step: 'image.manifest', message: /neither an OCI image layout/ })
  t.same(readdirSync(join(root, 'images', 'tmp')), [])
})

t.test("the image's User resolves against its /etc/passwd and /etc/group, as the overlay shows them", { skip }, async t => {
  const root = t.testdir({})
  const { layers } = await importImage(join(images, 'busybox-oci'), { root })
  t.same(resolveImageUser(layers, undefined), { uid: 0, gid: 0 })
  t.same(resolveImageUser(layers, 'nobody'), { uid: 65534, gid: 65534 })
  t.same(resolveImageUser(layers, '65534'), { uid: 65534, gid: 65534 })
  t.same(resolveImageUser(layers, '1000'), { uid: 1000, gid: 0 })
  t.same(resolveImageUser(layers, 'root:nogroup'), { uid: 0, gid: 65534 })
  t.same(resolveImageUser(layers, '5:7'), { uid: 5, gid: 7 })
  t.throws(() => resolveImageUser(layers, 'ghost'), {
    step: 'image.user',
    code: 'IMAGE_USER_UNKNOWN',
    message: `image.user: ghost: user "ghost" is not in the image's /etc/passwd`,
  })
  t.throws(() => resolveImageUser(layers, 'root:ghosts'), { message: `image.user: root:ghosts: group "ghosts" is not in the image's /etc/group` })
  t.equal(readMergedFile(layers, 'etc/gone'), undefined, 'a whiteout hides the lower file')
  t.equal(readMergedFile(layers, 'data/opaque/old1'), undefined, 'an opaque dir hides the lower files')
  t.equal(readMergedFile(layers, 'data/opaque/new'), 'new\n')
})

t.test('two pod-launch processes importing at once share the store lock and leave whole layers', { skip }, async t => {
  const root = t.testdir({})
  const cli = (file: string) => promisify(execFile)(process.execPath, [join(repo, 'bin/pod-launch'), 'image', 'import', file, '--root', root])
  const outs = await Promise.all([cli(join(images, 'busybox-oci.tar')), cli(join(images, 'busybox-docker.tar')), cli(join(images, 'busybox-oci'))])
  for (const o of outs) t.match(o.stdout, /^imported busybox:latest \(sha256:[0-9a-f]{12}\): 2 layers, /)
  t.equal(listImages(root).length, 1)
  t.equal(readdirSync(join(root, 'images', 'layers')).length, 2)
  t.same(readdirSync(join(root, 'images', 'tmp')), [])
  const r = lookupImage(root, 'busybox')
  t.ok(lstatSync(join(r.layers[1], 'etc/gone')).isCharacterDevice())
  t.equal(readdirSync(join(r.layers[0], 'bin')).length > 100, true, 'every busybox applet link is there')
})
