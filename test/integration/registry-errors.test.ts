// What goes wrong in a pull, against the real registry with a fixture proxy
// in front (test/fixtures/registry-proxy.mjs) for what a registry cannot be
// made to do: each failure is one line naming the image and the step, exit
// 1, and nothing reaches the store. Also: a blob CDN on another host gets no
// Authorization; Ctrl-C mid-pull exits 130 leaving nothing, SIGKILL leaves no
// image and a work dir that gc removes, and the next pull works; two pulls of
// one image at once download its layers once; a full disk.
import t from 'tap'
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { get } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { listImages } from '../../src/index.js'
import { BIN, cli } from '../helpers/cli.js'
import { freePort, PASSWORD, startRegistry, USER, type Registry } from '../helpers/registry.js'
import { requires } from '../helpers/requires.js'
import { spawnDaemon } from '../helpers/daemon.js'

const skip = requires('root', 'built')
const script = fileURLToPath(new URL('../../scripts/make-test-images.sh', import.meta.url))
const PROXY = fileURLToPath(new URL('../fixtures/registry-proxy.mjs', import.meta.url))

let reg: Registry
let proxy: ChildProcess
let host: string
let images: string
t.before(async () => {
  if (skip) return
  images = mkdtempSync(join(tmpdir(), 'pl-reg-images-'))
  execFileSync('bash', [script, images], { stdio: 'ignore' })
  reg = await startRegistry({ auth: 'token' })
  for (const mode of ['corrupt', 'truncate', 'loop', 'schema1', 'huge', 'cdn', 'slow', 'public'])
    reg.push(`oci:${images}/busybox-oci:latest`, `${mode}/busybox:1`)
  const port = await freePort()
  proxy = spawnDaemon(process.execPath, [PROXY, String(port), String(reg.port)], { stdio: 'ignore' })
  host = `127.0.0.1:${port}`
  for (;;) {
    const up = await new Promise(r => get(`http://${host}/__stats`, res => (res.resume(), r(true))).on('error', () => r(false)))
    if (up) break
    await new Promise(r => setTimeout(r, 50))
  }
})
t.teardown(async () => {
  if (proxy && proxy.exitCode === null) {
    const gone = new Promise(r => proxy.once('exit', r))
    proxy.kill('SIGKILL')
    await gone
  }
  await reg?.stop()
  if (images) rmSync(images, { recursive: true, force: true })
})

/** A fresh store, and an auth file with the test user for the proxy's host. */
function store(t: { teardown: (fn: () => void) => void }) {
  const root = mkdtempSync(join(tmpdir(), 'pl-pullerr-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  writeFileSync(join(root, 'auth.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } }))
  process.env.REGISTRY_AUTH_FILE = join(root, 'auth.json')
  return root
}
const stats = () =>
  new Promise<{ blobGets: Record<string, number>; pings: number; cdnAuth: (string | null)[] }>(r =>
    get(`http://${host}/__stats`, res => {
      let b = ''
      res.on('data', d => (b += d))
      res.on('end', () => r(JSON.parse(b)))
    }),
  )
/** What a pull left: images, layers, and tmp/ entries. */
const ls = (dir: string) => (existsSync(dir) ? readdirSync(dir) : [])
const left = (root: string) => ({
  images: listImages(root),
  layers: ls(join(root, 'images', 'layers')),
  tmp: ls(join(root, 'images', 'tmp')),
})
const NOTHING = { images: [], layers: [], tmp: [] }

