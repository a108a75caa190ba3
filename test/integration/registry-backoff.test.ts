// A pod whose image the registry does not have yet, as kubelet handles it:
// the containers wait in ErrImagePull, then ImagePullBackOff, the pull is
// retried with the back-off, kubelet's events are recorded, and the pod
// starts once the image is pushed. Detached (run -d returns at once, ps and
// inspect show the reasons) and in the foreground (the terminal says so;
// Ctrl-C gives up with nothing left). Against the real docker-registry.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BIN, cli } from '../helpers/cli.js'
import { uniqueName } from '../helpers/pods.js'
import { startRegistry, type Registry } from '../helpers/registry.js'
import { requires } from '../helpers/requires.js'
import { spawnDaemon } from '../helpers/daemon.js'

const skip = requires('root', 'built')
const script = fileURLToPath(new URL('../../scripts/make-test-images.sh', import.meta.url))

let reg: Registry
let images: string
t.before(async () => {
  if (skip) return
  images = mkdtempSync(join(tmpdir(), 'pl-reg-images-'))
  execFileSync('bash', [script, images], { stdio: 'ignore' })
  reg = await startRegistry()
})
t.teardown(async () => {
  await reg?.stop()
  if (images) rmSync(images, { recursive: true, force: true })
})

/** A state root of its own; every pod left in it is removed at teardown. */
function newRoot(t: { teardown: (fn: () => unknown) => void }): string {
  const root = mkdtempSync(join(tmpdir(), 'pl-backoff-'))
  t.teardown(async () => {
    for (const id of existsSync(root) ? readdirSync(root).filter(d => /^[0-9a-f-]{36}$/.test(d)) : []) await cli(root, 'rm', '--force', id)
    rmSync(root, { recursive: true, force: true })
  })
  return root
}

function podFile(t: { testdir: () => string }, name: string, image: string, command: string[]): string {
  const file = join(t.testdir(), 'pod.json')
  const m = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image, command }] },
  }
  writeFileSync(file, JSON.stringify(m))
  return file
}

interface Inspect {
  status: { phase: string; containerStatuses: { state: { waiting?: { reason: string; message?: string } } }[] }
  podLaunch: { events: { type: string; reason: string; message: string; count: number; fieldPath?: string }[] }
}
const inspect = async (root: string, name: string) => JSON.parse((await cli(root, 'inspect', name)).stdout) as Inspect
const psRow = async (root: string, name: string) =>
  (JSON.parse((await cli(root, 'ps', '--json')).stdout) as { pod: string; phase: string; status: string }[]).find(p => p.pod === name)

/** Poll until `fn` gives a truthy value (the reasons change with the back-off's clock, not on an event we can await). */
async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, 100))
  }
}

t.test('a detached pod waits in ErrImagePull then ImagePullBackOff, with kubelet events, and starts once the image is pushed', { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('late')
  const image = `${reg.host}/late/busybox:1`
  const run = await cli(root, 'run', '-d', '--backoff', '1s', podFile(t, name, image, ['sleep', '600']))
  t.equal(run.code, 0, run.stderr)
  t.match(run.stdout, /^[0-9a-f-]{36}\n$/, 'run -d returns with the pod id')
  t.match(
    run.stderr,
    new RegExp(
      `^pod-launch: pod ${name}: container c: ErrImagePull: registry\\.manifest: ${image}: tag "1": manifest unknown \\(404 Not Found\\)\\nhint: the pod waits`,
    ),
  )

  const first = await inspect(root, name)
  t.equal(first.status.phase, 'Pending')
  // ErrImagePull (run -d said so above), or already ImagePullBackOff when this call took longer than the 1 s resync.
  t.match(first.status.containerStatuses[0].state.waiting?.reason, /^(ErrImagePull|ImagePullBackOff)$/)
  t.match(first.status.containerStatuses[0].state.waiting?.message, /manifest unknown/)
  const backoff = await until('ImagePullBackOff', async () => {
    const r = await psRow(root, name)
    return r?.status === 'ImagePullBackOff' && r
  })
  t.equal(backoff.phase, 'Pending', 'ps: phase Pending, STATUS ImagePullBackOff')
  const waiting = await until('ImagePullBackOff in inspect', async () => {
    const w = (await inspect(root, name)).status.containerStatuses[0].state.waiting
    return w?.reason === 'ImagePullBackOff' && w
  })
  t.match(waiting.message, new RegExp(`^Back-off pulling image "${image}": ErrImagePull: registry\\.manifest: .*manifest unknown`))
  const table = await cli(root, 'ps')
  t.match(table.stdout, new RegExp(`^POD +ID +READY +STATUS +RESTARTS +AGE +IP\\n${name} +[0-9a-f-]{12} +0/1 +(ImagePullBackOff|ErrImagePull) +0 `))

  reg.push(`oci:${images}/busybox-oci:latest`, 'late/busybox:1')
  const running = await until('the pod to run', async () => {
    const r = await psRow(root, name)
    return r?.phase === 'Running' && r
  })
  t.equal(running.status, 'Running')
  const pod = await inspect(root, name)
  t.match(
    pod.status.containerStatuses[0],
    { image, imageID: new RegExp(`^${reg.host.replace(/\./g, '\\.')}/late/busybox@sha256:[0-9a-f]{64}$`), containerID: /^pod-launch:\/\/[0-9a-f]{64}$/ },
    "inspect: kubelet's imageID, the repo digest of the image pulled",
  )
  const events = pod.podLaunch.events
  const said = (reason: string, message: RegExp) => events.find(e => e.reason === reason && message.test(e.message))
  const q = image.replace(/\./g, '\\.')
  t.match(said('Pulling', new RegExp(`^Pulling image "${q}"$`)), { type: 'Normal', fieldPath: 'spec.containers{c}' })
  t.ok(said('Pulling', /./)!.count >= 3, 'each attempt is counted')
  t.match(said('Failed', new RegExp(`^Failed to pull image "${q}": registry\\.manifest: .*manifest unknown \\(404 Not Found\\)$`)), { type: 'Warning' })
  t.ok(said('Failed', /^Error: ErrImagePull$/))
  t.match(said('BackOff', new RegExp(`^Back-off pulling image "${q}"$`)), { type: 'Normal' })
  t.ok(said('Failed', /^Error: ImagePullBackOff$/))
  t.ok(said('Pulled', new RegExp(`^Successfully pulled image "${q}" in [\\d.]+m?s \\([\\d.]+m?s including waiting\\)\\. Image size: \\d+ bytes\\.$`)))
  const rm = await cli(root, 'rm', '--force', name)
  t.equal(rm.code, 0, rm.stderr)
})

