// Issue 24, item 10: a graceful stop sends the container's stop signal, in
// Kubernetes' (1.33) order: lifecycle.stopSignal, else the image's
// StopSignal (nginx: SIGQUIT), else SIGTERM. The stored plan carries it, so
// every stopper uses it: `stop` of a detached pod, Ctrl-C of a foreground
// run, and `stop` of a pod whose engine died (the next engine adopts the pod
// from its shim and stops it). Each test ends with the
// leak check.
import t from 'tap'
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { requires } from '../helpers/requires.js'
import { uniqueName } from '../helpers/pods.js'
import { enginePid, killAndWait } from '../helpers/detached-pods.js'
import { cliEnv, newRoot, NO_LEAKS, onlyRecord, runForeground, settledLeaks, uniqueParent, waitUntil, writeManifest, type T } from '../helpers/faults.js'

const skip = requires('root', 'built')
const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`

/** busybox (layer 1 of scripts/make-test-images.sh) as `quitter:1`, its config saying StopSignal SIGQUIT, imported into `root`. */
async function importQuitter(t: T, root: string): Promise<void> {
  const work = t.testdir()
  execFileSync('bash', [fileURLToPath(new URL('../../scripts/make-test-images.sh', import.meta.url)), join(work, 'images')], { stdio: 'ignore' })
  const index = JSON.parse(readFileSync(join(work, 'images/busybox-oci/index.json'), 'utf8')) as { manifests: { digest: string }[] }
  const blob = (d: string) => readFileSync(join(work, 'images/busybox-oci/blobs/sha256', d.slice(7)))
  const manifest = JSON.parse(blob(index.manifests[0].digest).toString()) as { layers: { digest: string }[] }
  const layer = blob(manifest.layers[0].digest)
  const dir = join(work, 'quitter')
  mkdirSync(join(dir, 'l'), { recursive: true })
  writeFileSync(join(dir, 'l/layer.tar'), layer)
  const config = JSON.stringify({ os: 'linux', config: { Cmd: ['sh'], StopSignal: 'SIGQUIT' }, rootfs: { type: 'layers', diff_ids: [sha(layer)] } })
  writeFileSync(join(dir, 'c.json'), config)
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: 'c.json', RepoTags: ['quitter:1'], Layers: ['l/layer.tar'] }]))
  const imported = await cliEnv(root, {}, 'image', 'import', dir)
  if (imported.code !== 0) throw new Error(imported.stderr)
}

/** A container that writes the name of the first stop signal it gets to /out/<name>, then exits 0. */
const catcher = (name: string, image: string, extra: object = {}) => ({
  name,
  image,
  command: ['sh', '-c', `for s in TERM QUIT USR1; do trap "echo $s > /out/${name}; exit 0" $s; done; echo ready; while :; do sleep 0.1; done`],
  volumeMounts: [{ name: 'out', mountPath: '/out' }],
  ...extra,
})

function pod(name: string, out: string, containers: object[]) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      os: { name: 'linux' },
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 20,
      volumes: [{ name: 'out', hostPath: { path: out, type: 'Directory' } }],
      containers,
    },
  }
}

/** A root with quitter:1 imported, a cgroup parent and a host directory for the catchers, all of the test's own. */
async function setup(t: T, prefix: string): Promise<{ root: string; parent: string; out: string; name: string }> {
  const root = newRoot(t)
  const parent = uniqueParent(t, prefix)
  await importQuitter(t, root)
  return { root, parent, out: t.testdir(), name: uniqueName(prefix) }
}

const got = (out: string, name: string) => (existsSync(join(out, name)) ? readFileSync(join(out, name), 'utf8').trim() : undefined)

t.test(
  'stop sends the image StopSignal (SIGQUIT); lifecycle.stopSignal (SIGUSR1) wins; no StopSignal: SIGTERM; inspect and explain show them',
  { skip },
  async t => {
    const { root, parent, out, name } = await setup(t, 'stopsig')
    const file = writeManifest(
      t,
      pod(name, out, [catcher('img', 'quitter:1'), catcher('spec', 'quitter:1', { lifecycle: { stopSignal: 'SIGUSR1' } }), catcher('plain', 'host')]),
    )
    const explain = await cliEnv(root, {}, 'explain', file)
    t.equal(explain.code, 0, explain.stderr)
    t.match(explain.stdout, /stop: +SIGQUIT \(the image's StopSignal\), SIGKILL 20 s later/)
    t.match(explain.stdout, /stop: +SIGUSR1 \(lifecycle\.stopSignal\)/)
    t.match(explain.stdout, /stop: +SIGTERM \(the default\)/)

    const started = await cliEnv(root, {}, 'run', '-d', '--cgroup-parent', parent, file)
    t.equal(started.code, 0, started.stderr)
    t.ok(await waitUntil(async () => (await cliEnv(root, {}, 'logs', name, '-c', 'plain')).stdout.includes('ready')), 'running')
    const running = JSON.parse((await cliEnv(root, {}, 'inspect', name)).stdout) as { status: { containerStatuses: { name: string; stopSignal: string }[] } }
    t.same(
      running.status.containerStatuses.map(s => [s.name, s.stopSignal]),
      [
        ['img', 'SIGQUIT'],
        ['spec', 'SIGUSR1'],
        ['plain', 'SIGTERM'],
      ],
      'status.containerStatuses[].stopSignal, as Kubernetes 1.33 reports it',
    )
    const stop = await cliEnv(root, {}, 'stop', name)
    t.equal(stop.code, 0, stop.stderr)
    t.same([got(out, 'img'), got(out, 'spec'), got(out, 'plain')], ['QUIT', 'USR1', 'TERM'])
    const ended = JSON.parse((await cliEnv(root, {}, 'inspect', name)).stdout) as {
      status: { containerStatuses: { state: { terminated?: { exitCode: number } } }[] }
    }
    t.same(
      ended.status.containerStatuses.map(s => s.state.terminated?.exitCode),
      [0, 0, 0],
      'each exited from its trap: none waited for the SIGKILL',
    )
    t.equal((await cliEnv(root, {}, 'rm', name)).code, 0)
    t.same(await settledLeaks(root, parent), NO_LEAKS, 'nothing left')
  },
)

t.test("Ctrl-C of a foreground run sends the image's StopSignal", { skip }, async t => {
  const { root, parent, out, name } = await setup(t, 'stopsigfg')
  const file = writeManifest(t, pod(name, out, [catcher('img', 'quitter:1')]))
  const fg = runForeground(root, ['--cgroup-parent', parent, file])
  t.teardown(() => fg.child.kill('SIGKILL'))
  t.ok(await waitUntil(() => onlyRecord(root)?.phase === 'Running'), 'running')
  // The container may not have set its traps the moment the record says Running: wait for its line in the log.
  const id = onlyRecord(root)!.id
  t.ok(await waitUntil(() => existsSync(join(root, id, 'logs/img/0.log')) && readFileSync(join(root, id, 'logs/img/0.log'), 'utf8').includes('ready')))
  fg.child.kill('SIGINT')
  const end = await fg.exited
  t.equal(end.code, 0, end.stderr)
  t.equal(got(out, 'img'), 'QUIT')
  t.same(await settledLeaks(root, parent), NO_LEAKS, 'nothing left')
})

t.test('stop of a pod whose engine died (SIGKILL) sends each container its stop signal from the stored plan, then cleans up', { skip }, async t => {
  const { root, parent, out, name } = await setup(t, 'stopsigorphan')
  const file = writeManifest(t, pod(name, out, [catcher('img', 'quitter:1'), catcher('spec', 'quitter:1', { lifecycle: { stopSignal: 'SIGUSR1' } })]))
  const started = await cliEnv(root, {}, 'run', '-d', '--cgroup-parent', parent, file)
  t.equal(started.code, 0, started.stderr)
  t.ok(await waitUntil(async () => (await cliEnv(root, {}, 'logs', name, '-c', 'spec')).stdout.includes('ready')), 'running')
  t.ok(await waitUntil(async () => (await cliEnv(root, {}, 'logs', name, '-c', 'img')).stdout.includes('ready')), 'running')
  // The pod runs on under its shim; `stop` starts the next engine, which adopts the pod and stops it.
  await killAndWait(enginePid(root)!)
  const stop = await cliEnv(root, {}, 'stop', name)
  t.equal(stop.code, 0, stop.stderr)
  t.same([got(out, 'img'), got(out, 'spec')], ['QUIT', 'USR1'])
  t.equal((await cliEnv(root, {}, 'rm', name)).code, 0)
  t.same(await settledLeaks(root, parent), NO_LEAKS, 'nothing left')
})

t.test('lifecycle.stopSignal is validated as the API server does', { skip }, async t => {
  const root = newRoot(t)
  const out = t.testdir()
  const bad = (m: object) => writeManifest(t, m, `${uniqueName('bad')}.json`)
  const withSignal = (signal: string, os?: object) => {
    const m = pod(uniqueName('badsig'), out, [catcher('c', 'host', { lifecycle: { stopSignal: signal } })])
    if (os) m.spec.os = os as never
    else delete (m.spec as { os?: unknown }).os
    return bad(m)
  }
  const noOs = await cliEnv(root, {}, 'explain', withSignal('SIGQUIT'))
  t.equal(noOs.code, 2)
  t.match(noOs.stderr, 'spec.containers[0].lifecycle.stopSignal: may not be set for containers with empty `spec.os.name`')
  const unknown = await cliEnv(root, {}, 'explain', withSignal('SIGQIUT', { name: 'linux' }))
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, 'spec.containers[0].lifecycle.stopSignal: unsupported value "SIGQIUT" (did you mean "SIGQUIT"?)')
  const windows = await cliEnv(root, {}, 'explain', withSignal('SIGTERM', { name: 'windows' }))
  t.equal(windows.code, 2)
  t.match(windows.stderr, 'spec.os.name: "windows": this host runs Linux pods')
  const rt = await cliEnv(root, {}, 'explain', withSignal('SIGRTMIN+3', { name: 'linux' }))
  t.equal(rt.code, 0, rt.stderr)
  t.match(rt.stdout, /stop: +SIGRTMIN\+3 \(lifecycle\.stopSignal\)/)
})