for (const [mode, line] of [
  ['corrupt', /^pod-launch: image\.verify: 127\.0\.0\.1:\d+\/corrupt\/busybox:1: blob sha256:[0-9a-f]{64}: its content hashes to sha256:[0-9a-f]{64}$/],
  [
    'truncate',
    /^pod-launch: image\.verify: 127\.0\.0\.1:\d+\/truncate\/busybox:1: (blob|image config) sha256:[0-9a-f]{64}: truncated: the connection ended after \d+/,
  ],
  ['loop', /^pod-launch: registry\.blob: 127\.0\.0\.1:\d+\/loop\/busybox:1: more than 5 redirects/],
  ['schema1', /^pod-launch: registry\.manifest: 127\.0\.0\.1:\d+\/schema1\/busybox:1: Docker image manifest schema 1 is not supported/],
  ['huge', /^pod-launch: registry\.manifest: 127\.0\.0\.1:\d+\/huge\/busybox:1: the manifest is larger than 4194304 bytes$/],
] as const) {
  t.test(`a ${mode} pull fails in one line and stores nothing`, { skip }, async t => {
    const root = store(t)
    const r = await cli(root, 'image', 'pull', `${host}/${mode}/busybox:1`)
    t.equal(r.code, 1)
    t.match(r.stderr.split('\n')[0], line)
    t.match(r.stderr.split('\n')[1], /^hint: /)
    t.same(left(root), NOTHING, 'nothing stored')
  })
}

t.test('a blob redirected to another host is fetched there without the Authorization header', { skip }, async t => {
  const root = store(t)
  const r = await cli(root, 'image', 'pull', '-q', `${host}/cdn/busybox:1`)
  t.equal(r.code, 0, r.stderr)
  const s = await stats()
  t.ok(s.cdnAuth.length >= 2, 'the layers came from the other host')
  t.same(
    s.cdnAuth.filter(a => a !== null),
    [],
    'no Authorization sent there',
  )
})

t.test("token auth without a /v2/ ping: the manifest's 401 carries the challenge, for anonymous pulls and with credentials", { skip }, async t => {
  for (const who of ['anonymous', 'credentials']) {
    const root = store(t)
    if (who === 'anonymous') writeFileSync(join(root, 'auth.json'), JSON.stringify({ auths: {} }))
    const before = (await stats()).pings
    const r = await cli(root, 'image', 'pull', '-q', `${host}/public/busybox:1`)
    t.equal(r.code, 0, `${who}: ${r.stderr}`)
    t.equal(listImages(root).length, 1, `${who}: stored`)
    t.equal((await stats()).pings, before, `${who}: no GET /v2/`)
  }
})

for (const sig of ['SIGKILL', 'SIGINT'] as const) {
  const what = sig === 'SIGKILL' ? 'SIGKILL mid-pull leaves no image and a work dir gc removes' : 'Ctrl-C mid-pull exits 130 leaving nothing'
  t.test(`${what}; the next pull restarts cleanly`, { skip }, async t => {
    const root = store(t)
    const child = spawn(process.execPath, [BIN, '--root', root, 'image', 'pull', `${host}/slow/busybox:1`], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: process.env,
    })
    // The first layer line means downloads have started.
    await new Promise<void>(resolve => {
      let seen = ''
      child.stderr.on('data', d => {
        seen += d
        if (/^pulling /m.test(seen)) resolve()
      })
    })
    await new Promise(r => setTimeout(r, 300))
    const gone = new Promise<[number | null, string | null]>(r => child.once('exit', (code, signal) => r([code, signal])))
    child.kill(sig)
    const [code, signal] = await gone
    if (sig === 'SIGINT') t.equal(code, 130, 'Ctrl-C: exit 130')
    else t.equal(signal, 'SIGKILL')
    t.same(listImages(root), [], `no image after ${sig}`)
    t.same(readdirSync(join(root, 'images', 'layers')), [], `no layer after ${sig}`)
    if (sig === 'SIGKILL') {
      t.equal(ls(join(root, 'images', 'tmp')).length, 1, "the killed pull's work dir is left")
      const gc = await cli(root, 'gc')
      t.equal(gc.code, 0, gc.stderr)
      t.match(gc.stdout, /image-tmp\s+\S+pull-\d+-\d+-\S+\s+removed\s+an interrupted pull \(its process ended\)/)
    }
    t.same(ls(join(root, 'images', 'tmp')), [], 'no work dir is left')
    const again = await cli(root, 'image', 'pull', '-q', `${host}/slow/busybox:1`)
    t.equal(again.code, 0, again.stderr)
    t.equal(listImages(root).length, 1)
    t.same(ls(join(root, 'images', 'tmp')), [], 'the second pull leaves no work dir')
  })
}

