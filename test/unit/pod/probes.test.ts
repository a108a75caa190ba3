// The probe worker's threshold state machine, kubelet's startup -> liveness/
// readiness ordering, and the gRPC health message encoding, without root.
import t from 'tap'
import { ContainerProbes, ProbeCounter, probeKillMessage } from '../../../src/pod/probes.js'
import { grpcHealthRequest, grpcHealthStatus, type ProbeTarget } from '../../../src/pod/probe-kinds.js'
import type { Probe } from '../../../src/spec/index.js'

const thresholds = (successThreshold: number, failureThreshold: number) => ({ successThreshold, failureThreshold })

t.test("initial results are kubelet's: readiness failure, liveness success, startup unknown", async t => {
  t.equal(new ProbeCounter('readiness', thresholds(1, 3)).state, 'failure')
  t.equal(new ProbeCounter('liveness', thresholds(1, 3)).state, 'success')
  t.equal(new ProbeCounter('startup', thresholds(1, 3)).state, 'unknown')
})

t.test('failureThreshold consecutive failures are needed; a success in between starts over', async t => {
  const c = new ProbeCounter('liveness', thresholds(1, 3))
  t.same(
    ['failure', 'failure', 'success', 'failure', 'failure'].map(r => c.record(r as 'success' | 'failure')),
    [false, false, false, false, false],
  )
  t.equal(c.state, 'success')
  t.equal(c.record('failure'), true)
  t.equal(c.state, 'failure')
  t.equal(c.record('failure'), false, 'no change while it stays failed')
})

t.test('successThreshold consecutive successes make a readiness probe pass, one failure run of failureThreshold fails it', async t => {
  const c = new ProbeCounter('readiness', thresholds(2, 1))
  t.equal(c.record('success'), false)
  t.equal(c.state, 'failure')
  t.equal(c.record('success'), true)
  t.equal(c.state, 'success')
  t.equal(c.record('failure'), true)
  t.equal(c.state, 'failure')
})

t.test('after reset the run is counted afresh', async t => {
  const c = new ProbeCounter('startup', thresholds(1, 2))
  c.record('failure')
  c.reset()
  t.equal(c.record('failure'), false)
  t.equal(c.record('failure'), true)
})

t.test('the gRPC HealthCheckRequest is framed and encoded by hand', async t => {
  t.same([...grpcHealthRequest('')], [0, 0, 0, 0, 0])
  t.same([...grpcHealthRequest('svc')], [0, 0, 0, 0, 5, 0x0a, 3, 0x73, 0x76, 0x63])
  t.equal(grpcHealthStatus(Buffer.from([0, 0, 0, 0, 2, 0x08, 1])), 1)
  t.equal(grpcHealthStatus(Buffer.from([0, 0, 0, 0, 2, 0x08, 2])), 2)
  t.equal(grpcHealthStatus(Buffer.from([0, 0, 0, 0, 0])), 0, 'an absent status is UNKNOWN')
  t.throws(() => grpcHealthStatus(Buffer.from([1, 0])))
})

t.test("kill messages are kubelet's", async t => {
  t.equal(probeKillMessage('web', 'liveness', true), 'Container web failed liveness probe, will be restarted')
  t.equal(probeKillMessage('web', 'startup', false), 'Container web failed startup probe')
})

/** Poll (every 10 ms, up to 10 s) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 10_000; !cond();) {
    if (Date.now() > deadline) throw new Error('condition not reached in 10s')
    await new Promise(r => setTimeout(r, 10))
  }
}

const probe = (command: string, extra: Partial<Probe> = {}): Probe => ({
  handler: { kind: 'exec', command: [command] },
  initialDelaySeconds: 0,
  periodSeconds: 1,
  timeoutSeconds: 1,
  successThreshold: 1,
  failureThreshold: 1,
  ...extra,
})

/** A target whose exec answers from `answers` (exit 0 when the command's answer is true). */
function fakeTarget(answers: Record<string, () => boolean>, calls: string[]): ProbeTarget {
  return {
    netnsFd: undefined,
    address: '127.0.0.1',
    exec: async argv => {
      calls.push(argv[0])
      return { exitCode: answers[argv[0]]() ? 0 : 1, signal: null, output: `${argv[0]} said so`, timedOut: false } as never
    },
  }
}

