// Pulling from a real registry (Debian's docker-registry, distribution 2.8,
// plain HTTP on 127.0.0.1), filled by skopeo from scripts/make-test-images.sh:
// by tag and by digest, an OCI index with two platforms, Docker schema2 and a
// Docker manifest list, an uncompressed + zstd image; plain HTTP refused for
// a registry that is not loopback unless it is marked insecure; layers in the store are not fetched again; a pod
// whose image is only in the registry is pulled on run (IfNotPresent, Never, and Always for :latest).
import t from 'tap'
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { listImages } from '../../src/index.js'
import { BIN, cli } from '../helpers/cli.js'
import { run, terminated, uniqueName } from '../helpers/pods.js'
import { startRegistry, type Registry } from '../helpers/registry.js'
import { requires } from '../helpers/requires.js'

const skip = requires('root', 'built')
const script = fileURLToPath(new URL('../../scripts/make-test-images.sh', import.meta.url))
const other = process.arch === 'x64' ? 'arm64' : 'amd64'

let reg: Registry
let images: string
t.before(async () => {
  if (skip) return
  images = mkdtempSync(join(tmpdir(), 'pl-reg-images-'))
  execFileSync('bash', [script, images], { stdio: 'ignore' })
  reg = await startRegistry()
  reg.push(`oci:${images}/busybox-oci:latest`, 'test/busybox:1')
  reg.push(`oci:${images}/busybox-oci:latest`, 'test/busybox:latest')
  reg.push(`oci:${images}/busybox-oci:latest`, 'test/docker:1', ['--format', 'v2s2'])
  reg.push(`oci:${images}/busybox-zstd:zstd`, 'test/zstd:1', ['--preserve-digests'])
  reg.push(`oci:${images}/busybox-multi:multi`, 'test/multi:1', ['--all'])
  // skopeo converts the OCI index into a Docker manifest list (and each manifest into schema2).
  reg.push(`oci:${images}/busybox-multi:multi`, 'test/list:1', ['--all', '--format', 'v2s2'])
})
t.teardown(async () => {
  await reg?.stop()
  if (images) rmSync(images, { recursive: true, force: true })
})
const store = (t: { teardown: (fn: () => void) => void }) => {
  const root = mkdtempSync(join(tmpdir(), 'pl-pull-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  return root
}

t.test('image pull by tag stores the image; a second image sharing its layers downloads none', { skip }, async t => {
  const root = store(t)
  const a = await cli(root, 'image', 'pull', `${reg.host}/test/busybox:1`)
  t.equal(a.code, 0, a.stderr)
  t.equal(a.stdout, `${reg.host}/test/busybox:1\n`)
  t.match(a.stderr, /Pull complete/, 'a line per finished layer when not a TTY')
  t.match(a.stderr, /^Digest: sha256:[0-9a-f]{64}$/m)
  const b = await cli(root, 'image', 'pull', `${reg.host}/test/docker:1`)
  t.equal(b.code, 0, b.stderr)
  t.equal((b.stderr.match(/Already exists/g) ?? []).length, 2, 'Docker schema2 of the same layers: nothing downloaded')
  t.match(b.stderr, /downloaded 0\.0 MB/)
  const all = listImages(root)
  t.equal(all.length, 1, 'one image id, two names')
  t.ok(all[0].names.includes(`${reg.host}/test/busybox:1`) && all[0].names.includes(`${reg.host}/test/docker:1`))
  t.same(readdirSync(join(root, 'images', 'tmp')), [], 'nothing left in tmp/')
})

/** `pod-launch ARGS` on a real pty (script(1)): what the terminal received. */
function onTty(root: string, args: string[]): { code: number; out: string } {
  const cmd = [process.execPath, BIN, '--root', root, ...args].join(' ')
  try {
    return { code: 0, out: execFileSync('script', ['-qfec', cmd, '/dev/null'], { encoding: 'utf8' }) }
  } catch (e) {
    const err = e as { status: number; stdout: string }
    return { code: err.status, out: err.stdout }
  }
}

t.test('on a TTY, image pull and run draw one live line per layer (redrawn in place) and a summary', { skip }, async t => {
  const root = store(t)
  const pull = onTty(root, ['image', 'pull', `${reg.host}/test/busybox:1`])
  t.equal(pull.code, 0, pull.out)
  t.match(pull.out, `pulling ${reg.host}/test/busybox:1 (sha256:`)
  t.match(pull.out, /\x1b\[2A\x1b\[2K[0-9a-f]{12}: Pull complete {2}[\d.]+ MB\r?\n\x1b\[2K[0-9a-f]{12}: Pull complete/, 'both layer lines rewritten in place')
  t.notMatch(pull.out, /in [\d.]+ s\r?\n/, 'no per-layer log lines (the non-TTY form)')
  t.match(pull.out, /Status: downloaded [\d.]+ MB in [\d.]+ s, unpacked in [\d.]+ s for /)
  const fresh = store(t)
  const pod = join(fresh, 'pod.json')
  writeFileSync(
    pod,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: uniqueName('ttypull') },
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'c', image: `${reg.host}/test/busybox:1`, command: ['cat', '/hello'] }],
      },
    }),
  )
  const run = onTty(fresh, ['run', pod])
  t.equal(run.code, 0, run.out)
  t.match(run.out, /\x1b\[2A\x1b\[2K[0-9a-f]{12}: Pull complete/, 'run draws the same live lines')
  t.match(run.out, /\[c\] hello from layer 2/)
})

t.test('image pull NAME@sha256 pulls by digest and verifies it; --quiet prints only the reference', { skip }, async t => {
  const root = store(t)
  const digest = execFileSync('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${reg.host}/test/busybox:1`], {
    encoding: 'utf8',
  }).trim()
  const r = await cli(root, 'image', 'pull', '--quiet', `${reg.host}/test/busybox@${digest}`)
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stderr, '')
  t.equal(r.stdout, `${reg.host}/test/busybox@${digest}\n`)
  t.ok(listImages(root)[0].names.includes(`${reg.host}/test/busybox@${digest}`))
})

