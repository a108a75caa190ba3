// startupProbe, livenessProbe, readinessProbe: parsed, defaulted and
// validated as the API server does; named ports resolved; clear errors by field.
import t from 'tap'
import { parseManifest } from '../../../src/index.js'

type Obj = Record<string, unknown>

function pod(c: Obj, spec: Obj = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'app', command: ['run'], ports: [{ name: 'http', containerPort: 8080 }], ...c }], ...spec },
  }
}
const container = (c: Obj) => parseManifest(pod(c)).spec.containers[0]
const fails = (t: Pick<typeof import('tap').default, 'throws'>, c: Obj, re: RegExp) => t.throws(() => parseManifest(pod(c)), { message: re })

t.test('a probe gets kubelet defaults: period 10, timeout 1, success 1, failure 3, no delay', async t => {
  const c = container({ livenessProbe: { exec: { command: ['true'] } } })
  t.same(c.livenessProbe, {
    handler: { kind: 'exec', command: ['true'] },
    initialDelaySeconds: 0,
    periodSeconds: 10,
    timeoutSeconds: 1,
    successThreshold: 1,
    failureThreshold: 3,
    terminationGracePeriodSeconds: undefined,
  })
  t.equal(c.readinessProbe, undefined)
  t.equal(c.startupProbe, undefined)
})

t.test('zero period, timeout and thresholds are defaulted as the API server does', async t => {
  const c = container({ readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 0, timeoutSeconds: 0, successThreshold: 0, failureThreshold: 0 } })
  t.match(c.readinessProbe, { periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 })
})

t.test('every field is kept: httpGet with a named port, scheme, headers', async t => {
  const c = container({
    readinessProbe: {
      httpGet: { path: '/healthz', port: 'http', scheme: 'HTTPS', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] },
      initialDelaySeconds: 2,
      periodSeconds: 3,
      timeoutSeconds: 4,
      successThreshold: 2,
      failureThreshold: 5,
    },
    startupProbe: { tcpSocket: { port: 'http', host: '127.0.0.1' }, failureThreshold: 30, periodSeconds: 1, terminationGracePeriodSeconds: 7 },
    livenessProbe: { grpc: { port: 9000, service: 'health' } },
  })
  t.same(c.readinessProbe, {
    handler: { kind: 'httpGet', path: '/healthz', port: 8080, host: undefined, scheme: 'HTTPS', headers: [{ name: 'X-Probe', value: 'yes' }] },
    initialDelaySeconds: 2,
    periodSeconds: 3,
    timeoutSeconds: 4,
    successThreshold: 2,
    failureThreshold: 5,
    terminationGracePeriodSeconds: undefined,
  })
  t.same(c.startupProbe?.handler, { kind: 'tcpSocket', port: 8080, host: '127.0.0.1' })
  t.equal(c.startupProbe?.terminationGracePeriodSeconds, 7)
  t.same(c.livenessProbe?.handler, { kind: 'grpc', port: 9000, service: 'health' })
})

t.test('httpGet defaults: path /, scheme HTTP, no headers; host localhost means loopback', async t => {
  const c = container({ livenessProbe: { httpGet: { port: 80, host: 'localhost' } } })
  t.same(c.livenessProbe?.handler, { kind: 'httpGet', path: '/', port: 80, host: '127.0.0.1', scheme: 'HTTP', headers: [] })
})

t.test('probes are no longer listed as unsupported', async t => {
  const { unsupported } = parseManifest(
    pod({ livenessProbe: { exec: { command: ['true'] } }, readinessProbe: { exec: { command: ['true'] } }, startupProbe: { exec: { command: ['true'] } } }),
  )
  t.same(unsupported, [])
})

t.test('a probe needs exactly one handler', async t => {
  fails(t, { livenessProbe: {} }, /spec\.containers\[0\]\.livenessProbe: must specify a handler type/)
  fails(
    t,
    { livenessProbe: { exec: { command: ['true'] }, tcpSocket: { port: 1 } } },
    /spec\.containers\[0\]\.livenessProbe\.tcpSocket: may not specify more than 1 handler type \(also exec\)/,
  )
})

