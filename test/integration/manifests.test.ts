// Whole manifest files on the real kernel: every Pod and every workload's
// template of a file becomes its own pod (in file order, named and labelled
// as its controller would), other kinds are named as not run, several pods
// run side by side in the foreground, a pod that cannot start takes the
// others of its run with it, and `down FILE` / `rm -f FILE` remove exactly
// what `run FILE` made.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { requires } from '../helpers/requires.js'
import { BIN, cli } from '../helpers/cli.js'
import { leftovers, newRoot, readPodRecord, until, type PodRecordLite } from '../helpers/detached-pods.js'
import { uniqueName } from '../helpers/pods.js'
import { spawnDaemon } from '../helpers/daemon.js'

const skip = requires('root', 'built')
type Obj = Record<string, unknown>

const sleeper = (extra: Obj = {}) => ({ terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'host', command: ['sleep', '600'] }], ...extra })
const pod = (name: string, spec: Obj = sleeper()) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec })
const workload = (kind: string, apiVersion: string, name: string, spec: Obj = {}) => ({
  apiVersion,
  kind,
  metadata: { name },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: sleeper() }, ...spec },
})
const file = (t: { testdir: () => string }, docs: object[], name = 'app.yaml') => {
  const f = join(t.testdir(), name)
  writeFileSync(f, docs.map(d => JSON.stringify(d)).join('\n---\n'))
  return f
}
interface Inspected {
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> }
  spec: { hostname: string; subdomain?: string }
}
const inspect = async (root: string, name: string): Promise<Inspected> => JSON.parse((await cli(root, 'inspect', name)).stdout) as Inspected
const psNames = async (root: string) => (JSON.parse((await cli(root, 'ps', '--json')).stdout) as { pod: string }[]).map(p => p.pod).sort()

