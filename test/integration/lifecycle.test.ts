import t from 'tap'
import type { PodEvent } from '../../src/index.js'
import { requires } from '../helpers/requires.js'
import { exitCodes, manifest, run, start, terminated, uniqueName } from '../helpers/pods.js'

const skip = requires('root', 'built')
const fast = { initialMs: 50, maxMs: 400, resetAfterMs: 800_000 }
/** A shell step that fails the first N runs of this pod: counts in the pod's shared /dev/shm. */
const failFirst = (n: number, tag: string) =>
  `c=$(cat /dev/shm/${tag} 2>/dev/null || echo 0); c=$((c+1)); echo $c > /dev/shm/${tag}; echo run $c; [ $c -gt ${n} ]`

t.test('init containers run in order, each to completion, before the containers', { skip }, async t => {
  const events: PodEvent[] = []
  const { result, lines } = await run(
    t,
    {
      ...manifest(uniqueName('init'), [{ name: 'app', command: ['cat', '/dev/shm/order'] }]),
      spec: {
        restartPolicy: 'Never',
        initContainers: [
          { name: 'one', command: ['sh', '-c', 'sleep 0.2; echo one >> /dev/shm/order'] },
          { name: 'two', command: ['sh', '-c', 'echo two >> /dev/shm/order'] },
        ],
        containers: [{ name: 'app', command: ['cat', '/dev/shm/order'] }],
      },
    },
    { onEvent: e => events.push(e) },
  )
  t.equal(result.phase, 'Succeeded')
  t.same(lines('app'), ['one', 'two'], 'the app sees both init steps, in order')
  const seq = events
    .filter(e => e.type === 'container-started' || e.type === 'container-exited')
    .map(e => `${e.type.slice(10)} ${'container' in e ? e.container : ''}`)
  t.same(seq, ['started one', 'exited one', 'started two', 'exited two', 'started app', 'exited app'])
  t.same(
    result.initContainerStatuses.map(s => terminated(result, s.name)?.reason),
    ['Completed', 'Completed'],
  )
})

t.test('a failing init container fails a Never pod with its code; the containers never start', { skip }, async t => {
  const events: PodEvent[] = []
  const { result } = await run(
    t,
    {
      ...manifest(uniqueName('initfail'), []),
      spec: { restartPolicy: 'Never', initContainers: [{ name: 'setup', command: ['sh', '-c', 'exit 7'] }], containers: [{ name: 'app', command: ['true'] }] },
    },
    { onEvent: e => events.push(e) },
  )
  t.equal(result.phase, 'Failed')
  t.equal(result.exitCode, 7)
  t.match(terminated(result, 'setup'), { exitCode: 7, reason: 'Error' })
  t.match(result.containerStatuses[0].state, { waiting: { reason: 'ContainerCreating' } })
  t.notOk(events.some(e => e.type === 'container-started' && e.container === 'app'))
})

t.test('a failing init container of an OnFailure pod is retried with backoff until it succeeds', { skip }, async t => {
  const { result, lines } = await run(
    t,
    {
      ...manifest(uniqueName('initretry'), []),
      spec: {
        restartPolicy: 'OnFailure',
        initContainers: [{ name: 'setup', command: ['sh', '-c', failFirst(2, 'setup')] }],
        containers: [{ name: 'app', command: ['echo', 'app ran'] }],
      },
    },
    { backoff: fast },
  )
  t.equal(result.phase, 'Succeeded')
  t.equal(result.initContainerStatuses[0].restartCount, 2)
  t.same(lines('setup'), ['run 1', 'run 2', 'run 3'])
  t.same(lines('app'), ['app ran'])
})

t.test('restartPolicy Always restarts a crashing container in the same uts, ipc and net namespaces', { skip }, async t => {
  const restarts: number[] = []
  const { pod, lines, waitFor } = await start(
    t,
    manifest(
      uniqueName('always'),
      [{ name: 'crash', command: ['sh', '-c', 'echo $(readlink /proc/self/ns/uts /proc/self/ns/ipc /proc/self/ns/net); exit 1'] }],
      { restartPolicy: 'Always' },
    ),
    { backoff: fast, onEvent: e => e.type === 'container-restarting' && restarts.push(e.delayMs) },
  )
  await waitFor('crash', /uts/)
  while (lines('crash').length < 4) await new Promise(r => setTimeout(r, 20)) // four runs: three restarts
  const result = await pod.stop({ gracePeriodSeconds: 1 })
  const seen = lines('crash')
  t.ok(seen.length >= 4, `ran ${seen.length} times`)
  t.equal(new Set(seen).size, 1, 'every run saw the same namespaces (pause holds them)')
  t.ok(result.containerStatuses[0].restartCount >= 3)
  t.same(restarts.slice(0, 4), [50, 100, 200, 400].slice(0, Math.min(4, restarts.length)), 'backoff doubles from the initial delay')
  t.ok(
    restarts.every(d => d <= 400),
    'and is capped',
  )
  t.match(result.containerStatuses[0].lastState, { terminated: { exitCode: 1, reason: 'Error' } })
})

