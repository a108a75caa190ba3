// Issue 24, item 9: OOMKilled as containerd reports it. A container whose
// cgroup saw an OOM kill during a run is OOMKilled, whichever of its
// processes the kernel chose (a child killed, the main process then exiting
// 1, included). On cgroup v2 every container cgroup gets kubelet's
// memory.oom.group=1 (the whole container dies together), unless
// singleProcessOOMKill asks for the old single-process kill.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { requires } from '../helpers/requires.js'
import { manifest, run, start, terminated, uniqueName } from '../helpers/pods.js'
import { cliEnv, newRoot, NO_LEAKS, onlyRecord, settledLeaks, uniqueParent, waitUntil, writeManifest } from '../helpers/faults.js'
import { detectCgroups } from '../../src/cgroups/index.js'
import type { RunnerEvent } from '../../src/pod/runner.js'

const skip = requires('root', 'built')
/** The memory controller lives on cgroup v2 (oom.group exists): the whole container is killed by default. */
const v2Memory = detectCgroups().hierarchies.some(h => h.version === 2 && h.controllers.includes('memory'))
// The repro: a child of the main process blows the limit; the main process goes on and exits 1.
const HOG = ['sh', '-c', "python3 -c 'a=bytearray(400<<20)'; echo survived; exit 1"]
const limited = { limits: { memory: '64Mi' } }

t.test('a container whose child is OOM-killed is OOMKilled (v2: the whole container is killed, memory.oom.group=1)', { skip }, async t => {
  const { result, lines } = await run(t, manifest(uniqueName('oomchild'), [{ name: 'c', command: HOG, resources: limited } as never]))
  const c = terminated(result, 'c')!
  t.equal(c.reason, 'OOMKilled', `reason (exit ${c.exitCode}, signal ${c.signal})`)
  if (v2Memory) {
    t.match(c, { exitCode: 137, signal: 'SIGKILL' }, 'oom.group: the shell went with its child')
    t.same(lines('c'), [], 'nothing ran after the kill')
  } else {
    t.match(c, { exitCode: 1, signal: null }, 'v1: only the child is killed; the shell exits 1')
    t.same(lines('c'), ['survived'])
  }
  t.equal(result.phase, 'Failed')
})

t.test('each run compares its own counters: an OOM in run 1 does not make run 2 (a plain exit 1) OOMKilled', { skip }, async t => {
  const reasons: string[] = []
  let twoRuns!: () => void
  const ran = new Promise<void>(resolve => (twoRuns = resolve))
  const { pod } = await start(
    t,
    manifest(
      uniqueName('oomruns'),
      [
        {
          name: 'c',
          // Run 1 (no marker yet): the hog; run 2: a plain failure.
          command: ['sh', '-c', `if [ -e /work/ran ]; then exit 1; fi; touch /work/ran; ${HOG[2]}`],
          resources: limited,
          volumeMounts: [{ name: 'work', mountPath: '/work' }],
        } as never,
      ],
      { restartPolicy: 'OnFailure', volumes: [{ name: 'work', emptyDir: {} }] },
    ),
    {
      backoff: { initialMs: 50, maxMs: 50, resetAfterMs: 100_000 },
      onEvent: e => {
        if (e.type !== 'container-exited') return
        reasons.push((e as Extract<RunnerEvent, { type: 'container-exited' }>).reason)
        if (reasons.length === 2) twoRuns()
      },
    },
  )
  await ran
  const result = await pod.stop({ force: true })
  t.same(reasons.slice(0, 2), ['OOMKilled', 'Error'])
  t.equal(terminated(result, 'c')?.reason, 'Error')
})

t.test('--single-process-oom-kill: only the child dies (v2: memory.oom.group is not set) and the container is still OOMKilled', { skip }, async t => {
  const root = newRoot(t)
  const parent = uniqueParent(t, 'oom')
  const name = uniqueName('oomsingle')
  const file = writeManifest(t, manifest(name, [{ name: 'c', command: ['sh', '-c', `${HOG[2].replace('exit 1', 'sleep 600')}`], resources: limited } as never]))
  const started = await cliEnv(root, {}, 'run', '-d', '--cgroup-parent', parent, '--single-process-oom-kill', file)
  t.equal(started.code, 0, started.stderr)
  // Read from the state dir, not through more CLI calls: the v2 lane runs under emulation.
  const record = () => onlyRecord(root) as unknown as Stored
  type Stored = { id: string; cgroups: { plan: { containers: { rel: string }[] } }; containerStatuses: { state: { terminated?: { reason: string } } }[] }
  const rel = record().cgroups.plan.containers[0].rel
  const group = detectCgroups()
    .hierarchies.filter(h => h.version === 2)
    .map(h => join(h.path, rel, 'memory.oom.group'))
    .find(f => existsSync(f))
  if (v2Memory) t.equal(readFileSync(group!, 'utf8').trim(), '0', 'memory.oom.group stays the kernel default')
  const log = join(root, record().id, 'logs/c/0.log')
  t.ok(await waitUntil(() => existsSync(log) && readFileSync(log, 'utf8').includes('survived')), 'the main process outlived its OOM-killed child')
  const stop = await cliEnv(root, {}, 'stop', '--grace-period', '0', '--force', name)
  t.equal(stop.code, 0, stop.stderr)
  t.equal(record().containerStatuses[0].state.terminated?.reason, 'OOMKilled', 'killed by stop, but its cgroup saw an OOM kill in this run')
  t.equal((await cliEnv(root, {}, 'rm', name)).code, 0)
  t.same(await settledLeaks(root, parent), NO_LEAKS, 'nothing left')
})