t.test('startup runs first; liveness and readiness start only once it passed', async t => {
  const calls: string[] = []
  let startupOk = false
  const events: string[] = []
  const probes = new ContainerProbes(
    {
      startup: probe('startup', { periodSeconds: 0.05, failureThreshold: 100 }),
      liveness: probe('live', { periodSeconds: 0.05 }),
      readiness: probe('ready', { periodSeconds: 0.05 }),
    },
    fakeTarget({ startup: () => startupOk, live: () => true, ready: () => true }, calls),
    new Date(),
    {
      started: () => events.push('started'),
      ready: r => events.push(`ready=${r}`),
      failed: (k, m) => events.push(`failed ${k}: ${m}`),
      unhealthy: k => events.push(`unhealthy ${k}`),
      warn: () => {},
    },
  )
  probes.start()
  await until(() => calls.length >= 2)
  t.same(new Set(calls), new Set(['startup']), 'nothing but the startup probe while it fails')
  t.notOk(events.includes('started'))
  startupOk = true
  await until(() => events.includes('ready=true') && calls.includes('live'))
  probes.stop()
  t.ok(events.includes('started'))
  t.ok(events.includes('ready=true'))
  t.ok(calls.includes('live') && calls.includes('ready'))
  const n = calls.length
  await new Promise(r => setTimeout(r, 150))
  t.equal(calls.length, n, 'no probe runs after stop')
})

t.test('a liveness failure at the threshold asks for a kill once and stops probing', async t => {
  const calls: string[] = []
  const events: string[] = []
  const probes = new ContainerProbes(
    { liveness: probe('live', { periodSeconds: 0.02, failureThreshold: 3 }) },
    fakeTarget({ live: () => false }, calls),
    new Date(),
    {
      started: () => events.push('started'),
      ready: () => {},
      failed: (k, m) => events.push(`failed ${k}: ${m}`),
      unhealthy: k => events.push(`unhealthy ${k}`),
      warn: () => {},
    },
  )
  probes.start()
  await until(() => events.includes('unhealthy liveness'))
  await new Promise(r => setTimeout(r, 100))
  probes.stop()
  t.same(events, ['started', 'failed liveness: live said so', 'failed liveness: live said so', 'failed liveness: live said so', 'unhealthy liveness'])
  t.equal(calls.length, 3)
})

t.test('initialDelaySeconds holds the first probe back', async t => {
  const calls: string[] = []
  const probes = new ContainerProbes({ readiness: probe('ready', { initialDelaySeconds: 1 }) }, fakeTarget({ ready: () => true }, calls), new Date(), {
    started: () => {},
    ready: () => {},
    failed: () => {},
    unhealthy: () => {},
    warn: () => {},
  })
  probes.start()
  await new Promise(r => setTimeout(r, 300))
  t.equal(calls.length, 0)
  await new Promise(r => setTimeout(r, 900))
  probes.stop()
  t.equal(calls.length, 1)
})

t.test('explain describes each probe: what, where, when', async t => {
  const { describeProbe } = await import('../../../src/pod/probes.js')
  const p = probe('x', { terminationGracePeriodSeconds: 5 })
  t.equal(
    describeProbe('liveness', { ...p, handler: { kind: 'tcpSocket', port: 80 } }, false),
    "liveness: tcp connect <pod IP or 127.0.0.1>:80 from inside the pod's network namespace; every 1s after 0s, timeout 1s, success 1, failure 1, kill grace 5s",
  )
  t.match(
    describeProbe(
      'readiness',
      { ...probe('x'), handler: { kind: 'httpGet', scheme: 'HTTPS', port: 443, path: '/h', headers: [{ name: 'X-A', value: '1' }] } },
      true,
    ),
    /^readiness: GET https:\/\/<pod IP or 127\.0\.0\.1>:443\/h with X-A from the host's network namespace \(certificate not verified, as kubelet\)/,
  )
})
