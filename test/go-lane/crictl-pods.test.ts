// crictl end to end against `pod-launch cri`: runp, create, start, ps, logs,
// exec -s, inspectp, inspect, stats, stop, stopp, rmp, on a CNI network in
// 198.18.0.0/24, with the image pulled from the lane's registry. A removed
// sandbox leaves no directory, cgroup, veth or address reservation behind.
import t from 'tap'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { guardHost, testNetwork } from '../helpers/cni.js'
import { critestRegistry, requiresGoLane, startCri, type CriServer } from '../helpers/cri.js'

const skip = requiresGoLane()
const BRIDGE = 'pltcri1'
const PARENT = 'pl-cri-crictl'

t.test('crictl runs a pod through pod-launch cri', { skip }, async t => {
  guardHost(t, [BRIDGE])
  const net = testNetwork(t, { name: 'pl-cri-crictl', bridge: BRIDGE })
  let cri: CriServer | undefined
  t.teardown(async () => {
    await cri?.destroy()
  })
  cri = await startCri({ cniConfDir: net.confDir, cgroupParent: PARENT })
  const c = cri
  const image = `${critestRegistry()}/e2e-test-images/busybox:1.29-2`
  const logs = join(c.dir, 'logs')
  mkdirSync(logs)
  const podFile = join(c.dir, 'pod.json')
  writeFileSync(
    podFile,
    JSON.stringify({
      metadata: { name: 'web', uid: 'web-uid-1', namespace: 'team-a', attempt: 1 },
      hostname: 'web-host',
      log_directory: logs,
      dns_config: { servers: ['198.18.0.53'], searches: ['svc.example'], options: ['ndots:2'] },
      labels: { app: 'web', tier: 'front' },
      annotations: { 'example.com/note': 'kept verbatim' },
      linux: {},
    }),
  )
  const ctrFile = (name: string, command: string[]) => {
    const file = join(c.dir, `${name}.json`)
    writeFileSync(file, JSON.stringify({ metadata: { name }, image: { image }, command, log_path: `${name}.log`, labels: { role: name }, linux: {} }))
    return file
  }
  const ok = async (...args: string[]) => {
    const out = await c.crictl(...args)
    t.equal(out.code, 0, `crictl ${args.join(' ')}: ${out.stderr}`)
    return out.stdout.trim()
  }

  await ok('pull', image)
  const pod = await ok('runp', podFile)
  t.match(pod, /^[0-9a-f]{64}$/, 'runp prints the sandbox id')

  const podStatus = JSON.parse(await ok('inspectp', pod)) as {
    status: { state: string; network: { ip: string }; labels: Record<string, string>; annotations: Record<string, string>; metadata: { namespace: string } }
    info: { pid: number; namespaces: Record<string, number> }
  }
  t.equal(podStatus.status.state, 'SANDBOX_READY')
  t.match(podStatus.status.network.ip, /^198\.18\.0\.\d+$/, 'the pod IP comes from CNI')
  t.same(podStatus.status.labels, { app: 'web', tier: 'front' })
  t.same(podStatus.status.annotations, { 'example.com/note': 'kept verbatim' })
  t.equal(podStatus.status.metadata.namespace, 'team-a')
  t.ok(podStatus.info.pid > 0, 'verbose info names pause')
  t.ok(podStatus.info.namespaces.net > 0, 'and its namespaces')
  t.equal(net.reserved().length, 1, 'host-local reserved one address')

  t.match(await ok('pods', '--label', 'app=web'), /web\s+team-a\s+1/)
  t.equal(await ok('pods', '-q', '--label', 'app=other'), '', 'a label selector filters')

  const app = await ok('create', pod, ctrFile('app', ['sh', '-c', 'echo started; echo oops >&2; sleep 1000']), podFile)
  const done = await ok('create', pod, ctrFile('once', ['sh', '-c', 'echo bye; exit 3']), podFile)
  t.match(await ok('ps', '-a', '--pod', pod), /app\s+0\s/)
  await ok('start', app)
  await ok('start', done)
  // `once` exits on its own: wait until crictl sees it exited, then only `app` runs.
  for (let i = 0; i < 50 && !(await c.crictl('ps', '--state', 'Exited', '-q')).stdout.includes(done); i++) await new Promise(r => setTimeout(r, 100))
  t.match(await ok('ps', '--state', 'Running', '-q'), new RegExp(`^${app}$`), 'ps --state Running lists the running one')

  for (let i = 0; i < 50 && !readFileSync(join(logs, 'app.log'), 'utf8').includes('oops'); i++) await new Promise(r => setTimeout(r, 100))
  const log = await c.crictl('logs', app)
  t.equal(log.stdout, 'started\n')
  t.equal(log.stderr.replace(/^time=.*level=warning.*\n/gm, ''), 'oops\n')
  t.match(
    readFileSync(join(logs, 'app.log'), 'utf8'),
    /^\S+Z stdout F started\n\S+Z stderr F oops\n$/,
    'the log file is in the CRI format, under log_directory',
  )

  const exec = await c.crictl('exec', '-s', app, 'sh', '-c', 'hostname; cat /etc/resolv.conf; echo to-err >&2')
  t.equal(exec.code, 0, exec.stderr)
  t.match(exec.stdout, /^web-host\n/, 'the sandbox hostname')
  t.match(exec.stdout, /nameserver 198\.18\.0\.53/, 'the DNS config')
  t.match(exec.stdout, /search svc\.example/)
  t.match(exec.stdout, /options ndots:2/)
  const failed = await c.crictl('exec', '-s', app, 'sh', '-c', 'exit 7')
  t.not(failed.code, 0)
  t.match(failed.stderr, /exited with 7/)

  const stats = JSON.parse(await ok('stats', '-o', 'json', app)) as { stats: { memory: { workingSetBytes: { value: string } } }[] }
  t.ok(Number(stats.stats[0].memory.workingSetBytes.value) > 0, 'stats from the container cgroup')

  const exited = JSON.parse(await ok('inspect', done)) as { status: { state: string; exitCode: number; reason: string; finishedAt: string } }
  t.equal(exited.status.state, 'CONTAINER_EXITED')
  t.equal(exited.status.exitCode, 3)
  t.equal(exited.status.reason, 'Error')

  await ok('stop', '-t', '2', app)
  const stopped = JSON.parse(await ok('inspect', app)) as { status: { state: string; exitCode: number; reason: string } }
  t.equal(stopped.status.state, 'CONTAINER_EXITED')
  t.equal(stopped.status.exitCode, 143, 'SIGTERM ended sleep')

  await ok('stopp', pod)
  await ok('stopp', pod) // idempotent
  t.equal(net.reserved().length, 0, 'CNI DEL released the address')
  await ok('rmp', pod)
  t.equal(await ok('pods', '-q'), '')
  t.equal(await ok('ps', '-a', '-q'), '')
  t.notOk(existsSync(join(c.root, pod)), 'no pod directory remains')
  t.notOk(existsSync(`/sys/fs/cgroup/memory/${PARENT}/pod-${pod}`), 'no pod cgroup remains')
  t.same(net.ports(), [], 'no veth remains on the bridge')
  const missing = await c.crictl('inspectp', pod)
  t.not(missing.code, 0, 'inspectp of a removed sandbox fails')
  t.match(missing.stderr, /NotFound|not found/)
})