t.test("an index gives this host's platform, or the one --platform names; none fitting is an error", { skip }, async t => {
  const root = store(t)
  const mine = await cli(root, 'image', 'pull', '-q', `${reg.host}/test/multi:1`)
  t.equal(mine.code, 0, mine.stderr)
  const theirs = await cli(root, 'image', 'pull', '-q', '--platform', `linux/${other}`, `${reg.host}/test/multi:1`)
  t.equal(theirs.code, 0, theirs.stderr)
  const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim()
  const bad = await cli(root, 'image', 'pull', '--platform', 'linux/s390x', `${reg.host}/test/multi:1`)
  t.equal(bad.code, 1)
  t.match(
    bad.stderr,
    new RegExp(`^pod-launch: image\\.platform: ${reg.host}/test/multi:1: no image for linux/s390x in its index \\(it has linux/${arch}, linux/${other}\\)\\n`),
  )
  const all = listImages(root)
  t.equal(all.length, 2, 'two platform images (two config ids)')
  t.equal(all.filter(i => i.names.includes(`${reg.host}/test/multi:1`)).length, 1, 'the tag moved to the last one pulled')
})

t.test("a Docker manifest list (schema2 list) gives this host's platform, or the one --platform names", { skip }, async t => {
  const res = await fetch(`http://${reg.host}/v2/test/list/manifests/1`, {
    headers: { accept: 'application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json' },
  })
  t.equal(res.headers.get('content-type'), 'application/vnd.docker.distribution.manifest.list.v2+json', 'the registry serves a Docker manifest list')
  const list = (await res.json()) as { manifests: { mediaType: string; platform: { architecture: string } }[] }
  t.same(
    list.manifests.map(m => m.mediaType),
    ['application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.v2+json'],
  )
  const root = store(t)
  const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim()
  const mine = await cli(root, 'image', 'pull', `${reg.host}/test/list:1`)
  t.equal(mine.code, 0, mine.stderr)
  t.equal(listImages(root)[0].architecture, arch)
  const theirs = await cli(root, 'image', 'pull', '-q', '--platform', `linux/${other}`, `${reg.host}/test/list:1`)
  t.equal(theirs.code, 0, theirs.stderr)
  const byArch = listImages(root).map(i => i.architecture)
  t.same(byArch.sort(), [arch, other].sort(), 'both platforms of the list pulled')
})

