// Probes against real listeners inside real pods: busybox httpd, busybox nc,
// a node:http2 gRPC health server, exec probes; liveness kills and restarts,
// readiness flips, the startup probe gates liveness. Network probes connect
// from inside the pod's net namespace: the host has no such listener.
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PodEvent } from '../../src/index.js'
import { requires } from '../helpers/requires.js'
import { FIXTURES, manifest, start, terminated, uniqueName } from '../helpers/pods.js'

const skip = requires('root', 'built')
const fast = { initialMs: 50, maxMs: 400, resetAfterMs: 800_000 }
const every1s = { periodSeconds: 1, timeoutSeconds: 1 }

/** Events of a pod, and a way to await the next one that matches. */
function eventLog() {
  const events: PodEvent[] = []
  const waiters: { match: (e: PodEvent) => boolean; resolve: (e: PodEvent) => void }[] = []
  const onEvent = (e: PodEvent) => {
    events.push(e)
    for (const w of [...waiters]) {
      if (!w.match(e)) continue
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve(e)
    }
  }
  /** The first event (seen already, or to come) that matches, within `ms`. */
  const next = <T extends PodEvent>(match: (e: PodEvent) => boolean, ms = 15_000, from = 0): Promise<T> => {
    const seen = events.slice(from).find(match)
    if (seen) return Promise.resolve(seen as T)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching event within ${ms}ms; saw ${JSON.stringify(events.map(e => e.type))}`)), ms)
      waiters.push({ match, resolve: e => (clearTimeout(timer), resolve(e as T)) })
    })
  }
  return { events, onEvent, next }
}
const is =
  (type: PodEvent['type'], container: string, more: (e: any) => boolean = () => true) =>
  (e: PodEvent) =>
    e.type === type && 'container' in e && e.container === container && more(e)

/** True when nothing on the host's own loopback listens on `port` (so a passing probe must have been inside the pod). */
const hostRefuses = (port: number) =>
  new Promise<boolean>(resolve => {
    const s = connect(port, '127.0.0.1')
    s.on('connect', () => (s.destroy(), resolve(false)))
    s.on('error', () => resolve(true))
  })

t.test('httpGet: a 200 from busybox httpd makes the container ready; a 404 fails the probe', { skip }, async t => {
  const port = 18080
  t.ok(await hostRefuses(port), 'nothing listens on the host')
  const log = eventLog()
  const { pod } = await start(
    t,
    manifest(
      uniqueName('http'),
      [
        {
          name: 'web',
          command: ['sh', '-c', `mkdir -p /tmp/www && echo fine > /tmp/www/healthz && exec busybox httpd -f -p ${port} -h /tmp/www`],
          ports: [{ name: 'http', containerPort: port }],
          readinessProbe: { httpGet: { path: '/healthz', port: 'http', httpHeaders: [{ name: 'X-Check', value: '1' }] }, ...every1s },
        } as never,
        { name: 'other', command: ['sleep', '600'], readinessProbe: { httpGet: { path: '/missing', port }, ...every1s } } as never,
      ],
      { restartPolicy: 'Never' },
    ),
    { onEvent: log.onEvent },
  )
  await log.next(is('container-condition', 'web', e => e.ready))
  // Attempts made before the server listened were refused: look at the ones after it answered.
  const failed = await log.next<Extract<PodEvent, { type: 'probe-failed' }>>(is('probe-failed', 'other'), 15_000, log.events.length)
  t.equal(failed.message, 'Readiness probe failed: HTTP probe failed with statuscode: 404')
  t.equal(failed.probe, 'readiness')
  const [web, other] = pod.statuses.containers
  t.match(web, { ready: true, started: true })
  t.match(other, { ready: false, started: true })
})

t.test('httpGet: HTTPS without certificate checks (as kubelet), httpHeaders sent, same-host redirects followed', { skip }, async t => {
  const port = 18443
  t.ok(await hostRefuses(port), 'nothing listens on the host')
  const log = eventLog()
  const { pod, waitFor, lines } = await start(
    t,
    manifest(
      uniqueName('https'),
      [
        {
          name: 'web',
          command: [process.execPath, join(FIXTURES, 'https-server.mjs'), String(port), 'https'],
          readinessProbe: { httpGet: { scheme: 'HTTPS', path: '/old', port, httpHeaders: [{ name: 'X-Check', value: 'probe-1' }] }, ...every1s },
        } as never,
        { name: 'away', command: ['sleep', '600'], readinessProbe: { httpGet: { scheme: 'HTTPS', path: '/away', port }, ...every1s } } as never,
        { name: 'broken', command: ['sleep', '600'], readinessProbe: { httpGet: { scheme: 'HTTPS', path: '/broken', port }, ...every1s } } as never,
      ],
      { restartPolicy: 'Never' },
    ),
    { onEvent: log.onEvent },
  )
  await log.next(is('container-condition', 'web', e => e.ready))
  await log.next(is('container-condition', 'away', e => e.ready))
  const failed = await log.next<Extract<PodEvent, { type: 'probe-failed' }>>(is('probe-failed', 'broken'), 15_000, log.events.length)
  t.equal(failed.message, 'Readiness probe failed: HTTP probe failed with statuscode: 500')
  t.match(await waitFor('web', /^GET \/old /), new RegExp(`x-check=probe-1 ua=kube-probe/\\S+ host=127\\.0\\.0\\.1:${port}$`))
  t.match(await waitFor('web', /^GET \/healthz /), /x-check=probe-1/, 'the redirect was followed with the same headers')
  t.notOk(
    lines('web').some(l => l.includes('198.18')),
    'a redirect to another host is not followed',
  )
  t.same(
    pod.statuses.containers.map(s => s.ready),
    [true, true, false],
  )
})

t.test('httpGet and tcpSocket liveness against a closed port fail with connection refused', { skip }, async t => {
  const log = eventLog()
  await start(
    t,
    manifest(
      uniqueName('refused'),
      [
        { name: 'a', command: ['sleep', '600'], livenessProbe: { httpGet: { port: 18081 }, ...every1s, failureThreshold: 100 } } as never,
        { name: 'b', command: ['sleep', '600'], livenessProbe: { tcpSocket: { port: 18081 }, ...every1s, failureThreshold: 100 } } as never,
      ],
      { restartPolicy: 'Never' },
    ),
    { onEvent: log.onEvent },
  )
  const a = await log.next<Extract<PodEvent, { type: 'probe-failed' }>>(is('probe-failed', 'a'))
  const b = await log.next<Extract<PodEvent, { type: 'probe-failed' }>>(is('probe-failed', 'b'))
  t.equal(a.message, 'Liveness probe failed: Get "http://127.0.0.1:18081/": dial tcp 127.0.0.1:18081: connect: connection refused')
  t.equal(b.message, 'Liveness probe failed: dial tcp 127.0.0.1:18081: connect: connection refused')
})

t.test('a listener that never answers: httpGet, HTTPS and grpc fail after timeoutSeconds; HTTPS to plain HTTP fails', { skip }, async t => {
  const port = 19200
  const log = eventLog()
  await start(
    t,
    manifest(
      uniqueName('silent'),
      [
        { name: 'silent', command: ['busybox', 'nc', '-ll', '-p', String(port), '-e', 'sleep', '600'] },
        { name: 'web', command: ['sh', '-c', `mkdir -p /tmp/www && exec busybox httpd -f -p ${port + 1} -h /tmp/www`] },
        { name: 'http', command: ['sleep', '600'], readinessProbe: { httpGet: { port }, ...every1s } } as never,
        { name: 'https', command: ['sleep', '600'], readinessProbe: { httpGet: { port, scheme: 'HTTPS' }, ...every1s } } as never,
        { name: 'grpc', command: ['sleep', '600'], readinessProbe: { grpc: { port }, ...every1s } } as never,
        {
          name: 'tls',
          command: ['sleep', '600'],
          readinessProbe: { httpGet: { port: port + 1, scheme: 'HTTPS' }, ...every1s, failureThreshold: 100 },
        } as never,
      ],
      { restartPolicy: 'Never' },
    ),
    { onEvent: log.onEvent },
  )
  const message = async (c: string, re: RegExp) =>
    (await log.next<Extract<PodEvent, { type: 'probe-failed' }>>(is('probe-failed', c, e => re.test(e.message)))).message
  t.equal(await message('http', /timeout/), `Readiness probe failed: Get "http://127.0.0.1:${port}/": timeout awaiting the response`)
  t.equal(await message('https', /timeout/), `Readiness probe failed: Get "https://127.0.0.1:${port}/": TLS handshake timeout`)
  t.equal(await message('grpc', /timeout/), 'Readiness probe failed: timeout: health rpc did not complete within 1s')
  t.equal(await message('tls', /tls:/), `Readiness probe failed: Get "https://127.0.0.1:${port + 1}/": tls: wrong version number`)
})

t.test('tcpSocket: a busybox nc listener in the pod passes, a port without one fails', { skip }, async t => {
  const port = 19000
  t.ok(await hostRefuses(port), 'nothing listens on the host')
  const log = eventLog()
  const { pod } = await start(
    t,
    manifest(
      uniqueName('tcp'),
      [
        { name: 'srv', command: ['busybox', 'nc', '-ll', '-p', String(port), '-e', 'true'], readinessProbe: { tcpSocket: { port }, ...every1s } } as never,
        { name: 'other', command: ['sleep', '600'], readinessProbe: { tcpSocket: { port: port + 1 }, ...every1s } } as never,
      ],
      { restartPolicy: 'Never' },
    ),
    { onEvent: log.onEvent },
  )
  await log.next(is('container-condition', 'srv', e => e.ready))
  const failed = await log.next<Extract<PodEvent, { type: 'probe-failed' }>>(is('probe-failed', 'other'), 15_000, log.events.length)
  t.equal(failed.message, `Readiness probe failed: dial tcp 127.0.0.1:${port + 1}: connect: connection refused`)
  t.same(
    pod.statuses.containers.map(s => s.ready),
    [true, false],
  )
})

t.test('grpc: health v1 Check against a node:http2 server in the pod; NOT_SERVING and unknown services fail', { skip }, async t => {
  const port = 15051
  t.ok(await hostRefuses(port), 'nothing listens on the host')
  const log = eventLog()
  const { pod, waitFor } = await start(
    t,
    manifest(
      uniqueName('grpc'),
      [
        {
          name: 'grpc',
          command: [process.execPath, join(FIXTURES, 'grpc-health.mjs'), String(port), 'down=NOT_SERVING'],
          readinessProbe: { grpc: { port }, ...every1s },
        } as never,
        { name: 'down', command: ['sleep', '600'], readinessProbe: { grpc: { port, service: 'down' }, ...every1s } } as never,
        { name: 'nosuch', command: ['sleep', '600'], readinessProbe: { grpc: { port, service: 'nosuch' }, ...every1s } } as never,
      ],
      { restartPolicy: 'Never' },
    ),
    { onEvent: log.onEvent },
  )
  await log.next(is('container-condition', 'grpc', e => e.ready))
  t.match(await waitFor('grpc', /^check service=""/), /ua=kube-probe\//)
  const from = log.events.length
  const down = await log.next<Extract<PodEvent, { type: 'probe-failed' }>>(is('probe-failed', 'down'), 15_000, from)
  t.equal(down.message, 'Readiness probe failed: service unhealthy (responded with "NOT_SERVING")')
  const nosuch = await log.next<Extract<PodEvent, { type: 'probe-failed' }>>(is('probe-failed', 'nosuch'), 15_000, from)
  t.equal(nosuch.message, 'Readiness probe failed: health rpc probe failed: rpc error: code = NotFound desc = unknown service')
  t.same(
    pod.statuses.containers.map(s => s.ready),
    [true, false, false],
  )
})

t.test('a hostNetwork pod is probed in the host network namespace', { skip }, async t => {
  const port = 19100
  t.ok(await hostRefuses(port), 'nothing listens on the host yet')
  const log = eventLog()
  const { pod } = await start(
    t,
    manifest(
      uniqueName('hostnet'),
      [
        {
          name: 'srv',
          command: [process.execPath, join(FIXTURES, 'https-server.mjs'), String(port), 'http'],
          readinessProbe: { httpGet: { port, path: '/healthz' }, ...every1s },
        } as never,
      ],
      { restartPolicy: 'Never', hostNetwork: true },
    ),
    { onEvent: log.onEvent },
  )
  await log.next(is('container-condition', 'srv', e => e.ready))
  t.notOk(await hostRefuses(port), 'the listener is on the host loopback')
  t.equal(pod.statuses.containers[0].ready, true)
})

t.test('exec readiness flips ready both ways as a file comes and goes; a slow exec probe times out', { skip }, async t => {
  const log = eventLog()
  const { pod } = await start(
    t,
    manifest(
      uniqueName('exec'),
      [
        { name: 'app', command: ['sleep', '600'], readinessProbe: { exec: { command: ['test', '-f', '/dev/shm/ready'] }, ...every1s } } as never,
        { name: 'slow', command: ['sleep', '600'], readinessProbe: { exec: { command: ['sleep', '5'] }, ...every1s } } as never,
      ],
      { restartPolicy: 'Never' },
    ),
    { onEvent: log.onEvent },
  )
  await log.next(is('probe-failed', 'app'))
  t.equal(pod.statuses.containers[0].ready, false, 'not ready without the file')
  const flag = join(pod.dir.shm, 'ready')
  writeFileSync(flag, '')
  let from = log.events.length
  await log.next(
    is('container-condition', 'app', e => e.ready),
    15_000,
    from,
  )
  t.equal(pod.statuses.containers[0].ready, true)
  unlinkSync(flag)
  from = log.events.length
  await log.next(
    is('container-condition', 'app', e => !e.ready),
    15_000,
    from,
  )
  t.equal(pod.statuses.containers[0].ready, false)
  const slow = await log.next<Extract<PodEvent, { type: 'probe-failed' }>>(is('probe-failed', 'slow'))
  t.equal(slow.message, 'Readiness probe failed: command "sleep 5" timed out')
})

t.test('a failing liveness probe kills the container, which restarts with the reason in lastState', { skip }, async t => {
  const log = eventLog()
  const { pod } = await start(
    t,
    manifest(
      uniqueName('live'),
      [
        {
          name: 'app',
          command: ['sleep', '600'],
          livenessProbe: { tcpSocket: { port: 19 }, ...every1s, failureThreshold: 2, terminationGracePeriodSeconds: 1 },
        } as never,
      ],
      { restartPolicy: 'Always' },
    ),
    { onEvent: log.onEvent, backoff: fast },
  )
  const kill = await log.next<Extract<PodEvent, { type: 'container-killing' }>>(is('container-killing', 'app'))
  t.equal(kill.message, 'Container app failed liveness probe, will be restarted')
  t.equal(kill.reason, 'LivenessProbe')
  await log.next(is('container-started', 'app', e => e.restartCount === 1))
  const s = pod.statuses.containers[0]
  t.equal(s.restartCount, 1)
  t.match(s.lastState?.terminated, { exitCode: 137, signal: 'SIGKILL', message: 'Container app failed liveness probe, will be restarted' })
  t.equal(log.events.filter(is('probe-failed', 'app')).length >= 2, true, 'failureThreshold failures came first')
})

t.test('the startup probe gates liveness; once it passes liveness runs (and here kills)', { skip }, async t => {
  const log = eventLog()
  const { pod } = await start(
    t,
    manifest(
      uniqueName('startup'),
      [
        {
          name: 'app',
          command: ['sleep', '600'],
          startupProbe: { exec: { command: ['test', '-f', '/dev/shm/up'] }, ...every1s, failureThreshold: 60 },
          livenessProbe: { exec: { command: ['false'] }, ...every1s, failureThreshold: 1, terminationGracePeriodSeconds: 1 },
        } as never,
      ],
      { restartPolicy: 'Never' },
    ),
    { onEvent: log.onEvent },
  )
  await log.next(is('probe-failed', 'app', e => e.probe === 'startup'))
  await log.next(
    is('probe-failed', 'app', e => e.probe === 'startup'),
    15_000,
    log.events.findIndex(is('probe-failed', 'app')) + 1,
  )
  t.match(pod.statuses.containers[0], { started: false, ready: false })
  t.notOk(log.events.some(is('probe-failed', 'app', e => e.probe === 'liveness')), 'no liveness probe before startup passed')
  let startedYet = false
  const started = pod.runners[0].whenStarted().then(ok => ((startedYet = true), ok))
  await new Promise(r => setTimeout(r, 50))
  t.equal(startedYet, false, 'whenStarted waits for the startup probe')
  writeFileSync(join(pod.dir.shm, 'up'), '')
  await log.next(is('container-condition', 'app', e => e.started && e.ready))
  t.equal(await started, true, 'whenStarted resolves once the startup probe passed')
  const kill = await log.next<Extract<PodEvent, { type: 'container-killing' }>>(is('container-killing', 'app'))
  t.equal(kill.message, 'Container app failed liveness probe', 'Never: no "will be restarted"')
  const result = await pod.wait()
  t.equal(result.phase, 'Failed')
  t.match(terminated(result, 'app'), { exitCode: 137, message: 'Container app failed liveness probe' })
  t.equal(result.containerStatuses[0].restartCount, 0)
})

t.test('a failing startup probe kills the container after failureThreshold tries', { skip }, async t => {
  const log = eventLog()
  const { pod } = await start(
    t,
    manifest(
      uniqueName('startfail'),
      [
        {
          name: 'app',
          command: ['sleep', '600'],
          startupProbe: { exec: { command: ['false'] }, ...every1s, failureThreshold: 2, terminationGracePeriodSeconds: 1 },
        } as never,
      ],
      { restartPolicy: 'Never' },
    ),
    { onEvent: log.onEvent },
  )
  const started = pod.runners[0].whenStarted()
  const kill = await log.next<Extract<PodEvent, { type: 'container-killing' }>>(is('container-killing', 'app'))
  t.equal(kill.message, 'Container app failed startup probe')
  t.equal(kill.reason, 'StartupProbe')
  const result = await pod.wait()
  t.match(terminated(result, 'app'), { exitCode: 137, message: 'Container app failed startup probe' })
  t.equal(log.events.filter(is('probe-failed', 'app')).length, 2)
  t.equal(await started, false, 'whenStarted says false when the container never started')
})

t.test('without probes: ready while running; a completed init container stays ready, an ended container does not', { skip }, async t => {
  const log = eventLog()
  const { pod } = await start(
    t,
    manifest(uniqueName('noprobe'), [{ name: 'app', command: ['sleep', '600'] }], {
      restartPolicy: 'Never',
      initContainers: [{ name: 'init', command: ['true'] }],
    }),
    { onEvent: log.onEvent },
  )
  await log.next(is('container-condition', 'app', e => e.started && e.ready))
  t.match(pod.statuses.init[0], { ready: true, started: false })
  t.match(pod.statuses.containers[0], { ready: true, started: true })
  const result = await pod.stop({ gracePeriodSeconds: 1 })
  t.match(result.containerStatuses[0], { ready: false, started: false })
})

t.test('probes leave no socket or timer behind when the pod stops', { skip }, async t => {
  const count = () => {
    const m = new Map<string, number>()
    for (const r of process.getActiveResourcesInfo()) m.set(r, (m.get(r) ?? 0) + 1)
    return m
  }
  const before = count()
  const log = eventLog()
  const { pod } = await start(
    t,
    manifest(
      uniqueName('leak'),
      [
        {
          name: 'web',
          command: ['busybox', 'httpd', '-f', '-p', '18082', '-h', '/'],
          readinessProbe: { httpGet: { port: 18082, path: '/etc/hostname' }, ...every1s },
          livenessProbe: { tcpSocket: { port: 18082 }, ...every1s },
        } as never,
        {
          name: 'g',
          command: ['sleep', '600'],
          readinessProbe: { grpc: { port: 18083 }, ...every1s },
          livenessProbe: { exec: { command: ['true'] }, ...every1s },
        } as never,
      ],
      { restartPolicy: 'Never' },
    ),
    { onEvent: log.onEvent },
  )
  await log.next(is('probe-failed', 'g'))
  await log.next(is('container-condition', 'web', e => e.ready))
  await pod.stop({ gracePeriodSeconds: 1 })
  // Longer than a probe period: a probe loop still alive would have re-armed its timer by now.
  const n = log.events.length
  await new Promise(r => setTimeout(r, 1500))
  t.equal(log.events.length, n, 'no probe ran after the pod stopped')
  const after = count()
  for (const kind of ['TCPSocketWrap', 'TCPWrap', 'Timeout', 'Http2Session', 'PipeWrap'])
    t.equal(after.get(kind) ?? 0, before.get(kind) ?? 0, `${kind} count back to where it was`)
  // The sockets were made on short-lived threads that joined the pod's namespace: none of ours stayed there.
  const own = readlinkSync('/proc/self/ns/net')
  t.same(
    readdirSync('/proc/self/task')
      .map(task => readlinkSync(`/proc/self/task/${task}/ns/net`))
      .filter(ns => ns !== own),
    [],
    'every thread of this process is still in its own net namespace',
  )
})

// ps and inspect read the record a detached pod's engine writes.
const BIN = fileURLToPath(new URL('../../bin/pod-launch', import.meta.url))
const cli = (root: string, ...args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>(resolve =>
    execFile(process.execPath, [BIN, '--root', root, ...args], (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  )

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await f()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, 200))
  }
}

t.test('ps shows READY n/m and inspect the Ready and ContainersReady conditions of a detached pod', { skip }, async t => {
  const root = mkdtempSync(join(tmpdir(), 'pl-probes-'))
  t.teardown(async () => {
    for (const id of existsSync(root) ? readdirSync(root).filter(d => /^[0-9a-f-]{36}$/.test(d)) : []) await cli(root, 'rm', '--force', id)
    rmSync(root, { recursive: true, force: true })
  })
  const name = uniqueName('psready')
  const file = join(t.testdir(), 'pod.json')
  writeFileSync(
    file,
    JSON.stringify(
      manifest(
        name,
        [
          { name: 'app', command: ['sleep', '600'], readinessProbe: { exec: { command: ['test', '-f', '/dev/shm/ready'] }, ...every1s } } as never,
          { name: 'side', command: ['sleep', '600'] },
        ],
        { restartPolicy: 'Never', terminationGracePeriodSeconds: 1 },
      ),
    ),
  )
  const run = await cli(root, 'run', '-d', file)
  t.equal(run.code, 0, run.stderr)
  const id = run.stdout.trim()
  const ps = async () => (JSON.parse((await cli(root, 'ps', '--json')).stdout) as { pod: string; ready: string }[]).find(p => p.pod === name)?.ready
  t.equal(await until('side ready', async () => ((await ps()) === '1/2' ? '1/2' : undefined)), '1/2')
  let inspect = JSON.parse((await cli(root, 'inspect', name)).stdout)
  t.match(inspect.status.conditions, [
    { type: 'PodReadyToStartContainers', status: 'True' },
    { type: 'Initialized', status: 'True' },
    { type: 'Ready', status: 'False' },
    { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]' },
    { type: 'PodScheduled' },
  ])
  t.same(
    inspect.status.containerStatuses.map((s: { ready: boolean }) => s.ready),
    [false, true],
  )
  writeFileSync(join(root, id, 'shm', 'ready'), '')
  t.equal(await until('app ready', async () => ((await ps()) === '2/2' ? '2/2' : undefined)), '2/2')
  inspect = JSON.parse((await cli(root, 'inspect', name)).stdout)
  t.match(inspect.status.conditions.slice(2, 4), [
    { type: 'Ready', status: 'True' },
    { type: 'ContainersReady', status: 'True' },
  ])
  t.equal((await cli(root, 'stop', name)).code, 0)
})