t.test('exec needs a non-empty command', async t => {
  fails(t, { readinessProbe: { exec: {} } }, /readinessProbe\.exec\.command: required/)
  fails(t, { readinessProbe: { exec: { command: [] } } }, /readinessProbe\.exec\.command: must not be empty/)
})

t.test('a port name must be one of the container ports; grpc takes numbers only', async t => {
  fails(
    t,
    { livenessProbe: { httpGet: { port: 'metrics' } } },
    /livenessProbe\.httpGet\.port: "metrics" is not the name of a port of this container \(ports\[\]\.name: "http"\)/,
  )
  fails(t, { livenessProbe: { tcpSocket: { port: 70000 } } }, /livenessProbe\.tcpSocket\.port: must be an integer between 1 and 65535/)
  fails(t, { livenessProbe: { tcpSocket: {} } }, /livenessProbe\.tcpSocket\.port: required/)
  fails(t, { livenessProbe: { grpc: { port: 'http' } } }, /livenessProbe\.grpc\.port: must be a number between 1 and 65535, not "http"/)
})

t.test('successThreshold must be 1 for liveness and startup probes', async t => {
  fails(t, { livenessProbe: { exec: { command: ['x'] }, successThreshold: 2 } }, /livenessProbe\.successThreshold: must be 1 for livenessProbe, not 2/)
  fails(t, { startupProbe: { exec: { command: ['x'] }, successThreshold: 3 } }, /startupProbe\.successThreshold: must be 1 for startupProbe, not 3/)
  t.equal(container({ readinessProbe: { exec: { command: ['x'] }, successThreshold: 3 } }).readinessProbe?.successThreshold, 3)
})

t.test('terminationGracePeriodSeconds: positive, and not on a readiness probe', async t => {
  fails(
    t,
    { readinessProbe: { exec: { command: ['x'] }, terminationGracePeriodSeconds: 5 } },
    /readinessProbe\.terminationGracePeriodSeconds: must not be set for readinessProbes/,
  )
  fails(
    t,
    { livenessProbe: { exec: { command: ['x'] }, terminationGracePeriodSeconds: 0 } },
    /livenessProbe\.terminationGracePeriodSeconds: must be an integer between 1/,
  )
})

t.test('negative or non-integer timings are refused by field', async t => {
  fails(t, { livenessProbe: { exec: { command: ['x'] }, initialDelaySeconds: -1 } }, /livenessProbe\.initialDelaySeconds: must be an integer between 0/)
  fails(t, { livenessProbe: { exec: { command: ['x'] }, periodSeconds: 1.5 } }, /livenessProbe\.periodSeconds: must be an integer/)
})

t.test('scheme, headers and host are checked', async t => {
  fails(t, { livenessProbe: { httpGet: { port: 80, scheme: 'FTP' } } }, /livenessProbe\.httpGet\.scheme: must be one of "HTTP", "HTTPS"/)
  fails(
    t,
    { livenessProbe: { httpGet: { port: 80, httpHeaders: [{ name: 'Bad Header', value: 'x' }] } } },
    /httpHeaders\[0\]\.name: "Bad Header" is not a valid HTTP header name/,
  )
  fails(t, { livenessProbe: { httpGet: { port: 80, httpHeaders: [{ value: 'x' }] } } }, /httpHeaders\[0\]\.name: required/)
  fails(t, { livenessProbe: { httpGet: { port: 80, host: 'example.com' } } }, /livenessProbe\.httpGet\.host: "example\.com" must be an IP address/)
  fails(t, { livenessProbe: { httpGet: { port: 80, path: 'healthz' } } }, /livenessProbe\.httpGet\.path: "healthz" must start with '\/'/)
})

t.test('init containers may not have probes unless they are sidecars', async t => {
  const m = pod({}, { initContainers: [{ name: 'init', command: ['x'], readinessProbe: { exec: { command: ['true'] } } }] })
  t.throws(() => parseManifest(m), { message: /spec\.initContainers\[0\]\.readinessProbe: may not be set for init containers without restartPolicy=Always/ })
})
