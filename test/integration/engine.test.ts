// Issue 18's faults: one engine per state root drives every detached pod
// through the pods' shims. SIGKILL the engine while pods run: no pod and no
// exit is lost, the logs keep flowing (a flooding container does not block),
// and the next engine (started by the next CLI call) adopts every shim and
// restarts what exited meanwhile. SIGKILL a shim: its pod is Failed with a
// reason and rm/gc clean everything; gc ends a shim no record names. A full
// disk leaves the shim alive and the record intact.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requires } from '../helpers/requires.js'
import { cli } from '../helpers/cli.js'
import { manifest, uniqueName } from '../helpers/pods.js'
import { enginePid, killAndWait, newRoot, until, writeManifest } from '../helpers/detached-pods.js'
import { launchShim } from '../../src/shim/launch.js'
import { ShimClient } from '../../src/shim/client.js'
import { parseCriLog } from '../../src/index.js'
import { alive } from '../helpers/procs.js'

const skip = requires('root', 'built')
const UUID = /^[0-9a-f-]{36}$/

const record = (root: string, id: string) => JSON.parse(readFileSync(join(root, id, 'pod.json'), 'utf8'))
const logLines = (file: string) => (existsSync(file) ? parseCriLog(readFileSync(file)).length : 0)

t.test('one engine drives every detached pod of a root, and goes when none is left', { skip }, async t => {
  const root = newRoot(t)
  const ids: string[] = []
  for (let i = 0; i < 3; i++) {
    const run = await cli(root, 'run', '-d', writeManifest(t, manifest(uniqueName(`one${i}`), [{ name: 'c', command: ['sleep', '600'] }])))
    t.equal(run.code, 0, run.stderr)
    ids.push(run.stdout.trim())
  }
  const engine = enginePid(root)
  t.ok(engine, 'an engine runs')
  const shims = ids.map(id => record(root, id).supervisor.pid as number)
  t.equal(new Set(shims).size, 3, 'each pod has its own shim')
  for (const pid of shims) t.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'pod-launch-shim')
  t.equal(enginePid(root), engine, 'still the same one engine')
  const rm = await cli(root, 'rm', '--force', ...ids)
  t.equal(rm.code, 0, rm.stderr)
  await until('the engine to exit', () => !alive(engine!), 30_000)
  t.notOk(shims.some(alive), 'no shim is left')
})

t.test('the engine SIGKILLed while 10 pods run: nothing is lost, logs flow, the next engine adopts and restarts', { skip }, async t => {
  const root = newRoot(t)
  const ids: string[] = []
  for (let i = 0; i < 10; i++) {
    const m = manifest(
      uniqueName(`adopt${i}`),
      [
        // Exits every second: restarted under Always (with kubelet's backoff once the engine is back).
        { name: 'blink', command: ['sh', '-c', 'echo up; sleep 1; exit 3'] },
        { name: 'tick', command: ['sh', '-c', 'while true; do echo tick; sleep 0.05; done'] },
      ],
      { restartPolicy: 'Always' },
    )
    const run = await cli(root, 'run', '-d', '--backoff', '100ms', writeManifest(t, m))
    t.equal(run.code, 0, run.stderr)
    ids.push(run.stdout.trim())
  }
  const engine = enginePid(root)!
  await killAndWait(engine)
  const tickLog = (id: string) => join(root, id, 'logs', 'tick', '0.log')
  const before = ids.map(id => logLines(tickLog(id)))
  // While no engine runs: every blink exits (recorded by its shim), ticks go on (the shims drain them to the logs).
  await until('every blink to exit while no engine runs', () => ids.every(id => existsSync(join(root, id, 'exits', 'blink.json'))), 30_000)
  await until('every tick log to grow with no engine', () => ids.every((id, i) => logLines(tickLog(id)) > before[i]), 30_000)
  t.pass('every tick log grew with no engine')
  for (const id of ids) {
    const exit = JSON.parse(readFileSync(join(root, id, 'exits', 'blink.json'), 'utf8'))
    t.match(exit, { name: 'blink', exitCode: 3 }, `${id}: the exit is recorded`)
  }
  const ps = JSON.parse((await cli(root, 'ps', '--json')).stdout) as { phase: string }[]
  t.equal(ps.length, 10, 'no pod lost')
  t.ok(
    ps.every(p => p.phase === 'Running'),
    'all Running (their shims hold them)',
  )
  // Any call that needs an engine starts one: it adopts every shim and applies the exits.
  const stop = await cli(root, 'stop', '--grace-period', '1', ids[9])
  t.equal(stop.code, 0, stop.stderr)
  const next = enginePid(root)
  t.ok(next && next !== engine, 'a new engine runs')
  await until('blink to be restarted in the 9 running pods', () => ids.slice(0, 9).every(id => record(root, id).containerStatuses[0].restartCount >= 1), 60_000)
  for (const id of ids.slice(0, 9)) {
    const r = record(root, id)
    t.match(r.containerStatuses[0].lastState, { terminated: { exitCode: 3, reason: 'Error' } }, `${id}: the exit while no engine ran is its last state`)
    t.match(readFileSync(join(root, id, 'engine.log'), 'utf8'), /adopted by engine \d+/)
  }
  t.match(record(root, ids[9]), { phase: 'Failed', supervisor: null }, 'the stopped pod ended')
})

