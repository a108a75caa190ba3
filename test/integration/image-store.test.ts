// The image store as `docker load` / `docker images` users expect it, as
// root on the real kernel: archives naming several images (OCI layouts as
// docker save a b and skopeo write them, docker-archives with several
// RepoTags) import every name; image ls / inspect; layer xattrs
// (security.capability) kept; image rm of an image a live pod uses is
// refused naming the pod. Every test uses its own --root. The size limits,
// the free-space floor and gc of interrupted imports (issue 24, item 8) are
// in image-limits.test.ts.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { native } from '../../src/index.js'
import { importImages, inspectImage, listImages, lookupImage } from '../../src/rootfs/images/index.js'
import { main } from '../../src/cli/main.js'
import { cli } from '../helpers/cli.js'
import { dockerArchive, imageRoots, ociLayout } from '../helpers/image-layouts.js'
import { makeTar } from '../helpers/tar-writer.js'
import { requires } from '../helpers/requires.js'
import { uniqueName } from '../helpers/pods.js'

const skip = requires('root', 'built')
const repo = new URL('../../', import.meta.url).pathname
const { newRoot, leakCheck } = imageRoots('pl-image-store')
let images = ''

t.before(() => {
  if (skip) return
  images = t.testdir({})
  execFileSync('bash', [join(repo, 'scripts/make-test-images.sh'), images], { stdio: ['ignore', 'ignore', 'inherit'] })
})

function io() {
  const out: string[] = []
  const err: string[] = []
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out: () => out.join(''), err: () => err.join('') }
}

const tarDir = (dir: string, file: string) => execFileSync('tar', ['-C', dir, '-cf', file, '.'])
const layerOf = (name: string) =>
  makeTar([
    { path: 'etc/', type: 'dir' },
    { path: `etc/${name}`, body: `${name}\n` },
  ])

t.test('an OCI archive naming two images (as docker save a b writes it) imports both, each under its name', { skip }, async t => {
  const root = newRoot()
  const base = t.testdir({})
  const layout = ociLayout(join(base, 'layout'), [
    { names: ['docker.io/library/alpha:1', 'registry.test/team/alpha:stable'], layers: [layerOf('alpha')], cmd: ['alpha'] },
    { names: ['docker.io/library/beta:2'], layers: [layerOf('alpha'), layerOf('beta')], cmd: ['beta'] },
  ])
  tarDir(layout, join(base, 'two.tar'))
  const got = await importImages(join(base, 'two.tar'), { root })
  t.equal(got.length, 2, 'two images (alpha has two names: one image)')
  const alpha = lookupImage(root, 'alpha:1')
  t.equal(lookupImage(root, 'registry.test/team/alpha:stable').id, alpha.id)
  t.same(alpha.config.cmd, ['alpha'])
  const beta = lookupImage(root, 'beta:2')
  t.same(beta.config.cmd, ['beta'])
  t.equal(beta.layers[0], alpha.layers[0], 'the shared layer is stored once')
  t.equal(readdirSync(join(root, 'images/layers')).length, 2)
  t.same(readdirSync(join(root, 'images/tmp')), [])
  // Naming one picks it alone.
  const root2 = newRoot()
  t.same(
    (await importImages(layout, { root: root2, name: 'beta:2' })).map(r => r.config.cmd),
    [['beta']],
  )
  await t.rejects(importImages(layout, { root: root2, name: 'gamma:3' }), {
    step: 'image.manifest',
    message: /holds several images .*name the one to import/,
    hint: /import without a name to import every image/,
  })
})

t.test('a layout skopeo wrote two names into imports both names', { skip }, async t => {
  const root = newRoot()
  const dst = join(t.testdir({}), 'layout')
  for (const ref of ['busybox:one', 'tools/box:two']) execFileSync('skopeo', ['copy', '-q', `oci:${join(images, 'busybox-oci')}`, `oci:${dst}:${ref}`])
  const got = await importImages(dst, { root })
  t.equal(new Set(got.map(r => r.id)).size, 1, 'one image')
  t.same(
    listImages(root)[0]
      .names.filter(n => !n.includes('@'))
      .sort(),
    ['docker.io/library/busybox:one', 'docker.io/tools/box:two'],
  )
})

