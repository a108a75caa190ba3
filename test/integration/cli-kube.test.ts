// The CLI's Kubernetes-shaped output on real detached pods: ps with -o,
// selectors and filters; inspect as a Pod object; events; wait; logs flags;
// stats in millicores.
import t from 'tap'
import { hostname } from 'node:os'
import { parse as parseYaml } from 'yaml'
import { requires } from '../helpers/requires.js'
import { manifest, uniqueName } from '../helpers/pods.js'
import { cli } from '../helpers/cli.js'
import { newRoot, runDetached, until } from '../helpers/detached-pods.js'

const skip = requires('root', 'built')

t.test('ps: -o wide, -o name, -l selectors, --filter, --json summaries and -o json as a List of Pods', { skip }, async t => {
  const root = newRoot(t)
  const web = uniqueName('web')
  const db = uniqueName('db')
  const webId = await runDetached(t, root, {
    ...manifest(web, [{ name: 'app', command: ['sleep', '600'] }]),
    metadata: { name: web, labels: { app: 'web', tier: 'fe' } },
  })
  await runDetached(t, root, { ...manifest(db, [{ name: 'db', command: ['sleep', '600'] }]), metadata: { name: db, labels: { app: 'db' } } })

  const table = await cli(root, 'ps')
  t.match(table.stdout, /^POD +ID +READY +STATUS +RESTARTS +AGE +IP\n/)
  const wide = await cli(root, 'ps', '-o', 'wide')
  t.match(wide.stdout, /^POD +ID +READY +STATUS +RESTARTS +AGE +IP +NODE +OWNER +CONTAINERS +IMAGES\n/)
  t.match(wide.stdout, new RegExp(`${web} +${webId} +1/1 +Running .* ${hostname()} +run -d \\d+ +app:Running +host\\n`), 'the full id, node, owner, containers')
  t.equal((await cli(root, 'ps', '-l', 'app=web', '-o', 'name')).stdout, `pod/${web}\n`)
  t.equal((await cli(root, 'ps', '-l', 'app in (web,db),tier!=fe', '-o', 'name')).stdout, `pod/${db}\n`)
  t.equal((await cli(root, 'ps', '-l', '!tier', '--filter', `name=${db.slice(0, 8)}`, '-o', 'name')).stdout, `pod/${db}\n`)
  t.equal((await cli(root, 'ps', '--filter', 'phase=succeeded', '-o', 'name')).stdout, '', 'no pod has succeeded')

  const summaries = JSON.parse((await cli(root, 'ps', '--json', '-l', 'app=web')).stdout)
  t.match(summaries, [
    {
      pod: web,
      id: webId,
      namespace: 'default',
      phase: 'Running',
      status: 'Running',
      ready: '1/1',
      labels: { app: 'web', tier: 'fe' },
      createdAt: /^\d{4}-/,
      startTime: /^\d{4}-/,
      owner: { alive: true, foreground: false },
      containers: [{ name: 'app', image: 'host', state: 'Running', ready: true, restartCount: 0, containerID: /^pod-launch:\/\/[0-9a-f]{64}$/ }],
    },
  ])
  const list = JSON.parse((await cli(root, 'ps', '-o', 'json')).stdout)
  t.match(list, { apiVersion: 'v1', kind: 'List', items: [{ kind: 'Pod' }, { kind: 'Pod' }] })
  const yamlList = parseYaml((await cli(root, 'ps', '-o', 'yaml', '-l', 'app=db')).stdout)
  t.match(yamlList, { kind: 'List', items: [{ metadata: { name: db, labels: { app: 'db' } } }] })

  const bad = await cli(root, 'ps', '-l', 'app in (web,')
  t.equal(bad.code, 2)
  t.match(bad.stderr, /select\.selector: "app in \(web,": not a requirement/)
  const badFilter = await cli(root, 'ps', '--filter', 'stauts=running')
  t.equal(badFilter.code, 2)
  t.match(badFilter.stderr, /unknown filter \(did you mean "status"\?\)/)
})