t.test('two pulls of one image at once download each layer once', { skip }, async t => {
  const root = store(t)
  const before = await stats()
  const [a, b] = await Promise.all([cli(root, 'image', 'pull', '-q', `${host}/public/busybox:1`), cli(root, 'image', 'pull', '-q', `${host}/public/busybox:1`)])
  t.equal(a.code, 0, a.stderr)
  t.equal(b.code, 0, b.stderr)
  const after = await stats()
  const layerGets = Object.entries(after.blobGets)
    .filter(([k]) => k.includes('/public/'))
    .map(([k, n]) => n - (before.blobGets[k] ?? 0))
  // 1 config (fetched by each pull) + 2 layers (fetched once).
  t.same(layerGets.sort(), [1, 1, 2])
  t.equal(listImages(root).length, 1)
})

t.test('a full disk during the pull fails with ENOSPC and stores nothing', { skip }, async t => {
  const root = mkdtempSync(join(tmpdir(), 'pl-pullfull-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'pl-test-full', root])
  t.teardown(() => {
    execFileSync('umount', [root])
    rmSync(root, { recursive: true, force: true })
  })
  mkdirSync(join(root, 'cfg'))
  writeFileSync(join(root, 'cfg', 'auth.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } }))
  process.env.REGISTRY_AUTH_FILE = join(root, 'cfg', 'auth.json')
  const r = await cli(root, 'image', 'pull', `${host}/public/busybox:1`)
  t.equal(r.code, 1)
  const lines = r.stderr.split('\n')
  const at = lines.findIndex(l => l.startsWith('pod-launch: '))
  t.match(
    lines[at],
    new RegExp(
      `^pod-launch: image\\.(pull|unpack): ${host.replace(/\./g, '\\.')}/public/busybox:1: layer sha256:[0-9a-f]{64}: (the store's filesystem is nearly full|no space left on the store's filesystem)`,
    ),
  )
  t.match(lines[at + 1], /^hint: nothing was stored; free space/)
  t.same(left(root), NOTHING, 'nothing stored')
})

t.test('a name whose DNS server never answers fails within --timeout, in one line naming the image and the step', { skip }, async t => {
  const root = store(t)
  // A DNS server that swallows every query, made the resolver of the pull alone (a private mount of /etc/resolv.conf).
  const dns = createSocket('udp4')
  let queries = 0
  dns.on('message', () => void queries++)
  await new Promise<void>(r => dns.bind(53, '127.77.0.53', r))
  t.teardown(() => dns.close())
  const resolv = join(root, 'resolv.conf')
  writeFileSync(resolv, 'nameserver 127.77.0.53\noptions timeout:5 attempts:1\n')
  const cmd = `mount --bind ${resolv} /etc/resolv.conf && exec ${process.execPath} ${BIN} --root ${root} image pull --timeout 1s registry.invalid/x:1`
  const r = await new Promise<{ code: number | null; stderr: string }>(resolve =>
    execFile('unshare', ['-m', 'sh', '-c', cmd], (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr })),
  )
  t.equal(r.code, 1)
  t.same(r.stderr.split('\n').slice(0, 2), [
    'pod-launch: registry.ping: registry.invalid/x:1: registry.invalid: did not resolve within 1 s (EAI_AGAIN)',
    'hint: the registry host name does not resolve (DNS is unreachable): check the network',
  ])
  t.ok(queries > 0, "the lookup asked the test's DNS server")
  t.same(left(root), NOTHING, 'nothing stored')
})
