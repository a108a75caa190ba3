import t from 'tap'
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, existsSync, rmdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requires } from '../helpers/requires.js'
import { BIN, cli } from '../helpers/cli.js'
import { manifest, uniqueName } from '../helpers/pods.js'
import { bootTicks, processesInNamespace } from '../helpers/procs.js'
import { enginePid, killAndWait } from '../helpers/detached-pods.js'
import { spawnDaemon } from '../helpers/daemon.js'

const skip = requires('root', 'built')

/** A state root of its own per test; every pod left in it is removed at teardown. */
function newRoot(t: { teardown: (fn: () => unknown) => void; testdir: () => string }): string {
  const root = mkdtempSync(join(tmpdir(), 'pl-state-'))
  t.teardown(async () => {
    for (const id of existsSync(root) ? readdirSync(root).filter(d => /^[0-9a-f-]{36}$/.test(d)) : []) await cli(root, 'rm', '--force', id)
    rmSync(root, { recursive: true, force: true })
  })
  return root
}

function writeManifest(t: { teardown: (fn: () => unknown) => void; testdir: () => string }, m: object): string {
  const file = join(t.testdir(), 'pod.json')
  writeFileSync(file, JSON.stringify(m))
  return file
}

const record = (root: string, id: string) => JSON.parse(readFileSync(join(root, id, 'pod.json'), 'utf8'))

t.test('the full cycle: run -d, ps, inspect, logs -f across a restart, exec, stop, rm', { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('cycle')
  const file = writeManifest(
    t,
    manifest(
      name,
      [
        { name: 'web', command: ['sh', '-c', 'echo start; sleep 0.3; echo more; exit 1'] },
        { name: 'side', command: ['sleep', '600'] },
      ],
      { restartPolicy: 'Always' },
    ),
  )
  const run = await cli(root, 'run', '-d', file)
  t.equal(run.code, 0, run.stderr)
  const id = run.stdout.trim()
  t.match(id, /^[0-9a-f-]{36}$/, 'prints the pod id')

  const ps = await cli(root, 'ps', '--json')
  t.match(JSON.parse(ps.stdout), [{ pod: name, id, phase: 'Running' }])

  const inspect = JSON.parse((await cli(root, 'inspect', name)).stdout)
  t.equal(inspect.status.phase, 'Running')
  t.equal(inspect.metadata.uid, id)
  t.ok(inspect.podLaunch.pause.pid > 0)
  t.ok(inspect.podLaunch.containers.side.pid > 0)

  // logs -f by id prefix: the first run's lines, then the restarted run's.
  const follow = spawnDaemon(process.execPath, [BIN, '--root', root, 'logs', '-f', '-c', 'web', id.slice(0, 8)])
  let followed = ''
  follow.stdout!.setEncoding('utf8').on('data', (d: string) => (followed += d))
  // The first restart comes after kubelet's 10 s backoff.
  for (let i = 0; i < 300 && followed.split('start').length < 3; i++) await new Promise(r => setTimeout(r, 100))
  follow.kill()
  t.match(followed, /^start\nmore\nstart\n/, 'logs -f followed the restart into the next log file')

  // exec joins the container's namespaces.
  const side = inspect.podLaunch.containers.side
  const exec = await cli(root, 'exec', name, '-c', 'side', '--', 'sh', '-c', 'for n in uts ipc net pid mnt; do readlink /proc/self/ns/$n; done; exit 7')
  t.equal(exec.code, 7, 'the exit code passes through')
  const want = ['uts', 'ipc', 'net', 'pid', 'mnt'].map(n => `${n}:[${statSync(`/proc/${side.pid}/ns/${n}`).ino}]`)
  t.same(exec.stdout.trim().split('\n'), want, "the exec'd process is in the container's namespaces")

  const stop = await cli(root, 'stop', name, '--grace-period', '1')
  t.equal(stop.code, 0, stop.stderr)
  t.match(JSON.parse((await cli(root, 'ps', '--json')).stdout), [{ pod: name, phase: 'Failed' }])
  t.same(processesInNamespace('uts', inspect.podLaunch.pause.namespaces.uts, bootTicks(), id), [], 'no process left')

  const rm = await cli(root, 'rm', name)
  t.equal(rm.code, 0, rm.stderr)
  t.same(JSON.parse((await cli(root, 'ps', '--json')).stdout), [])
  t.notOk(existsSync(join(root, id)), 'the pod directory is gone')
})