t.test('inspect: the Pod as the API server and kubelet would show it, ours under podLaunch; -o yaml|name|wide', { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('kube')
  const id = await runDetached(t, root, {
    ...manifest(name, [
      {
        name: 'app',
        command: ['sleep', '600'],
        resources: { limits: { cpu: '200m', memory: '64Mi' } },
        readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
      } as never,
    ]),
  })
  await until(
    'Ready',
    async () => JSON.parse((await cli(root, 'inspect', name)).stdout).status.conditions.find((c: { type: string }) => c.type === 'Ready').status === 'True',
  )
  const pod = JSON.parse((await cli(root, 'inspect', name)).stdout)
  t.match(pod.metadata, { name, namespace: 'default', uid: id, creationTimestamp: /Z$/ })
  t.match(pod.spec, {
    restartPolicy: 'Never',
    terminationGracePeriodSeconds: 2,
    dnsPolicy: 'ClusterFirst',
    schedulerName: 'default-scheduler',
    serviceAccountName: 'default',
    enableServiceLinks: true,
    nodeName: hostname(),
    securityContext: {},
  })
  t.match(pod.spec.containers[0], {
    name: 'app',
    image: 'host',
    imagePullPolicy: 'Never',
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    resources: { limits: { cpu: '200m', memory: '64Mi' }, requests: { cpu: '200m', memory: '64Mi' } },
    readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
  })
  t.notOk('dnsPolicyExplicit' in pod.spec || 'name' in pod.spec || 'uid' in pod.spec, 'no field of our internal spec')
  t.match(pod.status, {
    phase: 'Running',
    qosClass: 'Guaranteed',
    startTime: /Z$/,
    containerStatuses: [
      {
        name: 'app',
        ready: true,
        started: true,
        restartCount: 0,
        image: 'host',
        imageID: '',
        containerID: /^pod-launch:\/\/[0-9a-f]{64}$/,
        state: { running: { startedAt: /Z$/ } },
        lastState: {},
      },
    ],
  })
  t.same(
    pod.status.conditions.map((c: { type: string; status: string }) => `${c.type}=${c.status}`),
    ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True'],
  )
  for (const c of pod.status.conditions)
    t.ok(Date.parse(c.lastTransitionTime) >= Date.parse(pod.metadata.creationTimestamp), `${c.type} has its transition time`)
  const ready = pod.status.conditions.find((c: { type: string }) => c.type === 'Ready')
  const scheduled = pod.status.conditions.find((c: { type: string }) => c.type === 'PodScheduled')
  t.ok(Date.parse(ready.lastTransitionTime) > Date.parse(scheduled.lastTransitionTime), 'Ready turned True after the pod was scheduled')
  t.match(pod.podLaunch, { id, supervisor: { alive: true }, pause: { pid: Number }, containers: { app: { pid: Number } } })
  t.match(pod.podLaunch.events, [{ reason: 'Created' }, { reason: 'Started' }])

  const yaml = parseYaml((await cli(root, 'inspect', name, '-o', 'yaml')).stdout)
  t.same(yaml.spec, pod.spec, 'the same object as YAML')
  t.equal((await cli(root, 'inspect', name, '-o', 'name')).stdout, `pod/${name}\n`)
  t.match((await cli(root, 'inspect', name, '-o', 'wide')).stdout, new RegExp(`^POD .*\\n${name} +${id} +1/1 +Running`))
})