t.test('probes resume under the next engine: a liveness failure while no engine runs restarts the container once adopted', { skip }, async t => {
  const root = newRoot(t)
  const m = manifest(
    uniqueName('probed'),
    [
      {
        name: 'c',
        // Healthy for 3 s, then unhealthy for good (the mark is on an emptyDir: it outlives restarts).
        command: ['sh', '-c', 'sleep 3; touch /scratch/dead; exec sleep 600'],
        volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
        livenessProbe: { exec: { command: ['sh', '-c', 'test ! -e /scratch/dead'] }, periodSeconds: 1, failureThreshold: 1, terminationGracePeriodSeconds: 1 },
      } as never,
    ],
    { restartPolicy: 'Always', volumes: [{ name: 'scratch', emptyDir: {} }] },
  )
  const run = await cli(root, 'run', '-d', '--backoff', '100ms', writeManifest(t, m))
  t.equal(run.code, 0, run.stderr)
  const id = run.stdout.trim()
  await killAndWait(enginePid(root)!)
  await until('the container to turn unhealthy', () => existsSync(join(root, id, 'volumes', 'scratch', 'dead')), 30_000)
  // No engine: nobody probes, the unhealthy container runs on.
  await new Promise(r => setTimeout(r, 3000))
  t.equal(record(root, id).containerStatuses[0].restartCount, 0, 'no restart while no engine runs')
  t.notOk(existsSync(join(root, id, 'exits', 'c.json')), 'the container still runs')
  // Any call that needs an engine starts one; it adopts the pod and probes it again.
  const other = await cli(root, 'run', '-d', writeManifest(t, manifest(uniqueName('wake'), [{ name: 'w', command: ['sleep', '600'] }])))
  t.equal(other.code, 0, other.stderr)
  await until('the liveness probe of the new engine to restart it', () => record(root, id).containerStatuses[0].restartCount >= 1, 60_000)
  const last = record(root, id).containerStatuses[0].lastState as { terminated?: { exitCode: number } }
  t.ok([137, 143].includes(last.terminated?.exitCode ?? 0), `killed for its failed liveness probe (exit ${last.terminated?.exitCode})`)
  t.match(readFileSync(join(root, id, 'engine.log'), 'utf8'), /adopted by engine \d+/)
})

t.test('a container flooding stdout while no engine runs does not block: the shim drains it to the log', { skip }, async t => {
  const root = newRoot(t)
  const m = manifest(
    uniqueName('flood'),
    [{ name: 'flood', command: ['sh', '-c', 'i=0; while [ $i -lt 200000 ]; do echo "line $i of a flood"; i=$((i+1)); done; echo done'] }],
    {
      restartPolicy: 'Never',
    },
  )
  const id = (await cli(root, 'run', '-d', writeManifest(t, m))).stdout.trim()
  await killAndWait(enginePid(root)!)
  // 200 000 lines (about 4 MB) is far more than a pipe holds: only a shim that keeps reading lets it finish.
  await until('the flood to end', () => existsSync(join(root, id, 'exits', 'flood.json')), 120_000)
  const exit = JSON.parse(readFileSync(join(root, id, 'exits', 'flood.json'), 'utf8'))
  t.match(exit, { exitCode: 0, logDropped: 0 })
  const records = parseCriLog(readFileSync(join(root, id, 'logs', 'flood', '0.log')))
  t.equal(records.length, 200_001, 'every line is in the log')
  t.equal(records.at(-1)?.content.toString(), 'done')
})