t.test('20 detached pods started in parallel from separate processes', { skip }, async t => {
  const root = newRoot(t)
  const dir = t.testdir()
  const files = Array.from({ length: 20 }, (_, i) => {
    const file = join(dir, `pod${i}.json`)
    writeFileSync(file, JSON.stringify(manifest(uniqueName(`par${i}`), [{ name: 'c', command: ['sleep', '600'] }])))
    return file
  })
  const runs = await Promise.all(files.map(f => cli(root, 'run', '-d', f)))
  t.ok(
    runs.every(r => r.code === 0),
    runs.map(r => r.stderr).join(''),
  )
  const ids = runs.map(r => r.stdout.trim())
  t.equal(new Set(ids).size, 20, 'unique ids')
  const ps = JSON.parse((await cli(root, 'ps', '--json')).stdout) as { phase: string }[]
  t.equal(ps.length, 20)
  t.ok(
    ps.every(p => p.phase === 'Running'),
    'all Running',
  )
  const uts = ids.map(id => [id, record(root, id).pause.namespaces.uts as number] as const)
  const rm = await cli(root, 'rm', '--force', ...ids)
  t.equal(rm.code, 0, rm.stderr)
  t.same(
    readdirSync(root).filter(d => !d.startsWith('.')),
    [],
    'nothing left in the state root',
  )
  const end = bootTicks()
  t.same(
    uts.flatMap(([id, u]) => processesInNamespace('uts', u, end, id)),
    [],
    'no process left',
  )
})

t.test('a pod name is unique among live pods', { skip }, async t => {
  const root = newRoot(t)
  const file = writeManifest(t, manifest(uniqueName('dup'), [{ name: 'c', command: ['sleep', '600'] }]))
  t.equal((await cli(root, 'run', '-d', file)).code, 0)
  const again = await cli(root, 'run', '-d', file)
  t.equal(again.code, 1)
  t.match(again.stderr, /^pod-launch: pod\.create: plt-dup-\S+: a pod of this name exists \([0-9a-f-]{12}\)\nhint: remove it first/)
})

t.test('two concurrent rm of one pod: one succeeds, the other says it is gone', { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('rmrace')
  const file = writeManifest(t, manifest(name, [{ name: 'c', command: ['sleep', '600'] }]))
  const id = (await cli(root, 'run', '-d', file)).stdout.trim()
  const [a, b] = await Promise.all([cli(root, 'rm', '--force', id), cli(root, 'rm', '--force', id)])
  t.same([a.code, b.code].sort(), [0, 1])
  const loser = a.code === 0 ? b : a
  t.match(loser.stderr, /^pod-launch: pod\.(rm|resolve): .*no such pod/)
  t.notMatch(loser.stderr, /\n\s+at /, 'no stack trace')
})

t.test('engine killed: the shim holds the pod (ps says Running, containers keep running); rm --force cleans everything', { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('orphan')
  const file = writeManifest(t, manifest(name, [{ name: 'c', command: ['sleep', '600'] }], { shareProcessNamespace: true }))
  const id = (await cli(root, 'run', '-d', file)).stdout.trim()
  const r = record(root, id)
  const engine = enginePid(root)
  t.ok(engine, 'one engine drives the root')
  await killAndWait(engine!)
  t.match(JSON.parse((await cli(root, 'ps', '--json')).stdout), [{ pod: name, phase: 'Running' }])
  t.ok(processesInNamespace('uts', r.pause.namespaces.uts).length >= 2, 'pause and the container still run')
  t.equal((await cli(root, 'rm', name)).code, 1, 'plain rm refuses a pod that may be running')
  const rm = await cli(root, 'rm', '--force', name)
  t.equal(rm.code, 0, rm.stderr)
  const end = bootTicks()
  for (let i = 0; i < 100 && processesInNamespace('uts', r.pause.namespaces.uts, end, id).length > 0; i++) await new Promise(res => setTimeout(res, 20))
  t.same(processesInNamespace('uts', r.pause.namespaces.uts, end, id), [], 'nothing left running')
  t.notOk(existsSync(join(root, id)))
})

t.test('bad references, unknown pods and a corrupt pod.json give clear errors, never a stack', { skip }, async t => {
  const root = newRoot(t)
  const unknown = await cli(root, 'inspect', 'nope')
  t.equal(unknown.code, 1)
  t.equal(unknown.stderr, `pod-launch: pod.resolve: nope: no such pod\nhint: pod-launch ps lists the pods under ${root}\n`)
  const file = writeManifest(t, manifest(uniqueName('corrupt'), [{ name: 'c', command: ['sleep', '600'] }]))
  const id = (await cli(root, 'run', '-d', file)).stdout.trim()
  const good = readFileSync(join(root, id, 'pod.json'))
  writeFileSync(join(root, id, 'pod.json'), '{"id": "truncated')
  const corrupt = await cli(root, 'inspect', id)
  t.equal(corrupt.code, 1)
  t.match(corrupt.stderr, new RegExp(`^pod-launch: state\\.read: ${join(root, id, 'pod.json')}: corrupt pod record .*\\nhint: pod-launch rm --force ${id}`))
  t.notMatch(corrupt.stderr, /\n\s+at /)
  writeFileSync(join(root, id, 'pod.json'), good) // so teardown can stop it cleanly
  const usage = await cli(root, 'exec', id.slice(0, 8))
  t.equal(usage.code, 2)
  t.match(usage.stderr, /exec: a command is required/)
})