t.test('a docker-archive with two images and several RepoTags imports every tag', { skip }, async t => {
  const root = newRoot()
  const base = t.testdir({})
  const dir = dockerArchive(join(base, 'd'), [
    { names: ['alpha:1', 'alpha:latest'], layers: [layerOf('alpha')], cmd: ['alpha'] },
    { names: ['beta:2'], layers: [layerOf('beta')], cmd: ['beta'] },
  ])
  tarDir(dir, join(base, 'docker.tar'))
  const r = await cli(root, 'image', 'import', join(base, 'docker.tar'))
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^imported alpha:1, alpha:latest \(sha256:[0-9a-f]{12}\): 1 layers, \S+\nimported beta:2 \(sha256:[0-9a-f]{12}\): 1 layers, \S+\n$/)
  for (const n of ['alpha', 'alpha:1', 'beta:2']) t.ok(lookupImage(root, n), n)
  t.not(lookupImage(root, 'alpha').id, lookupImage(root, 'beta:2').id)
})

t.test('image ls prints one row per name, REPOSITORY TAG IMAGE ID CREATED SIZE; --json has full ids', { skip }, async t => {
  const root = newRoot()
  const base = t.testdir({})
  await importImages(
    ociLayout(join(base, 'l'), [{ names: ['docker.io/library/alpha:1', 'registry.test/team/alpha:stable'], layers: [layerOf('alpha')], cmd: ['a'] }]),
    { root },
  )
  await importImages(join(images, 'busybox-docker.tar'), { root })
  const c = io()
  t.equal(await main(['image', 'ls', '--root', root], c.io), 0)
  const lines = c.out().trimEnd().split('\n')
  t.match(lines[0], /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/)
  const rows = lines.slice(1).map(l => l.split(/\s{2,}/))
  t.same(
    rows.map(r => [r[0], r[1]]),
    [
      ['alpha', '1'],
      ['busybox', 'latest'],
      ['registry.test/team/alpha', 'stable'],
    ],
  )
  t.equal(rows[0][2], rows[2][2], 'two names of one image: one IMAGE ID')
  t.match(rows[0][3], /^\d+ (month|year|week|day)s? ago$/)
  t.match(rows[1][4], /^\d+(\.\d+)?(MB|kB)$/)
  const j = io()
  t.equal(await main(['image', 'ls', '--json', '--root', root], j.io), 0)
  const all = JSON.parse(j.out()) as { id: string; repoTags: string[]; repoDigests: string[]; size: number }[]
  t.equal(all.length, 2)
  for (const i of all) t.match(i.id, /^sha256:[0-9a-f]{64}$/)
  t.ok(
    all.some(
      i => i.repoTags.includes('registry.test/team/alpha:stable') && i.repoDigests.some(d => /^registry\.test\/team\/alpha@sha256:[0-9a-f]{64}$/.test(d)),
    ),
  )
})