t.test('stop ends the wait for an image: the pod is Failed and rm leaves nothing', { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('never')
  // A long back-off: the stop comes while the pod still says ErrImagePull (not yet ImagePullBackOff), however slow the host.
  const run = await cli(root, 'run', '-d', '--backoff', '10s', podFile(t, name, `${reg.host}/never/busybox:1`, ['true']))
  t.equal(run.code, 0, run.stderr)
  const id = run.stdout.trim()
  const stop = await cli(root, 'stop', name)
  t.equal(stop.code, 0, stop.stderr)
  const row = await psRow(root, name)
  t.match(row, { phase: 'Failed', status: 'ErrImagePull' })
  const r = await inspect(root, name)
  t.match(r.status, { phase: 'Failed', message: /^image\.pull: .*: interrupted while waiting to pull/ })
  const rm = await cli(root, 'rm', name)
  t.equal(rm.code, 0, rm.stderr)
  t.notOk(existsSync(join(root, id)), 'no pod directory')
})

t.test('the foreground run says why it waits, pulls again with back-off, and runs once the image is there', { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('fgwait')
  const image = `${reg.host}/fglate/busybox:1`
  const child = spawnDaemon(
    process.execPath,
    [BIN, '--root', root, 'run', '--backoff', '500ms', podFile(t, name, image, ['cat', '/hello'])],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
    'TERM',
  )
  let out = ''
  let err = ''
  child.stdout.on('data', d => (out += d))
  child.stderr.on('data', d => (err += d))
  const exited = new Promise<number | null>(r => child.once('exit', code => r(code)))
  await until('ImagePullBackOff on the terminal', async () => /Back-off pulling image/.test(err))
  const q = image.replace(/\./g, '\\.')
  t.match(
    err,
    new RegExp(
      `^pod-launch: container c: Failed to pull image "${q}": registry\\.manifest: .*manifest unknown \\(404 Not Found\\) \\(ErrImagePull; next attempt in [\\d.]+s, Ctrl-C to give up\\)$`,
      'm',
    ),
  )
  t.match(err, new RegExp(`^pod-launch: container c: Back-off pulling image "${q}" \\(ImagePullBackOff; next attempt in [\\d.]+s\\)$`, 'm'))
  t.match(err, new RegExp(`^pod-launch: container c: Pulling image "${q}"$`, 'm'), 'each new attempt is said')
  reg.push(`oci:${images}/busybox-oci:latest`, 'fglate/busybox:1')
  t.equal(await exited, 0, err)
  t.match(out, /^\[c\] hello from layer 2$/m)
  t.match(err, /Pull complete/)
})

t.test('Ctrl-C while the foreground run waits for an image gives up with nothing left', { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('fgint')
  const child = spawnDaemon(
    process.execPath,
    [BIN, '--root', root, 'run', '--backoff', '1s', podFile(t, name, `${reg.host}/nothere/busybox:1`, ['true'])],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
    'TERM',
  )
  let err = ''
  child.stderr.on('data', d => (err += d))
  const exited = new Promise<number | null>(r => child.once('exit', code => r(code)))
  await until('the first failed pull', async () => /Failed to pull image/.test(err))
  child.kill('SIGINT')
  t.equal(await exited, 130, err)
  t.match(err, /^pod-launch: SIGINT: stopping pod .* while it starts/m)
  t.match(err, /^pod-launch: image\.pull: .*nothere\/busybox:1: interrupted while waiting to pull; nothing was started/m)
  t.same(
    readdirSync(root).filter(d => /^[0-9a-f-]{36}$/.test(d)),
    [],
    'no pod directory',
  )
})
