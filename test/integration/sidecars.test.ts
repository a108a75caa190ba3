// Native sidecars (Kubernetes 1.29+): init containers with restartPolicy
// Always start in order, let the next container go once started, run beside
// the containers, restart whenever they exit, and are stopped after the
// containers, in reverse order. Real pods on the real kernel.
import t from 'tap'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PodEvent } from '../../src/index.js'
import { requires } from '../helpers/requires.js'
import { cli } from '../helpers/cli.js'
import { manifest, run, start, terminated, uniqueName } from '../helpers/pods.js'
import { bootTicks, processesInNamespace } from '../helpers/procs.js'

const skip = requires('root', 'built')
const fast = { initialMs: 50, maxMs: 400, resetAfterMs: 800_000 }

/** started/exited events as `started x` / `exited x`, in order. */
const sequence = (events: PodEvent[]) =>
  events.flatMap(e => (e.type === 'container-started' ? [`started ${e.container}`] : e.type === 'container-exited' ? [`exited ${e.container}`] : []))

/** A host directory shared by the pod's containers and readable after the pod is gone. */
function sharedDir(t: { testdir: () => string }) {
  const dir = t.testdir()
  return { dir, volume: { name: 'shared', hostPath: { path: dir, type: 'Directory' } }, mount: { name: 'shared', mountPath: '/shared' } }
}

t.test('a sidecar streams a file the main container writes; the main starts while it runs; the pod completes when the main exits', { skip }, async t => {
  const events: PodEvent[] = []
  const shared = sharedDir(t)
  const sidecar = [
    // The exit code after SIGTERM must not fail the pod: kubelet ignores a stopped sidecar's code.
    "trap 'echo stopping; exit 143' TERM",
    ': > /shared/log',
    'echo "up $(date +%s%N)" > /shared/sidecar-up',
    // In the background, so the trap runs at once (sh defers traps while a foreground job runs).
    'tail -F -n +1 /shared/log 2>/dev/null | while read l; do echo "got: $l"; echo "$l" >> /shared/ack; done &',
    'wait',
  ].join('\n')
  const main = [
    'echo "sidecar at my start: $(cat /shared/sidecar-up)"',
    // Each line is written, then acknowledged by the sidecar before the next: it streams while we run.
    'for i in 1 2 3; do echo "line $i" >> /shared/log; until [ "$(wc -l < /shared/ack 2>/dev/null || echo 0)" -ge $i ]; do sleep 0.02; done; done',
    'echo done',
  ].join('\n')
  const m = manifest(uniqueName('stream'), [{ name: 'app', command: ['sh', '-c', main], volumeMounts: [shared.mount] } as never], {
    restartPolicy: 'Never',
    terminationGracePeriodSeconds: 10,
    volumes: [shared.volume],
    initContainers: [{ name: 'logs', restartPolicy: 'Always', command: ['sh', '-c', sidecar], volumeMounts: [shared.mount] }],
  })
  const began = Date.now()
  const { result, lines } = await run(t, m, { onEvent: e => events.push(e) })
  t.equal(result.phase, 'Succeeded', 'the main succeeded: so does the pod, whatever the stopped sidecar exited with')
  t.equal(result.exitCode, 0)
  t.same(
    sequence(events),
    ['started logs', 'started app', 'exited app', 'exited logs'],
    'the main started while the sidecar ran; the sidecar was stopped after the main exited',
  )
  t.match(lines('app')[0], /^sidecar at my start: up \d+$/, 'the sidecar had started before the main')
  t.same(lines('app').slice(1), ['done'])
  t.same(lines('logs'), ['got: line 1', 'got: line 2', 'got: line 3', 'stopping'], 'the sidecar streamed every line, then got SIGTERM')
  t.match(terminated(result, 'app'), { exitCode: 0, reason: 'Completed' })
  t.match(terminated(result, 'logs'), { exitCode: 143, reason: 'Error' })
  const side = result.initContainerStatuses[0]
  t.match(side, { name: 'logs', init: true, sidecar: true, restartCount: 0, started: false, ready: false })
  const appEnd = terminated(result, 'app')!.finishedAt.getTime()
  const sideEnd = terminated(result, 'logs')!.finishedAt.getTime()
  t.ok(sideEnd >= appEnd, 'the sidecar ended after the main')
  t.ok(sideEnd - appEnd < 5000, `the sidecar was stopped promptly (${sideEnd - appEnd} ms), not left to hold the pod`)
  t.ok(Date.now() - began < 10_000, 'the pod did not wait for its 10 s grace period')
})