t.test('a registry that is not loopback is not spoken to in plain HTTP unless it is marked insecure', { skip }, async t => {
  // registry.test names the test registry (127.0.0.1) in a private /etc/hosts: not a loopback NAME, so HTTPS only.
  const root = store(t)
  writeFileSync(join(root, 'hosts'), '127.0.0.1 registry.test\n')
  const name = `registry.test:${reg.port}/test/busybox:1`
  const pull = (registries: string) =>
    new Promise<{ code: number; stderr: string }>(resolve =>
      execFile(
        'unshare',
        ['-m', 'sh', '-c', `mount --bind ${join(root, 'hosts')} /etc/hosts && exec ${process.execPath} ${BIN} --root ${root} image pull -q ${name}`],
        { env: { ...process.env, POD_LAUNCH_REGISTRIES: registries } },
        (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      ),
    )
  const refused = await pull(join(root, 'none.json'))
  t.equal(refused.code, 1)
  t.same(refused.stderr.split('\n').slice(0, 2), [
    `pod-launch: registry.ping: ${name}: registry.test:${reg.port} does not speak HTTPS (TLS handshake: wrong version number), and plain HTTP is used only for loopback registries and those marked insecure`,
    `hint: if you trust the network to it, list "registry.test:${reg.port}" under "insecure" in ${join(root, 'none.json')} (docs/images.md)`,
  ])
  t.same(listImages(root), [], 'nothing stored')
  writeFileSync(join(root, 'registries.json'), JSON.stringify({ insecure: [`registry.test:${reg.port}`] }))
  const allowed = await pull(join(root, 'registries.json'))
  t.equal(allowed.code, 0, allowed.stderr)
  t.same(
    listImages(root).flatMap(i => i.names),
    [name, `registry.test:${reg.port}/test/busybox@${listImages(root)[0].manifestDigest}`],
  )
})

t.test('an uncompressed and a zstd layer unpack into the same layers as the gzip image', { skip }, async t => {
  const root = store(t)
  const z = await cli(root, 'image', 'pull', `${reg.host}/test/zstd:1`)
  t.equal(z.code, 0, z.stderr)
  const g = await cli(root, 'image', 'pull', `${reg.host}/test/busybox:1`)
  t.equal((g.stderr.match(/Already exists/g) ?? []).length, 2, 'the diff_ids match: the zstd layer unpacked to the same tar')
  t.equal(listImages(root).length, 1)
})

t.test("a pull is held to the store's size limits: a layer past --max-layer-size is refused and nothing is stored", { skip }, async t => {
  const root = store(t)
  const r = await cli(root, 'image', 'pull', '--max-layer-size', '100KiB', `${reg.host}/test/busybox:1`)
  t.equal(r.code, 1)
  const lines = r.stderr.split('\n').filter(l => /^(pod-launch|hint): /.test(l))
  t.match(
    lines[0],
    new RegExp(`^pod-launch: image\\.unpack: ${reg.host}/test/busybox:1: layer sha256:[0-9a-f]{64}: expands past the layer size limit of 100\\.0 KiB$`),
  )
  t.match(lines[1], /^hint: nothing was stored; if the image is genuine, raise the limit \(--max-layer-size or POD_LAUNCH_MAX_LAYER_SIZE=SIZE\)$/)
  t.same(listImages(root), [])
  t.same(readdirSync(join(root, 'images', 'layers')), [], 'no layer')
  t.same(readdirSync(join(root, 'images', 'tmp')), [], 'nothing left in tmp/')
  const ok = await cli(root, 'image', 'pull', '-q', '--max-image-size', '64MiB', `${reg.host}/test/busybox:1`)
  t.equal(ok.code, 0, ok.stderr)
})

t.test('a pod whose image is only in the registry is pulled on run and runs', { skip }, async t => {
  const root = store(t)
  const events: string[] = []
  const m = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: uniqueName('pullrun') },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 2,
      containers: [{ name: 'c', image: `${reg.host}/test/busybox:1`, command: ['cat', '/hello'] }],
    },
  }
  const { lines, result } = await run(t, m, { stateRoot: root, onPull: e => events.push(e.type) })
  t.equal(terminated(result, 'c')?.exitCode, 0)
  t.same(lines('c'), ['hello from layer 2'])
  t.equal(events[0], 'resolved')
  t.equal(events.at(-1), 'done')
  // IfNotPresent (a tag other than latest): the second run pulls nothing.
  const again: string[] = []
  await run(t, { ...m, metadata: { name: uniqueName('pullrun') } }, { stateRoot: root, onPull: e => again.push(e.type) })
  t.same(again, [])
  // Never with an image the store lacks: ErrImageNeverPull, nothing pulled.
  const never = {
    ...m,
    metadata: { name: uniqueName('pullrun') },
    spec: { ...m.spec, containers: [{ ...m.spec.containers[0], image: `${reg.host}/test/busybox:latest`, imagePullPolicy: 'Never' }] },
  }
  await t.rejects(run(t, never, { stateRoot: root }), { code: 'ErrImageNeverPull' })
  // Always (:latest and no imagePullPolicy): every run asks the registry again, the image in the store or not.
  for (const k of [1, 2]) {
    const seen: string[] = []
    const c = { ...m.spec.containers[0], image: `${reg.host}/test/busybox:latest` }
    await run(t, { ...m, metadata: { name: uniqueName('pullrun') }, spec: { ...m.spec, containers: [c] } }, { stateRoot: root, onPull: e => seen.push(e.type) })
    t.same([seen[0], seen.at(-1)], ['resolved', 'done'], `run ${k} of :latest pulls (Always)`)
  }
})

t.test('an unknown tag and a port nobody listens on fail in one line naming the image and the step', { skip }, async t => {
  const root = store(t)
  const a = await cli(root, 'image', 'pull', `${reg.host}/test/busybox:nope`)
  t.equal(a.code, 1)
  t.equal(a.stderr.split('\n')[0], `pod-launch: registry.manifest: ${reg.host}/test/busybox:nope: tag "nope": manifest unknown (404 Not Found)`)
  const b = await cli(root, 'image', 'pull', '127.0.0.1:1/test/busybox:1')
  t.equal(b.code, 1)
  t.match(b.stderr, /^pod-launch: registry\.ping: 127\.0\.0\.1:1\/test\/busybox:1: 127\.0\.0\.1:1: .*\(ECONNREFUSED\)\nhint: nothing listens there/)
  const c = await cli(root, 'image', 'pull', 'registry.invalid/x:1')
  t.match(c.stderr, /^pod-launch: registry\.ping: registry\.invalid\/x:1: .*\((ENOTFOUND|EAI_AGAIN)\)/)
  t.same(listImages(root), [])
})