t.test('run -d FILE starts every Pod and workload template in file order, each its own pod; other kinds are named as not run', { skip }, async t => {
  const root = newRoot(t)
  const n = uniqueName('kinds')
  const f = file(t, [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${n}-cfg` }, data: { a: '1' } },
    pod(`${n}-pod`),
    workload('Deployment', 'apps/v1', `${n}-deploy`, { replicas: 3 }),
    workload('ReplicaSet', 'apps/v1', `${n}-rs`),
    workload('StatefulSet', 'apps/v1', `${n}-sts`, { serviceName: 'db' }),
    workload('DaemonSet', 'apps/v1', `${n}-ds`),
    { apiVersion: 'v1', kind: 'Service', metadata: { name: `${n}-svc` }, spec: { ports: [{ port: 80 }] } },
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: `${n}-job` },
      spec: { completions: 2, template: { spec: { ...sleeper(), restartPolicy: 'Never' } } },
    },
    { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: `${n}-cron` }, spec: { schedule: '* * * * *', jobTemplate: {} } },
    { apiVersion: 'v1', kind: 'List', items: [pod(`${n}-item`)] },
  ])
  const run = await cli(root, 'run', '-d', f)
  t.equal(run.code, 0, run.stderr)
  const ids = run.stdout.trim().split('\n')
  t.equal(ids.length, 7, 'one id per pod, each on its own line')
  t.match(run.stderr, `warning: Service ${n}-svc (document 7): not run: there is no cluster network here`)
  t.match(run.stderr, `warning: CronJob ${n}-cron (document 9): not run: pod-launch runs no schedules`)
  t.match(run.stderr, `warning: Deployment ${n}-deploy: replicas 3: runs one pod (the template once); nothing scales or reconciles it`)
  t.match(run.stderr, `warning: Job ${n}-job: completions 2 ignored: the template runs once`)
  // In file order: creation order is the order of the ids printed.
  const records = ids.map(id => readPodRecord(root, id) as PodRecordLite & { name: string; createdAt: string })
  const names = records.map(r => r.name)
  t.match(names, [
    `${n}-pod`,
    new RegExp(`^${n}-deploy-[bcdfghjklmnpqrstvwxz2456789]{1,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$`),
    new RegExp(`^${n}-rs-[bcdfghjklmnpqrstvwxz2456789]{5}$`),
    `${n}-sts-0`,
    new RegExp(`^${n}-ds-[bcdfghjklmnpqrstvwxz2456789]{5}$`),
    new RegExp(`^${n}-job-[bcdfghjklmnpqrstvwxz2456789]{5}$`),
    `${n}-item`,
  ])
  t.same(
    records.map(r => r.phase),
    Array(7).fill('Running'),
  )
  const deploy = await inspect(root, names[1])
  t.same(deploy.metadata.labels, { app: `${n}-deploy`, 'pod-template-hash': names[1].split('-').slice(-2)[0] })
  t.equal(deploy.metadata.annotations['pod-launch.io/document'], '3')
  const sts = await inspect(root, `${n}-sts-0`)
  t.match(sts.metadata.labels, { app: `${n}-sts`, 'statefulset.kubernetes.io/pod-name': `${n}-sts-0` })
  t.same([sts.spec.hostname, sts.spec.subdomain], [`${n}-sts-0`, 'db'])
  t.match((await inspect(root, names[5])).metadata.labels, { 'job-name': `${n}-job`, 'batch.kubernetes.io/job-name': `${n}-job` })
  t.equal((await inspect(root, `${n}-item`)).metadata.annotations['pod-launch.io/document'], '10.1', 'a List item: document.item')

  // down FILE: exactly these seven; a pod of another file stays.
  const other = file(t, [pod(`${n}-other`)], 'other.yaml')
  t.equal((await cli(root, 'run', '-d', other)).code, 0)
  const down = await cli(root, 'down', f)
  t.equal(down.code, 0, down.stderr)
  t.same(down.stdout.trim().split('\n'), names, 'removed in file order')
  t.same(await psNames(root), [`${n}-other`])
  for (const r of records) t.same(leftovers(root, r), [], `nothing left of ${r.name}`)
  const again = await cli(root, 'down', f)
  t.equal(again.code, 0)
  t.match(again.stderr, /down: no pod of .*app\.yaml under/)
})

t.test('several pods in the foreground: lines as [pod/container], every pod torn down, the exit code of the first pod to fail', { skip }, async t => {
  const root = newRoot(t)
  const n = uniqueName('fg')
  const f = file(t, [
    pod(`${n}-a`, { restartPolicy: 'Never', containers: [{ name: 'c', image: 'host', command: ['sh', '-c', 'sleep 0.5; echo from a; exit 3'] }] }),
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: `${n}-job` },
      spec: {
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'host', command: ['sh', '-c', 'echo from job; sleep 1; exit 4'] }] } },
      },
    },
  ])
  const run = await cli(root, 'run', f)
  t.equal(run.code, 3, 'pod a failed first: its exit code')
  t.match(run.stdout, `[${n}-a/c] from a`)
  t.match(run.stdout, new RegExp(`\\[${n}-job-[a-z0-9]{5}/c\\] from job`))
  t.match(run.stderr, `pod-launch: 2 pods from ${f}: ${n}-a, ${n}-job-`)
  t.match(run.stderr, new RegExp(`pod ${n}-a: Failed\\n[^]*Error +3 [^]*pod ${n}-job-[a-z0-9]{5}: Failed\\n[^]*Error +4`))
  t.same(await psNames(root), [], 'every pod gone with the run')
})

t.test('Ctrl-C stops every pod of a foreground run; a second one kills', { skip }, async t => {
  const root = newRoot(t)
  const n = uniqueName('int')
  const trapper = (name: string) =>
    pod(name, {
      terminationGracePeriodSeconds: 30,
      containers: [{ name: 'c', image: 'host', command: ['sh', '-c', 'trap "echo got TERM; exit 0" TERM; echo up; while true; do sleep 0.1; done'] }],
    })
  const f = file(t, [trapper(`${n}-a`), trapper(`${n}-b`)])
  const child = spawnDaemon(process.execPath, [BIN, '--root', root, 'run', f], { stdio: ['ignore', 'pipe', 'pipe'] }, 'TERM')
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
  await until('both pods up', () => out.includes(`[${n}-a/c] up`) && out.includes(`[${n}-b/c] up`))
  child.kill('SIGINT')
  t.equal(await exited, 0, 'both exit 0 on TERM')
  t.match(err, 'SIGINT: stopping 2 pods (again to kill now)')
  t.match(out, `[${n}-a/c] got TERM`)
  t.match(out, `[${n}-b/c] got TERM`)
  t.same(await psNames(root), [])
})

t.test('a pod that cannot start removes the pods its run started: nothing half-made, foreground or detached', { skip }, async t => {
  const root = newRoot(t)
  const n = uniqueName('half')
  const broken = pod(`${n}-broken`, sleeper({ volumes: [{ name: 'v', hostPath: { path: `/nonexistent/${n}` } }] }))
  const f = file(t, [pod(`${n}-ok`), broken])
  for (const args of [
    ['run', '-d', f],
    ['run', f],
  ]) {
    const run = await cli(root, ...args)
    t.equal(run.code, 1, args.join(' '))
    t.match(run.stderr, `removing the 1 pod(s) already started: ${n}-ok`)
    t.match(run.stderr, `volume.hostpath: /nonexistent/${n}: does not exist`)
    t.same(await psNames(root), [], `${args.join(' ')}: no pod left`)
  }
})

t.test('rm -f FILE removes the pods run FILE made; without -f a running one is refused', { skip }, async t => {
  const root = newRoot(t)
  const n = uniqueName('rmf')
  const f = file(t, [pod(`${n}-a`), pod(`${n}-b`)])
  const run = await cli(root, 'run', '-d', f)
  t.equal(run.code, 0, run.stderr)
  const records = run.stdout
    .trim()
    .split('\n')
    .map(id => readPodRecord(root, id))
  const refused = await cli(root, 'rm', f)
  t.equal(refused.code, 1)
  t.match(refused.stderr, `pod.rm: ${n}-a: the pod is Running`)
  const rm = await cli(root, 'rm', '-f', f)
  t.equal(rm.code, 0, rm.stderr)
  t.same(rm.stdout.trim().split('\n'), [`${n}-a`, `${n}-b`])
  for (const r of records) t.same(leftovers(root, r), [])
  t.same(await psNames(root), [])
})