t.test('stop: the containers first, then the sidecars in reverse order; sidecar preStop hooks run at once', { skip }, async t => {
  const shared = sharedDir(t)
  /** Traps TERM; `slow` waits before it records the TERM, so a wrong order would show. */
  const trapper = (name: string, slow: boolean) => ({
    name,
    command: [
      'sh',
      '-c',
      `trap '${slow ? 'sleep 0.4; ' : ''}echo "$(date +%s%N) ${name} TERM" >> /shared/order; exit 0' TERM; echo ready; while :; do sleep 0.05; done`,
    ],
    volumeMounts: [shared.mount],
  })
  const m = manifest(uniqueName('order'), [trapper('app1', true), trapper('app2', true)] as never, {
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 10,
    volumes: [shared.volume],
    initContainers: [
      {
        ...trapper('side1', false),
        restartPolicy: 'Always',
        lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo "$(date +%s%N) side1 preStop" >> /shared/order'] } } },
      },
      { ...trapper('side2', true), restartPolicy: 'Always' },
    ],
  })
  const { pod, waitFor } = await start(t, m)
  await Promise.all(['side1', 'side2', 'app1', 'app2'].map(c => waitFor(c, /^ready$/)))
  t.match(pod.statuses.init, [
    { name: 'side1', sidecar: true, started: true, ready: true },
    { name: 'side2', sidecar: true, started: true, ready: true },
  ])
  const began = Date.now()
  const result = await pod.stop()
  const took = Date.now() - began
  // In the order of their stamps, not of the appends: two containers' `date` and `echo >>` are two steps
  // each, and a loaded host can run app2's pair between app1's (seen at load 27).
  const order = readFileSync(join(shared.dir, 'order'), 'utf8')
    .trim()
    .split('\n')
    .map(l => l.split(' '))
    .sort(([a], [b]) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0))
  t.equal(order.length, 5, 'one preStop and four TERMs recorded')
  const who = order.map(([, name, what]) => `${name} ${what}`)
  t.equal(who[0], 'side1 preStop', 'a sidecar preStop runs at the start of termination, as kubelet runs every preStop')
  t.same(who.slice(1, 3).sort(), ['app1 TERM', 'app2 TERM'], 'the containers got SIGTERM first')
  t.same(who.slice(3), ['side2 TERM', 'side1 TERM'], 'then the sidecars, the last declared first')
  t.equal(result.phase, 'Succeeded')
  for (const c of ['app1', 'app2', 'side1', 'side2']) t.match(terminated(result, c), { exitCode: 0 }, `${c} exited on SIGTERM`)
  t.ok(took < 10_000, `all within the one grace period (${took} ms)`)
  t.same(processesInNamespace('uts', pod.sandbox.namespaces.uts, bootTicks()), [], 'no process left in the pod')
})

t.test('a sidecar that exits is restarted with backoff even when the pod restartPolicy is Never', { skip }, async t => {
  // Run 1 exits 0, run 2 exits 4, run 3 stays: both exits restart it. The count lives in the pod's shared /dev/shm.
  const sidecar =
    "c=$(cat /dev/shm/n 2>/dev/null || echo 0); c=$((c+1)); echo $c > /dev/shm/n; echo run $c; [ $c -eq 1 ] && exit 0; [ $c -eq 2 ] && exit 4; trap 'exit 0' TERM; while :; do sleep 0.05; done"
  const restarts: string[] = []
  const m = manifest(
    uniqueName('siderestart'),
    [{ name: 'app', command: ['sh', '-c', 'until [ "$(cat /dev/shm/n 2>/dev/null)" = 3 ]; do sleep 0.02; done; echo saw 3 runs'] }],
    { restartPolicy: 'Never', initContainers: [{ name: 'flaky', restartPolicy: 'Always', command: ['sh', '-c', sidecar] }] },
  )
  const { result, lines } = await run(t, m, { backoff: fast, onEvent: e => e.type === 'container-restarting' && restarts.push(`${e.container} ${e.delayMs}`) })
  t.equal(result.phase, 'Succeeded', "the sidecar's own exit codes do not fail the pod")
  t.same(lines('flaky'), ['run 1', 'run 2', 'run 3'])
  t.same(lines('app'), ['saw 3 runs'])
  t.same(restarts, ['flaky 50', 'flaky 100'], "kubelet's doubling backoff")
  const side = result.initContainerStatuses[0]
  t.equal(side.restartCount, 2)
  t.match(side.lastState, { terminated: { exitCode: 4, reason: 'Error' } })
  t.equal(result.containerStatuses[0].restartCount, 0, 'the Never container itself was not restarted')
})