t.test('restartPolicy OnFailure restarts the failing container only, and the pod succeeds', { skip }, async t => {
  const { result, lines } = await run(
    t,
    manifest(
      uniqueName('onfailure'),
      [
        { name: 'flaky', command: ['sh', '-c', failFirst(2, 'flaky')] },
        { name: 'fine', command: ['echo', 'once'] },
      ],
      { restartPolicy: 'OnFailure' },
    ),
    { backoff: fast },
  )
  t.equal(result.phase, 'Succeeded')
  t.equal(result.exitCode, 0)
  t.same(
    result.containerStatuses.map(s => s.restartCount),
    [2, 0],
  )
  t.same(lines('flaky'), ['run 1', 'run 2', 'run 3'])
  t.same(lines('fine'), ['once'])
})

t.test('restartPolicy Never keeps a failed container down and the pod fails with its code', { skip }, async t => {
  const { result } = await run(
    t,
    manifest(uniqueName('never'), [
      { name: 'bad', command: ['sh', '-c', 'exit 5'] },
      { name: 'good', command: ['true'] },
    ]),
    { backoff: fast },
  )
  t.equal(result.phase, 'Failed')
  t.equal(result.exitCode, 5)
  t.same(exitCodes(result), [5, 0])
  t.same(
    result.containerStatuses.map(s => s.restartCount),
    [0, 0],
  )
})

t.test('preStop runs inside the container before SIGTERM', { skip }, async t => {
  // The hook writes to the container's own stdout through its pid 1: it runs in the container's pid and mount namespaces.
  const { pod, lines, waitFor } = await start(t, {
    ...manifest(uniqueName('prestop'), []),
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 5,
      containers: [
        {
          name: 'web',
          command: ['sh', '-c', "trap 'echo got TERM; exit 0' TERM; echo ready; while :; do sleep 0.05; done"],
          lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo "prestop sees pid 1: $(cat /proc/1/comm)" > /proc/1/fd/1'] } } },
        },
      ],
    },
  })
  await waitFor('web', /^ready$/)
  const result = await pod.stop()
  t.same(lines('web'), ['ready', 'prestop sees pid 1: sh', 'got TERM'])
  t.match(terminated(result, 'web'), { exitCode: 0, reason: 'Completed' })
})

t.test('force skips preStop and the grace period', { skip }, async t => {
  const { pod, lines, waitFor } = await start(t, {
    ...manifest(uniqueName('force'), []),
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 30,
      containers: [
        {
          name: 'web',
          command: ['sh', '-c', "trap '' TERM; echo ready; while :; do sleep 0.05; done"],
          lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo prestop > /proc/1/fd/1'] } } },
        },
      ],
    },
  })
  await waitFor('web', /^ready$/)
  const before = Date.now()
  const result = await pod.stop({ force: true })
  t.ok(Date.now() - before < 10_000, 'did not wait for the 30 s grace period')
  t.same(lines('web'), ['ready'], 'no preStop')
  t.match(terminated(result, 'web'), { exitCode: 137, signal: 'SIGKILL', reason: 'Error' })
})

t.test('a failing postStart kills the container, as kubelet does', { skip }, async t => {
  const events: PodEvent[] = []
  const { result } = await run(
    t,
    {
      ...manifest(uniqueName('poststart'), []),
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'web', command: ['sleep', '30'], lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo nope; exit 3'] } } } }],
      },
    },
    { onEvent: e => events.push(e) },
  )
  t.match(
    events.find(e => e.type === 'hook-failed'),
    { hook: 'postStart', message: 'exit 3: nope' },
  )
  t.match(terminated(result, 'web'), { signal: 'SIGKILL', exitCode: 137 })
})

t.test('$(VAR) expansion and fieldRef env values reach the container', { skip }, async t => {
  const name = uniqueName('env')
  const { lines } = await run(t, {
    ...manifest(name, []),
    metadata: { name, namespace: 'team-a', labels: { app: 'web' }, annotations: { owner: 'ops' } },
    spec: {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'c',
          command: ['sh', '-c', 'echo "$1|$POD|$NS|$APP|$OWNER|$GREETING|$NODE|$$$$X"', 'sh', '$(GREETING)'],
          env: [
            { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
            { name: 'OWNER', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['owner']" } } },
            { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            { name: 'GREETING', value: 'hello $(POD) in $(NS)' },
          ],
        },
      ],
    },
  })
  const { hostname } = await import('node:os')
  // $$$$X: Kubernetes unescapes it to $$X, and the shell, pid 1 of its pid namespace, prints 1X.
  t.same(lines('c'), [`hello ${name} in team-a|${name}|team-a|web|ops|hello ${name} in team-a|${hostname()}|1X`])
})

t.test('terminationMessagePath and FallbackToLogsOnError fill the terminated message', { skip }, async t => {
  const { result } = await run(
    t,
    manifest(uniqueName('termmsg'), [
      { name: 'writes', command: ['sh', '-c', 'echo "all done: 42 items" > /dev/termination-log'] },
      { name: 'custom', command: ['sh', '-c', 'echo custom path > /dev/my-msg; exit 2'], terminationMessagePath: '/dev/my-msg' } as never,
      { name: 'fallback', command: ['sh', '-c', 'echo first; echo last words; exit 1'], terminationMessagePolicy: 'FallbackToLogsOnError' } as never,
    ]),
  )
  t.equal(terminated(result, 'writes')?.message, 'all done: 42 items\n')
  t.equal(terminated(result, 'custom')?.message, 'custom path\n')
  t.equal(terminated(result, 'fallback')?.message, 'first\nlast words\n', "kubelet's log tail: whole lines, each ending in a newline")
})
