// `pod-launch image ...` without root: listing, usage errors, a missing image.
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { main } from '../../../src/cli/main.js'

function io() {
  const out: string[] = []
  const err: string[] = []
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out: () => out.join(''), err: () => err.join('') }
}

function storeWithBusybox(root: string): void {
  mkdirSync(join(root, 'images', 'images'), { recursive: true })
  const id = 'sha256:' + 'a'.repeat(64)
  writeFileSync(
    join(root, 'images', 'images', `${'a'.repeat(64)}.json`),
    JSON.stringify({
      id,
      names: ['docker.io/library/busybox:latest'],
      diffIds: ['sha256:' + '1'.repeat(64)],
      config: {},
      size: 2_000_000,
      created: '2026-01-01T00:00:00Z',
    }),
  )
}

t.test('image ls prints a table of the store, and --json the records', async t => {
  const root = t.testdir()
  storeWithBusybox(root)
  const c = io()
  t.equal(await main(['image', 'ls', '--root', root], c.io), 0)
  t.match(c.out(), /^REPOSITORY  TAG     IMAGE ID      CREATED        SIZE\nbusybox     latest  aaaaaaaaaaaa  \d+ \w+s? ago  2MB\n$/)
  const j = io()
  t.equal(await main(['image', 'ls', '--json', '--root', root], j.io), 0)
  const [img] = JSON.parse(j.out())
  t.same(img.layers, [join(root, 'images', 'layers', '1'.repeat(64))])
  t.equal(img.id, 'sha256:' + 'a'.repeat(64), 'the full id')
  t.same(img.repoTags, ['docker.io/library/busybox:latest'])
})

t.test('image ls -o yaml|name|wide: the records, the names, the table with digest, layers and full id', async t => {
  const root = t.testdir()
  storeWithBusybox(root)
  const ls = async (format: string) => {
    const c = io()
    t.equal(await main(['image', 'ls', '-o', format, '--root', root], c.io), 0, format)
    t.equal(c.err(), '')
    return c.out()
  }
  t.match(parseYaml(await ls('yaml')), [{ id: 'sha256:' + 'a'.repeat(64), repoTags: ['docker.io/library/busybox:latest'], repoDigests: [] }])
  const j = io()
  t.equal(await main(['image', 'ls', '--json', '--root', root], j.io), 0)
  t.equal(await ls('json'), j.out(), '-o json is --json')
  t.equal(await ls('name'), 'docker.io/library/busybox:latest\n')
  t.match(
    await ls('wide'),
    new RegExp(
      `^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE +DIGEST +LAYERS +FULL ID\\nbusybox +latest +aaaaaaaaaaaa +.* +2MB +<none> +1 +sha256:${'a'.repeat(64)}\\n$`,
    ),
  )
})

t.test('image rm of a missing image exits 1 naming what there is and how to import', async t => {
  const root = t.testdir()
  storeWithBusybox(root)
  const c = io()
  t.equal(await main(['image', 'rm', 'alpine', '--root', root], c.io), 1)
  t.match(
    c.err(),
    /^pod-launch: image\.resolve: alpine: no such image in the local store \(.*\); available: busybox:latest \(sha256:aaaaaaaaaaaa\)\nhint: pull it: pod-launch image pull alpine; or import an archive made elsewhere: docker save alpine -o img\.tar \(or skopeo copy docker:\/\/alpine docker-archive:img\.tar:alpine\), then pod-launch image import img\.tar\n$/,
  )
})

t.test('image import without a file, or an unknown action, is a usage error (exit 2)', async t => {
  for (const argv of [
    ['image', 'import'],
    ['image', 'frob', 'x'],
    ['image', 'pull'],
    ['image', 'login', 'h'],
  ]) {
    const c = io()
    t.equal(await main([...argv, '--root', t.testdir()], c.io), 2, argv.join(' '))
    t.match(c.err(), /hint: pod-launch image --help/)
  }
})