t.test('gc removes a planted state dir and an empty pod cgroup, and cleans a pod whose shim and engine died', { skip }, async t => {
  const root = newRoot(t)
  const { detectCgroups } = await import('../../src/cgroups/index.js')
  const { randomUUID } = await import('node:crypto')
  const { mkdirSync, utimesSync } = await import('node:fs')
  const plantedDir = join(root, randomUUID())
  mkdirSync(plantedDir)
  const old = new Date(Date.now() - 60_000)
  utimesSync(plantedDir, old, old)
  const h = detectCgroups().hierarchies[0]
  const parent = `plt-gc-${process.pid}` // never the shared default parent: other pods live there
  const plantedCgroup = join(h.path, parent, `pod-${randomUUID()}`)
  mkdirSync(join(plantedCgroup, 'app'), { recursive: true })
  utimesSync(plantedCgroup, old, old) // gc leaves young cgroups alone: a pod may be starting in them
  t.teardown(() => {
    for (const d of [join(plantedCgroup, 'app'), plantedCgroup, join(h.path, parent)]) if (existsSync(d)) rmdirSync(d) // if gc failed; then the parent
  })

  const name = uniqueName('gc')
  const id = (await cli(root, 'run', '-d', writeManifest(t, manifest(name, [{ name: 'c', command: ['sleep', '600'] }])))).stdout.trim()
  const r = record(root, id)
  // Its engine first (else it would tear the pod down itself), then its shim: the pod's processes die with the shim.
  await killAndWait(enginePid(root)!)
  await killAndWait(r.supervisor.pid)

  const dry = JSON.parse((await cli(root, 'gc', '--dry-run', '--json', '--cgroup-parent', parent)).stdout) as {
    kind: string
    target: string
    leftAlone?: boolean
  }[]
  t.ok(
    dry.some(a => a.kind === 'state-dir' && a.target === plantedDir),
    'dry run names the planted state dir',
  )
  t.ok(
    dry.some(a => a.kind === 'cgroup' && a.target === plantedCgroup && a.leftAlone),
    'and the planted cgroup, which no record of this root names: left alone',
  )
  t.ok(
    dry.some(a => a.kind === 'pod' && a.target.includes(id)),
    'and the orphaned pod',
  )
  t.ok(existsSync(plantedDir) && existsSync(plantedCgroup), 'a dry run removes nothing')

  const done = await cli(root, 'gc', '--cgroup-parent', parent)
  t.equal(done.code, 0, done.stderr)
  t.notOk(existsSync(plantedDir), 'the planted state dir is gone')
  t.ok(existsSync(plantedCgroup), 'the planted cgroup is not provably ours: it stays')
  const all = await cli(root, 'gc', '--cgroup-parent', parent, '--all-roots')
  t.equal(all.code, 0, all.stderr)
  t.notOk(existsSync(plantedCgroup), '--all-roots removes it')
  t.same(processesInNamespace('uts', r.pause.namespaces.uts, bootTicks(), id), [], 'the orphaned pod is killed')
  t.match(JSON.parse((await cli(root, 'ps', '--json')).stdout), [{ pod: name, phase: 'Failed' }], 'and kept as Failed until rm')
  t.ok(existsSync(join(root, id)), "a live or stopped pod's state is never touched")
})

t.test('rm --force of a pod whose shim and engine died unmounts its Memory emptyDir', { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('memvol')
  const m = manifest(name, [{ name: 'c', command: ['sleep', '600'], volumeMounts: [{ name: 'm', mountPath: '/m' }] } as never], {
    volumes: [{ name: 'm', emptyDir: { medium: 'Memory', sizeLimit: '4Mi' } }],
  })
  const id = (await cli(root, 'run', '-d', writeManifest(t, m))).stdout.trim()
  const mountPoint = join(root, id, 'volumes', 'm')
  t.match(readFileSync('/proc/self/mountinfo', 'utf8'), mountPoint, 'the tmpfs is mounted on the host side')
  const r = record(root, id)
  // Its engine first (else it would tear the pod down itself), then its shim: the pod's processes die with the shim.
  await killAndWait(enginePid(root)!)
  await killAndWait(r.supervisor.pid)
  const rm = await cli(root, 'rm', '--force', name)
  t.equal(rm.code, 0, rm.stderr)
  t.notMatch(readFileSync('/proc/self/mountinfo', 'utf8'), mountPoint, 'unmounted')
  t.notOk(existsSync(join(root, id)))
})