t.test('a SIGKILLed shim: its pod is Failed with the reason, nothing of it runs, rm cleans everything', { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('shimdead')
  const id = (await cli(root, 'run', '-d', writeManifest(t, manifest(name, [{ name: 'c', command: ['sleep', '600'] }])))).stdout.trim()
  const r = record(root, id)
  const shim = r.supervisor.pid as number
  const pids = [r.pause.pid, r.containerStatuses[0].pid] as number[]
  await killAndWait(shim)
  await until('the pod to be Failed', () => record(root, id).phase === 'Failed' && record(root, id).supervisor === null, 30_000)
  t.notOk(pids.some(alive), 'pause and the container died with their shim')
  t.match(readFileSync(join(root, id, 'engine.log'), 'utf8'), new RegExp(`the pod's shim \\(pid ${shim}\\) died`), 'the reason is logged')
  const ps = JSON.parse((await cli(root, 'ps', '--json')).stdout)
  t.match(ps, [{ pod: name, phase: 'Failed' }])
  const rm = await cli(root, 'rm', name)
  t.equal(rm.code, 0, rm.stderr)
  t.notOk(existsSync(join(root, id)))
  for (const d of r.cgroups.paths.pod as string[]) t.notOk(existsSync(d), `${d} is gone`)
})

t.test('gc ends a shim no record names (its engine died before recording it), and its processes', { skip }, async t => {
  const root = newRoot(t)
  const { randomUUID } = await import('node:crypto')
  const dir = join(root, randomUUID())
  mkdirSync(dir)
  const shim = await launchShim(dir)
  t.teardown(() => alive(shim) && process.kill(shim, 'SIGKILL'))
  const dry = JSON.parse((await cli(root, 'gc', '--dry-run', '--json')).stdout) as { kind: string; target: string }[]
  t.notOk(
    dry.some(a => a.target === `shim pid ${shim}`),
    'a young one is left alone (its pod may be starting)',
  )
  const old = new Date(Date.now() - 60_000)
  const { utimesSync } = await import('node:fs')
  utimesSync(dir, old, old)
  const gc = await cli(root, 'gc', '--json')
  t.equal(gc.code, 0, gc.stderr)
  t.ok(
    (JSON.parse(gc.stdout) as { kind: string; target: string }[]).some(a => a.kind === 'process' && a.target === `shim pid ${shim}`),
    'gc names it',
  )
  await until('the shim to be gone', () => !alive(shim), 10_000)
  t.pass('and ended it')
})

t.test('a full disk while logging: the shim lives on, the pod record stays intact, rm works', { skip }, async t => {
  const base = mkdtempSync(join(tmpdir(), 'pl-full-'))
  const root = join(base, 'root')
  mkdirSync(root)
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', root])
  t.teardown(() => {
    try {
      execFileSync('umount', ['-l', root])
    } catch {}
    rmSync(base, { recursive: true, force: true })
  })
  // Registered after the unmount: tap runs teardowns last first, so the pods go before the filesystem.
  newRoot(t, root)
  const m = manifest(uniqueName('full'), [
    { name: 'big', command: ['sh', '-c', 'i=0; while [ $i -lt 100000 ]; do echo "filling the disk with line $i"; i=$((i+1)); done; sleep 600'] },
  ])
  const run = await cli(root, 'run', '-d', writeManifest(t, m))
  t.equal(run.code, 0, run.stderr)
  const id = run.stdout.trim()
  const shim = record(root, id).supervisor.pid as number
  // The disk is full: its own log cannot say so; the shim counts what the container's log lost.
  const client = await ShimClient.connect(join(root, id))
  t.teardown(() => client.close())
  const dropped = async () => (await client.status()).find(p => p.name === 'big')?.logDroppedBytes ?? 0
  await until('the log to lose output to the full disk', async () => (await dropped()) > 0, 60_000)
  t.ok(alive(shim), 'the shim is alive')
  t.ok(statfsSync(root).bavail === 0, 'the disk is full')
  t.ok(statSync(join(root, id, 'logs', 'big', '0.log')).size > 1_000_000, 'the log took what fitted')
  const r = record(root, id)
  t.equal(r.phase, 'Running', 'the record is intact')
  t.equal(r.containerStatuses[0].name, 'big')
  const rm = await cli(root, 'rm', '--force', id)
  t.equal(rm.code, 0, rm.stderr)
  t.same(
    readdirSync(root).filter(d => UUID.test(d)),
    [],
    'removed',
  )
  t.notOk(alive(shim), 'its shim is gone')
})