t.test("events: kubelet's reasons as kubectl describe lists them, counted; stop adds Killing", { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('events')
  await runDetached(t, root, {
    ...manifest(
      name,
      [
        { name: 'crash', command: ['sh', '-c', 'exit 3'] },
        { name: 'ok', command: ['sleep', '600'] },
      ],
      { restartPolicy: 'Always' },
    ),
  })
  await until('a back-off', async () => /BackOff/.test((await cli(root, 'events', name)).stdout))
  const ev = await cli(root, 'events', name)
  t.match(ev.stdout, /^TYPE +REASON +AGE +FROM +MESSAGE\n/)
  t.match(ev.stdout, /Normal +Created +\d+s +pod-launch +Created container: crash\n/)
  t.match(ev.stdout, /Normal +Started +\d+s +pod-launch +Started container ok\n/)
  t.match(ev.stdout, new RegExp(`Warning +BackOff +\\d+s +pod-launch +Back-off restarting failed container crash in pod ${name}_default\\(`))
  const stop = await cli(root, 'stop', name, '--grace-period', '1')
  t.equal(stop.code, 0, stop.stderr)
  const after = await cli(root, 'events', name, '-o', 'json')
  const list = JSON.parse(after.stdout)
  t.match(list.items.at(-1), {
    kind: 'Event',
    reason: 'Killing',
    message: 'Stopping container ok',
    involvedObject: { kind: 'Pod', name, fieldPath: 'spec.containers{ok}' },
  })
  const all = await cli(root, 'events')
  t.match(all.stdout, new RegExp(`^POD +TYPE +REASON .*\\n${name} +Normal +Created`), 'every pod, with its name')
})

t.test('wait: --for=condition=Ready, a timeout names what it waited for, --for=delete', { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('wait')
  await runDetached(
    t,
    root,
    manifest(name, [
      {
        name: 'app',
        command: ['sh', '-c', 'sleep 1; touch /tmp/ready; sleep 600'],
        readinessProbe: { exec: { command: ['test', '-e', '/tmp/ready'] }, periodSeconds: 1 },
      } as never,
    ]),
  )
  const ready = await cli(root, 'wait', name, '--for=condition=Ready', '--timeout=60s')
  t.equal(ready.code, 0, ready.stderr)
  t.equal(ready.stdout, `pod/${name} condition met\n`)
  const never = await cli(root, 'wait', name, '--for', 'condition=Ready=false', '--timeout', '1s')
  t.equal(never.code, 1)
  t.match(never.stderr, `wait: ${name}: timed out after 1s waiting for condition Ready=False`)
  const gone = cli(root, 'wait', name, '--for=delete', '--timeout=60s')
  t.equal((await cli(root, 'rm', '--force', name)).code, 0)
  const deleted = await gone
  t.equal(deleted.code, 0, deleted.stderr)
  t.equal(deleted.stdout, `pod/${name} condition met\n`)
  const bad = await cli(root, 'wait', name, '--for=jsonpath={.x}')
  t.equal(bad.code, 2)
})

t.test('wait: a pod that ends first is an error at once, not a timeout', { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('wait-end')
  await runDetached(t, root, manifest(name, [{ name: 'app', command: ['sh', '-c', 'exit 1'] }]))
  const r = await cli(root, 'wait', name, '--for=condition=Ready', '--timeout=120s')
  t.equal(r.code, 1)
  t.match(r.stderr, `wait: ${name}: the pod is Failed: condition Ready=True will not come`)
})

t.test("logs: the default container with kubectl's note, --all-containers with [container], --prefix, --since, --since-time", { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('logs')
  await runDetached(t, root, {
    ...manifest(name, [
      { name: 'a', command: ['sh', '-c', 'echo a1; echo a2; sleep 5; echo a3; sleep 600'] },
      { name: 'b', command: ['sh', '-c', 'echo b1; sleep 600'] },
    ]),
    metadata: { name, annotations: { 'kubectl.kubernetes.io/default-container': 'b' } },
  })
  await until('a3', async () => (await cli(root, 'logs', name, '-c', 'a')).stdout.includes('a3'))
  const dflt = await cli(root, 'logs', name)
  t.equal(dflt.stdout, 'b1\n', 'the annotation names the default container')
  t.equal(dflt.stderr, 'Defaulted container "b" out of: a, b\n')
  const all = await cli(root, 'logs', name, '--all-containers')
  t.equal(all.stdout, '[a] a1\n[a] a2\n[a] a3\n[b] b1\n')
  t.equal(all.stderr, '', 'no note: no container was chosen for you')
  const prefixed = await cli(root, 'logs', name, '-c', 'a', '--prefix', '--tail', '1')
  t.equal(prefixed.stdout, `[pod/${name}/a] a3\n`)
  const stamped = (await cli(root, 'logs', name, '-c', 'a', '--timestamps', '--tail', '1')).stdout
  const a3At = stamped.split(' ')[0]
  t.equal((await cli(root, 'logs', name, '-c', 'a', '--since-time', a3At)).stdout, 'a3\n', 'from the time a3 was written')
  // A window that reaches back to a3 (and 2.5 s more) but not to a1 and a2, 5 s before it.
  const window = Math.ceil((Date.now() - Date.parse(a3At) + 2500) / 1000)
  const recent = await cli(root, 'logs', name, '-c', 'a', '--since', `${window}s`)
  t.equal(recent.stdout, 'a3\n', `--since ${window}s: only a3`)
  t.equal((await cli(root, 'logs', name, '-c', 'a', '--since', '1h')).stdout, 'a1\na2\na3\n')
  const future = await cli(root, 'logs', name, '--all-containers', '--since-time', new Date(Date.now() + 60_000).toISOString())
  t.equal(future.stdout, '')
  const both = await cli(root, 'logs', name, '-c', 'a', '--all-containers')
  t.equal(both.code, 2, 'a container and all of them')
  const badSince = await cli(root, 'logs', name, '--since', 'yesterday')
  t.equal(badSince.code, 2)
  t.match(badSince.stderr, /--since: "yesterday": not a duration/)
})