t.test('image inspect prints the config as it came, the manifest digest and the layers', { skip }, async t => {
  const root = newRoot()
  await importImages(join(images, 'busybox-oci'), { root })
  const index = JSON.parse(readFileSync(join(images, 'busybox-oci/index.json'), 'utf8'))
  const manifest = JSON.parse(readFileSync(join(images, 'busybox-oci/blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8'))
  const rawConfig = JSON.parse(readFileSync(join(images, 'busybox-oci/blobs/sha256', manifest.config.digest.slice(7)), 'utf8'))
  const c = io()
  t.equal(await main(['image', 'inspect', 'busybox', '--root', root], c.io), 0, c.err())
  const got = JSON.parse(c.out())
  t.same(got.config, rawConfig, 'the config JSON byte for byte as parsed')
  t.equal(got.manifestDigest, index.manifests[0].digest)
  t.equal(got.id, manifest.config.digest)
  t.same(
    got.layers.map((l: { digest: string }) => l.digest),
    manifest.layers.map((l: { digest: string }) => l.digest),
  )
  t.same(
    got.layers.map((l: { diffId: string }) => l.diffId),
    rawConfig.rootfs.diff_ids,
  )
  t.same(inspectImage(root, 'busybox').repoTags, ['docker.io/library/busybox:latest'])
  const missing = io()
  t.equal(await main(['image', 'inspect', 'nginx', '--root', root], missing.io), 1)
  t.match(missing.err(), /^pod-launch: image\.resolve: nginx: no such image/)
})

t.test('layer xattrs are kept: security.capability (setcap cap_net_raw+ep) and user.*', { skip }, async t => {
  const root = newRoot()
  const base = t.testdir({})
  const src = join(base, 'src')
  mkdirSync(join(src, 'bin'), { recursive: true })
  writeFileSync(join(src, 'bin/pinger'), '#!/bin/sh\n', { mode: 0o755 })
  writeFileSync(join(src, 'note'), 'x')
  execFileSync('setcap', ['cap_net_raw+ep', join(src, 'bin/pinger')])
  native().lsetxattr(join(src, 'note'), 'user.origin', 'layer-1')
  execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-C', src, '-cf', join(base, 'layer.tar'), 'bin', 'note'])
  const layer = readFileSync(join(base, 'layer.tar'))
  t.ok(layer.includes('SCHILY.xattr.security.capability'), 'GNU tar wrote the capability as a PAX record')
  const [img] = await importImages(ociLayout(join(base, 'l'), [{ names: ['docker.io/library/caps:1'], layers: [layer], cmd: ['sh'] }]), { root })
  const dir = img.layers[0]
  t.match(execFileSync('getcap', [join(dir, 'bin/pinger')], { encoding: 'utf8' }), /bin\/pinger cap_net_raw[=+]ep/)
  t.equal(native().lgetxattr(join(dir, 'note'), 'user.origin'), 'layer-1')
  // Through the overlay a container gets, the capability is still there.
  const mnt = join(base, 'mnt')
  mkdirSync(mnt)
  mkdirSync(join(base, 'empty'))
  const out = execFileSync(
    'unshare',
    [
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount -t overlay overlay -o "lowerdir=$2" "$1" && getcap "$1/bin/pinger"',
      'sh',
      mnt,
      `${dir}:${join(base, 'empty')}`,
    ],
    { encoding: 'utf8' },
  )
  t.match(out, /cap_net_raw[=+]ep/)
})

t.test('a layer may not set trusted.overlay.* xattrs (overlayfs would obey them)', { skip }, async t => {
  const root = newRoot()
  const base = t.testdir({})
  mkdirSync(join(base, 'src/d'), { recursive: true })
  native().lsetxattr(join(base, 'src/d'), 'trusted.overlay.opaque', 'y')
  execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-C', join(base, 'src'), '-cf', join(base, 'layer.tar'), 'd'])
  const warnings: string[] = []
  const [img] = await importImages(
    ociLayout(join(base, 'l'), [{ names: ['docker.io/library/opq:1'], layers: [readFileSync(join(base, 'layer.tar'))], cmd: ['sh'] }]),
    { root, onWarning: m => void warnings.push(m) },
  )
  t.equal(native().lgetxattr(join(img.layers[0], 'd'), 'trusted.overlay.opaque'), null)
  t.match(warnings, [/xattr trusted\.overlay\.opaque is not taken from a layer/])
})

t.test('image rm of an image a live pod uses is refused naming the pod; --force removes the name, gc the layers', { skip }, async t => {
  const root = newRoot()
  await importImages(join(images, 'busybox-oci'), { root })
  const name = uniqueName('imgrm')
  const podFile = join(t.testdir({}), 'pod.json')
  writeFileSync(
    podFile,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '600'] }] },
    }),
  )
  const run = await cli(root, 'run', '-d', '--network', 'none', podFile)
  t.equal(run.code, 0, run.stderr)
  t.teardown(() => cli(root, 'rm', '--force', name))
  const layers = lookupImage(root, 'busybox').layers
  const refused = await cli(root, 'image', 'rm', 'busybox')
  t.equal(refused.code, 1)
  t.match(refused.stderr, new RegExp(`^pod-launch: image\\.remove: busybox: in use by pod ${name}\\nhint: stop and remove the pod first`))
  t.ok(lookupImage(root, 'busybox'), 'the image is still there')
  // By id too (the pod named it busybox).
  t.equal((await cli(root, 'image', 'rm', lookupImage(root, 'busybox').id.slice(7, 19))).code, 1)
  const forced = await cli(root, 'image', 'rm', '--force', 'busybox')
  t.equal(forced.code, 0, forced.stderr)
  t.match(forced.stderr, new RegExp(`^warning: image rm: busybox:latest: still used by ${name}: 2 layers stay until no container uses them`))
  t.same(listImages(root), [])
  for (const l of layers) t.ok(existsSync(l), 'the mounted layers stay while the pod runs')
  const exec = await cli(root, 'exec', name, '-c', 'c', '--', 'cat', '/hello')
  t.equal(exec.stdout, 'hello from layer 2\n', 'the pod still reads its image')
  t.notOk((await cli(root, 'gc', '--json')).stdout.includes('image-layer'), 'gc keeps layers a container has mounted')
  t.equal((await cli(root, 'rm', '--force', name)).code, 0)
  const gc = await cli(root, 'gc', '--json')
  const removed = (JSON.parse(gc.stdout) as { kind: string; target: string }[]).filter(a => a.kind === 'image-layer').map(a => a.target)
  t.same(removed.sort(), [...layers].sort(), 'once the pod is gone gc removes them')
  t.same(readdirSync(join(root, 'images/layers')), [])
})

t.test('leak check: no mount, tmp entry or pod left under any root of this file', { skip }, async t => {
  leakCheck(t)
})
