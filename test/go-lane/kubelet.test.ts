// The kubelet lane (issue 20): an unmodified kubelet (k8s.io/kubernetes,
// scripts/go-tools.sh kubelet) runs static pods on `pod-launch cri`, with no
// API server. Checked from kubelet's /pods and from our side (crictl):
// a two-container pod sharing an emptyDir, exec, logs and port-forward
// through kubelet's own server, a crash loop with kubelet's backoff, an exec
// liveness and an httpGet readiness probe, an OOM kill, and removal of the
// manifest leaving nothing behind, and a restart of `pod-launch cri` under
// the running kubelet losing no pod. Go lane: root, Go, the lane's registry;
// kubelet is built once per go.sum (docs/kubelet.md). Alone:
//   bash scripts/go-lane.sh test/go-lane/kubelet.test.ts
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs'
import { get } from 'node:http'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requiresGoLane } from '../helpers/cri.js'
import { goTool, KubeletLane, IMAGE, NODE } from '../helpers/kubelet-lane.js'

const skip = requiresGoLane()
const PORT = 10350

/** GET or POST a path of kubelet's own (TLS, self-signed, anonymous) server. */
function kubeletApi(path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: PORT, path, method, rejectUnauthorized: false, timeout: 30_000 }, res => {
      let body = ''
      res.on('data', d => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** `streamclient exec URL ...`: stdout, stderr and its outcome. */
function streamExec(
  client: string,
  url: string,
  args: string[] = [],
): Promise<{ stdout: string; stderr: string; result: { exitCode?: number; error?: string } }> {
  const result = join(mkdtempSync(join(tmpdir(), 'pl-kube-exec-')), 'result.json')
  return new Promise(resolve => {
    const p = spawn(client, ['exec', url, '-result', result, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000)
    p.on('close', () => {
      clearTimeout(timer)
      const text = existsSync(result) ? readFileSync(result, 'utf8') : '{"error":"no result written"}'
      rmSync(join(result, '..'), { recursive: true, force: true })
      resolve({ stdout, stderr, result: JSON.parse(text) as { exitCode?: number; error?: string } })
    })
  })
}

t.test('kubelet runs static pods on pod-launch cri', { skip }, async t => {
  const lane = await KubeletLane.start(t, { bridge: 'pltkube1', cgroupParent: 'pl-kubelet-pods', port: PORT })
  const kube = lane.kube
  const c = lane.cri
  const client = goTool('streamclient')
  const pod = (name: string) => lane.pod(name)
  const status = (name: string, container: string) => lane.status(name, container)
  const waitFor = (what: string, fn: () => Promise<boolean>, ms?: number) => lane.waitFor(what, fn, ms)
  const manifest = (name: string, spec: object) => lane.manifest(name, spec)
  const crictlIds = (...filter: string[]) => lane.containerIds(...filter)
  const podId = async (name: string) => (await lane.sandboxIds(name))[0]
  t.notMatch(kube.log, /kubelet is configured to not run on a host using cgroup v1/, 'it runs on this hybrid host (failCgroupV1: false)')

  t.test('a two-container pod sharing an emptyDir starts', async t => {
    const file = manifest('share', {
      terminationGracePeriodSeconds: 2,
      volumes: [{ name: 'scratch', emptyDir: {} }],
      containers: [
        {
          name: 'writer',
          image: IMAGE,
          command: ['sh', '-c', 'echo from-the-writer > /data/note; echo writer up; exec sleep 100000'],
          volumeMounts: [{ name: 'scratch', mountPath: '/data' }],
        },
        {
          name: 'web',
          image: IMAGE,
          command: ['sh', '-c', 'mkdir -p /www && echo served by the pod > /www/index.html && exec httpd -f -p 8080 -h /www'],
          volumeMounts: [{ name: 'scratch', mountPath: '/shared' }],
        },
      ],
    })
    await waitFor('both containers running', async () => {
      const p = await pod('share')
      return p?.status?.phase === 'Running' && (p.status.containerStatuses ?? []).filter(s => s.state.running).length === 2
    })
    t.equal((await crictlIds('--pod', await podId('share'), '--state', 'Running')).length, 2, 'crictl ps shows both running')
    // What the README shows: kubelet's view and ours.
    const p = (await pod('share'))!
    t.comment(`/pods: ${p.metadata.name} ${p.status?.phase} ${(p.status?.containerStatuses ?? []).map(s => `${s.name}:${Object.keys(s.state)[0]}`).join(' ')}`)
    t.comment(`crictl pods:\n${(await c.crictl('pods')).stdout}`)
    t.comment(`crictl ps:\n${(await c.crictl('ps')).stdout}`)

    const base = `/exec/default/share-${NODE}/web?output=1&error=1`
    const cmd = (...argv: string[]) => argv.map(a => `&command=${encodeURIComponent(a)}`).join('')
    const r = await streamExec(client, `https://127.0.0.1:${PORT}${base}${cmd('cat', '/shared/note')}`)
    t.equal(r.stdout, 'from-the-writer\n', "exec through kubelet: the writer's file is in the other container's emptyDir")
    const code = await streamExec(client, `https://127.0.0.1:${PORT}${base}${cmd('sh', '-c', 'exit 4')}`)
    t.equal(code.result.exitCode, 4, 'the exit code comes back through kubelet')

    const logs = await kubeletApi(`/containerLogs/default/share-${NODE}/writer`)
    t.equal(logs.body, 'writer up\n', "kubelet reads the container's log where we wrote it")
    t.ok(
      readdirSync(kube.podLogs).some(d => d.startsWith(`default_share-${NODE}_`)),
      "the log is under kubelet's podLogsDir",
    )
    // port-forward through kubelet: its /portForward, our streaming server behind it.
    const pf = spawn(client, ['portforward', `https://127.0.0.1:${PORT}/portForward/default/share-${NODE}`, '-ports', '0:8080'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    t.teardown(() => void pf.kill('SIGKILL'))
    let pfOut = ''
    pf.stdout.on('data', (d: Buffer) => (pfOut += d.toString()))
    pf.stderr.on('data', (d: Buffer) => (pfOut += d.toString()))
    await waitFor('the port-forward listening', async () => /ready \d+:8080/.test(pfOut), 60_000)
    const local = Number(/ready (\d+):8080/.exec(pfOut)![1])
    const page = await new Promise<string>((resolve, reject) =>
      get({ host: '127.0.0.1', port: local, path: '/index.html' }, res => {
        let body = ''
        res.on('data', d => (body += d))
        res.on('end', () => resolve(body))
      }).on('error', reject),
    )
    t.equal(page, 'served by the pod\n', 'port-forward through kubelet reaches the pod')
    pf.stdin.end()
    pf.kill('SIGTERM')

    const sandbox = await podId('share')
    unlinkSync(file)
    await waitFor('the pod removed after its manifest went', () => lane.gone('share'))
    t.notOk(existsSync(join(c.root, sandbox)), 'no state directory of the sandbox is left')
    t.same(await crictlIds(), [], 'no container is left')
  })

  t.test('a crashing container is restarted with backoff (CrashLoopBackOff)', async t => {
    const file = manifest('crash', { containers: [{ name: 'fails', image: IMAGE, command: ['sh', '-c', 'echo crashing; exit 3'] }] })
    await waitFor('CrashLoopBackOff', async () => {
      const s = await status('crash', 'fails')
      return !!s && s.restartCount >= 2 && s.state.waiting?.reason === 'CrashLoopBackOff'
    })
    const s = (await status('crash', 'fails'))!
    t.equal(s.lastState?.terminated?.exitCode, 3, 'the last exit code')
    unlinkSync(file)
    await waitFor('crash removed', () => lane.gone('crash'))
  })

  t.test('an exec liveness probe and an httpGet readiness probe', async t => {
    const file = manifest('probes', {
      terminationGracePeriodSeconds: 2,
      containers: [
        {
          name: 'web',
          image: IMAGE,
          command: ['sh', '-c', 'mkdir -p /www && echo ok > /www/healthz && touch /tmp/alive && exec httpd -f -p 8080 -h /www'],
          livenessProbe: { exec: { command: ['test', '-e', '/tmp/alive'] }, periodSeconds: 2, failureThreshold: 2 },
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 2 },
        },
      ],
    })
    await waitFor('ready', async () => (await status('probes', 'web'))?.ready === true)
    t.equal((await status('probes', 'web'))!.restartCount, 0, 'alive: no restart')
    // The liveness probe fails once its file is gone: kubelet restarts the container (ExecSync said exit 1).
    const id = (await crictlIds('--name', 'web', '--state', 'Running'))[0]
    await c.crictl('exec', '-s', id, 'rm', '/tmp/alive')
    await waitFor('restarted by the liveness probe', async () => ((await status('probes', 'web'))?.restartCount ?? 0) >= 1)
    unlinkSync(file)
    await waitFor('probes removed', () => lane.gone('probes'))
  })

  t.test('a memory hog is reported OOMKilled', async t => {
    const file = manifest('hog', {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'hog',
          image: IMAGE,
          command: ['sh', '-c', 'x=a; while true; do x="$x$x"; done'],
          resources: { limits: { memory: '32Mi' } },
        },
      ],
    })
    await waitFor('OOMKilled', async () => (await status('hog', 'hog'))?.state.terminated?.reason === 'OOMKilled')
    t.equal((await status('hog', 'hog'))!.state.terminated?.exitCode, 137, 'killed by SIGKILL')
    unlinkSync(file)
    await waitFor('hog removed', () => lane.gone('hog'))
  })

  t.test("kubelet's log has no repeated error from a call to our runtime", async t => {
    // Errors of CRI calls carry the gRPC status ("rpc error: code = ..."); the rest are listed for the record.
    const repeated = [...kube.errors()].filter(([, n]) => n > 3)
    for (const [m, n] of repeated) t.comment(`${n}x ${m.slice(0, 400)}`)
    t.same(
      repeated.filter(([m]) => /rpc error/.test(m)).map(([m]) => m),
      [],
    )
  })

  // After the log check: kubelet logs the calls that failed while no server listened (a few, not repeated).
  t.test('restarting pod-launch cri under a running kubelet loses no pod', async t => {
    const file = manifest('steady', {
      terminationGracePeriodSeconds: 2,
      containers: [{ name: 'sleeper', image: IMAGE, command: ['sh', '-c', 'echo steady; exec sleep 100000'] }],
    })
    await waitFor('the pod running', async () => !!(await status('steady', 'sleeper'))?.state.running)
    const sandboxes = await lane.sandboxIds('steady')
    const containers = await crictlIds('--name', 'sleeper', '--state', 'Running')
    t.equal(sandboxes.length, 1, 'one sandbox')
    t.equal(containers.length, 1, 'one running container')

    await lane.restartCri()
    // kubelet syncs every 3 s (syncFrequency) and relists every second: give it ten syncs against the new server.
    await new Promise(r => setTimeout(r, 30_000))
    t.same(await lane.sandboxIds('steady'), sandboxes, 'the same sandbox, and no other')
    t.same(await crictlIds('--name', 'sleeper'), containers, 'the same container, and no other')
    t.same(await crictlIds('--name', 'sleeper', '--state', 'Running'), containers, 'still running')
    const s = await status('steady', 'sleeper')
    t.ok(s?.state.running, 'kubelet sees it running')
    t.equal(s?.restartCount, 0, 'kubelet restarted nothing')
    t.equal((await lane.cri.crictl('logs', containers[0])).stdout, 'steady\n', 'its log is still read')

    unlinkSync(file)
    await waitFor('the pod removed', () => lane.gone('steady'))
  })

  t.test('kubelet stops leaving no mount of its own', async t => {
    // Our pods live in kubelet's cgroup root: they go first.
    for (const f of readdirSync(kube.manifests)) unlinkSync(join(kube.manifests, f))
    await kube.stop()
    await c.crictl('rmp', '--all', '--force')
    kube.removeCgroupRoot()
    const mine = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter(l => l.includes(kube.dir))
    t.same(mine, [])
  })
})