t.test('a plain init container after a sidecar waits for its own exit; the sidecar runs through it', { skip }, async t => {
  const events: PodEvent[] = []
  const m = manifest(uniqueName('sideinit'), [{ name: 'app', command: ['cat', '/dev/shm/setup'] }], {
    restartPolicy: 'Never',
    initContainers: [
      { name: 'proxy', restartPolicy: 'Always', command: ['sh', '-c', "trap 'exit 0' TERM; echo up > /dev/shm/proxy; while :; do sleep 0.05; done"] },
      { name: 'setup', command: ['sh', '-c', 'sleep 0.3; echo "setup saw proxy $(cat /dev/shm/proxy)" > /dev/shm/setup'] },
    ],
  })
  const { result, lines } = await run(t, m, { onEvent: e => events.push(e) })
  t.equal(result.phase, 'Succeeded')
  t.same(sequence(events), ['started proxy', 'started setup', 'exited setup', 'started app', 'exited app', 'exited proxy'])
  t.same(lines('app'), ['setup saw proxy up'], 'the plain init container ran to completion, beside the running sidecar, before the app')
  t.match(result.initContainerStatuses, [
    { name: 'proxy', sidecar: true, restartCount: 0 },
    { name: 'setup', ready: true, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
  ])
})

t.test('a plain init container failing after a sidecar fails a Never pod; the sidecar is stopped, the containers never start', { skip }, async t => {
  const events: PodEvent[] = []
  const { result } = await run(
    t,
    manifest(uniqueName('sideinitfail'), [{ name: 'app', command: ['true'] }], {
      restartPolicy: 'Never',
      initContainers: [
        { name: 'side', restartPolicy: 'Always', command: ['sh', '-c', "trap 'exit 0' TERM; while :; do sleep 0.05; done"] },
        { name: 'setup', command: ['sh', '-c', 'exit 6'] },
      ],
    }),
    { onEvent: e => events.push(e) },
  )
  t.equal(result.phase, 'Failed')
  t.equal(result.exitCode, 6)
  t.same(sequence(events), ['started side', 'started setup', 'exited setup', 'exited side'])
  t.match(terminated(result, 'side'), { exitCode: 0 })
})

t.test('a failing main container fails the pod with its own code; the sidecar is stopped', { skip }, async t => {
  const { result } = await run(
    t,
    manifest(uniqueName('sidefail'), [{ name: 'app', command: ['sh', '-c', 'exit 3'] }], {
      restartPolicy: 'Never',
      initContainers: [{ name: 'side', restartPolicy: 'Always', command: ['sh', '-c', "trap 'exit 9' TERM; while :; do sleep 0.05; done"] }],
    }),
  )
  t.equal(result.phase, 'Failed')
  t.equal(result.exitCode, 3, "the main's code, not the sidecar's 9")
  t.match(terminated(result, 'side'), { exitCode: 9 })
})

t.test('a sidecar that ignores SIGTERM is killed after the grace period, and the pod still succeeds', { skip }, async t => {
  const began = Date.now()
  const { result } = await run(
    t,
    manifest(uniqueName('sidestubborn'), [{ name: 'app', command: ['true'] }], {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      initContainers: [{ name: 'side', restartPolicy: 'Always', command: ['sh', '-c', "trap '' TERM; while :; do sleep 0.05; done"] }],
    }),
  )
  const took = Date.now() - began
  t.equal(result.phase, 'Succeeded')
  t.match(terminated(result, 'side'), { signal: 'SIGKILL', exitCode: 137 })
  // kubelet's minimum stop window (2 s) for a sidecar whose turn came at once: max(grace 1 s, 2 s).
  t.ok(took >= 1900 && took < 10_000, `killed after the stop window (${took} ms)`)
})

t.test("a sidecar whose turn comes only when the grace period is over still gets SIGTERM and kubelet's 2 s window", { skip }, async t => {
  const { pod, waitFor } = await start(
    t,
    manifest(uniqueName('sidelate'), [{ name: 'app', command: ['sh', '-c', "trap '' TERM; echo ready; while :; do sleep 0.05; done"] }], {
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 1,
      initContainers: [
        { name: 'side', restartPolicy: 'Always', command: ['sh', '-c', "trap 'echo got TERM; exit 0' TERM; echo ready; while :; do sleep 0.05; done"] },
      ],
    }),
  )
  await Promise.all([waitFor('app', /^ready$/), waitFor('side', /^ready$/)])
  const result = await pod.stop()
  t.match(terminated(result, 'app'), { signal: 'SIGKILL', exitCode: 137 }, 'the container held out its whole grace period')
  t.match(terminated(result, 'side'), { exitCode: 0, signal: null }, 'the sidecar still stopped cleanly on its SIGTERM')
  t.ok(terminated(result, 'side')!.finishedAt >= terminated(result, 'app')!.finishedAt, 'after the container')
})

t.test('detached: ps counts the sidecar in READY, inspect shows it in initContainerStatuses, exec reaches it, stop orders it last', { skip }, async t => {
  const root = mkdtempSync(join(tmpdir(), 'pl-state-'))
  t.teardown(async () => {
    for (const id of existsSync(root) ? readdirSync(root).filter(d => /^[0-9a-f-]{36}$/.test(d)) : []) await cli(root, 'rm', '--force', id)
    rmSync(root, { recursive: true, force: true })
  })
  const shared = sharedDir(t)
  const name = uniqueName('sidedetached')
  // The container is slow to record its TERM: a sidecar stopped beside it would write first.
  const trap = (who: string, slow = false) => `trap '${slow ? 'sleep 0.4; ' : ''}echo ${who} >> /shared/order; exit 0' TERM; while :; do sleep 0.05; done`
  const file = join(t.testdir(), 'pod.json')
  writeFileSync(
    file,
    JSON.stringify(
      manifest(name, [{ name: 'web', command: ['sh', '-c', trap('web', true)], volumeMounts: [shared.mount] } as never], {
        restartPolicy: 'Always',
        volumes: [shared.volume],
        initContainers: [{ name: 'proxy', restartPolicy: 'Always', command: ['sh', '-c', trap('proxy')], volumeMounts: [shared.mount] }],
      }),
    ),
  )
  const started = await cli(root, 'run', '-d', file)
  t.equal(started.code, 0, started.stderr)
  const ps = JSON.parse((await cli(root, 'ps', '--json')).stdout)
  t.match(ps, [{ pod: name, phase: 'Running', ready: '2/2', restarts: 0 }], 'READY counts the sidecar, as kubectl does')
  const inspect = JSON.parse((await cli(root, 'inspect', name)).stdout)
  t.match(inspect.status.initContainerStatuses, [{ name: 'proxy', started: true, ready: true, restartCount: 0, state: { running: {} } }])
  t.match(inspect.podLaunch.containers.proxy, { sidecar: true })
  t.match(inspect.status.conditions, [
    { type: 'PodReadyToStartContainers', status: 'True' },
    { type: 'Initialized', status: 'True' },
    { type: 'Ready', status: 'True' },
    { type: 'ContainersReady', status: 'True' },
    { type: 'PodScheduled', status: 'True' },
  ])
  const exec = await cli(root, 'exec', name, '-c', 'proxy', '--', 'sh', '-c', 'echo in $(cat /proc/1/cmdline | tr "\\0" " ")')
  t.equal(exec.code, 0, exec.stderr)
  t.match(exec.stdout, /^in sh -c trap 'echo proxy/, 'exec -c reaches the sidecar')
  const stop = await cli(root, 'stop', name)
  t.equal(stop.code, 0, stop.stderr)
  t.same(readFileSync(join(shared.dir, 'order'), 'utf8').trim().split('\n'), ['web', 'proxy'], 'stop: the container first, then the sidecar')
  const after = JSON.parse((await cli(root, 'inspect', name)).stdout)
  t.equal(after.status.phase, 'Succeeded')
})