t.test('stats: CPU in millicores and % of one CPU, memory against the limit; -o json|yaml|name|wide; --watch until the pod ends', { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('stats')
  await runDetached(
    t,
    root,
    manifest(name, [
      { name: 'busy', command: ['sh', '-c', 'while :; do :; done'], resources: { limits: { cpu: '250m', memory: '32Mi' } } } as never,
      { name: 'idle', command: ['sleep', '600'] },
    ]),
  )
  const table = await cli(root, 'stats', name)
  t.equal(table.code, 0, table.stderr)
  t.match(table.stdout, /^CONTAINER +CPU +CPU% +MEMORY +MEM% +PIDS\n/)
  const rows = JSON.parse((await cli(root, 'stats', name, '-o', 'json', '--interval', '2s')).stdout) as {
    name: string
    cpuMilli: number
    cpuPercent: number
    cpuLimitMilli?: number
    memoryLimitBytes: number
  }[]
  const busy = rows.find(r => r.name === 'busy')!
  t.ok(busy.cpuMilli >= 100 && busy.cpuMilli <= 300, `the busy loop uses up to its 250m limit: ${busy.cpuMilli}m`)
  t.equal(busy.cpuPercent, busy.cpuMilli / 10)
  t.equal(busy.cpuLimitMilli, 250)
  t.equal(busy.memoryLimitBytes, 32 * 1024 * 1024)
  t.ok(rows.find(r => r.name === 'idle')!.cpuMilli <= 20, 'sleep uses next to nothing')
  t.match(
    rows.map(r => r.name),
    ['busy', 'idle', 'pod'],
  )
  t.equal((await cli(root, 'stats', name, '-o', 'name', '--interval', '100ms')).stdout, 'busy\nidle\npod\n', '-o name: the rows')
  t.match(
    parseYaml((await cli(root, 'stats', name, '-o', 'yaml', '--interval', '100ms')).stdout),
    [{ name: 'busy', cpuLimitMilli: 250, memoryLimitBytes: 32 * 1024 * 1024 }, { name: 'idle' }, { name: 'pod' }],
    '-o yaml: the rows as data',
  )
  const wide = await cli(root, 'stats', name, '-o', 'wide', '--interval', '200ms')
  t.match(wide.stdout, /CPU LIMIT +MEM LIMIT +PEAK +OOM KILLS\nbusy +\d+m .* 250m +32\.0Mi/)
  const watch = cli(root, 'stats', name, '--watch', '--interval', '300ms')
  await new Promise(r => setTimeout(r, 1500))
  t.equal((await cli(root, 'stop', name, '--grace-period', '0')).code, 0)
  const watched = await watch
  t.equal(watched.code, 0, watched.stderr)
  t.ok(watched.stdout.split('CONTAINER').length - 1 >= 2, 'printed again each interval until the pod stopped')
})
