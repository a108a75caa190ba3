// One probe attempt of each kind, as kubelet's probers run them: exec in the
// container; httpGet, tcpSocket and grpc over a TCP socket made inside the
// pod's network namespace (native netnsSocket: no pod IP needed). Each attempt
// ends within its timeout and leaves no socket or timer behind.
import { request as httpRequest } from 'node:http'
import { connect as http2Connect, type IncomingHttpHeaders } from 'node:http2'
import { Socket, isIPv6 } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { getSystemErrorMap } from 'node:util'
import { PodError } from '../errors.js'
import type { ProbeHandler } from '../spec/index.js'
import { native } from '../spawn/index.js'
import type { ExecResult } from './exec.js'

/** success / failure count toward the thresholds; error (the probe could not run at all) is thrown away, as kubelet does. */
export interface ProbeOutcome {
  result: 'success' | 'failure' | 'error'
  message: string
}

export interface ProbeTarget {
  /** The pod's network namespace; undefined for hostNetwork pods (the host's own). */
  netnsFd: number | undefined
  /** Where network probes without `host` connect (the pod: its IP, else loopback). */
  address: string
  /** Run a command in the container (killed when `timeoutMs` is over). */
  exec(argv: string[], timeoutMs: number): Promise<ExecResult>
}

/** kubelet's User-Agent (apps match the `kube-probe/` prefix). */
export const PROBE_USER_AGENT = 'kube-probe/1.31'
const MAX_BODY = 10 * 1024
const MAX_REDIRECTS = 10

const errText = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException
  const sys = typeof err.errno === 'number' ? getSystemErrorMap().get(err.errno)?.[1] : undefined
  return sys ?? err.message ?? String(e)
}

const hostPort = (host: string, port: number) => (isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`)

/**
 * A TCP connection from inside a network namespace (`netnsFd`; undefined:
 * the host's own), as probes and CRI port-forward make them; rejects with a
 * Go-like `dial tcp` message.
 */
export function connectInPod(netnsFd: number | undefined, host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const where = `dial tcp ${hostPort(host, port)}`
    let s: Socket
    try {
      // net.Socket({fd}) wraps the unconnected socket; connect() then runs uv_tcp_connect on that very fd.
      s = netnsFd === undefined ? new Socket() : new Socket({ fd: native().netnsSocket(netnsFd, isIPv6(host) ? 6 : 4) })
    } catch (e) {
      reject(PodError.system('probe.socket', e, `${where} in the pod's network namespace`))
      return
    }
    const done = (e?: Error) => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      s.removeListener('error', onError)
      // A late error on a probe's socket must never become an uncaught exception in the supervisor.
      s.on('error', () => {})
      if (e) {
        s.destroy()
        reject(e)
      } else resolve(s)
    }
    const onError = (e: Error) => done(new Error(`${where}: connect: ${errText(e)}`))
    const onAbort = () => done(new Error(`${where}: stopped`))
    const timer = setTimeout(() => done(new Error(`${where}: i/o timeout`)), timeoutMs)
    signal.addEventListener('abort', onAbort)
    s.on('error', onError)
    s.connect(port, host, () => done())
  })
}

export async function tcpProbe(h: { port: number; host?: string }, target: ProbeTarget, timeoutMs: number, signal: AbortSignal): Promise<ProbeOutcome> {
  try {
    const s = await connectInPod(target.netnsFd, h.host ?? target.address, h.port, timeoutMs, signal)
    s.destroy()
    return { result: 'success', message: '' }
  } catch (e) {
    return { result: 'failure', message: (e as Error).message }
  }
}

/** GET once; resolves status, Location and the body's first 10 KiB. */
async function httpGetOnce(
  target: ProbeTarget,
  h: Extract<ProbeHandler, { kind: 'httpGet' }>,
  host: string,
  path: string,
  deadline: number,
  signal: AbortSignal,
) {
  const plainSocket = await connectInPod(target.netnsFd, host, h.port, Math.max(1, deadline - Date.now()), signal)
  let socket: Socket = plainSocket
  try {
    if (h.scheme === 'HTTPS') {
      // kubelet does not verify the certificate of an HTTPS probe (InsecureSkipVerify).
      const plain = plainSocket
      const t = tlsConnect({ socket: plain, rejectUnauthorized: false, servername: undefined })
      socket = t
      await new Promise<void>((resolve, reject) => {
        const fail = (e: Error) => (clearTimeout(timer), signal.removeEventListener('abort', onAbort), reject(e))
        const onAbort = () => fail(new Error('probe stopped'))
        const timer = setTimeout(() => fail(new Error('TLS handshake timeout')), Math.max(1, deadline - Date.now()))
        signal.addEventListener('abort', onAbort)
        t.once('secureConnect', () => (clearTimeout(timer), signal.removeEventListener('abort', onAbort), resolve()))
        t.on('error', fail) // a later error lands on a settled promise: harmless
      })
    }
    const conn = socket
    const headers: Record<string, string> = { 'User-Agent': PROBE_USER_AGENT, Accept: '*/*', Connection: 'close', Host: hostPort(host, h.port) }
    for (const { name, value } of h.headers) {
      const k = Object.keys(headers).find(k => k.toLowerCase() === name.toLowerCase())
      if (k) delete headers[k]
      headers[name] = value
    }
    return await new Promise<{ status: number; location?: string; body: string }>((resolve, reject) => {
      const timer = setTimeout(() => req.destroy(new Error('timeout awaiting the response')), Math.max(1, deadline - Date.now()))
      const onAbort = () => req.destroy(new Error('probe stopped'))
      signal.addEventListener('abort', onAbort)
      const finish = () => (clearTimeout(timer), signal.removeEventListener('abort', onAbort))
      const req = httpRequest({ method: 'GET', path, headers, setHost: false, createConnection: () => conn }, res => {
        let body = Buffer.alloc(0)
        res.on('data', (d: Buffer) => {
          if (body.length < MAX_BODY) body = Buffer.concat([body, d]).subarray(0, MAX_BODY)
        })
        res.on('end', () => (finish(), resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: body.toString('utf8') })))
        res.on('error', e => (finish(), reject(e)))
      })
      req.on('error', e => (finish(), reject(e)))
      req.end()
    })
  } finally {
    socket.destroy()
    plainSocket.destroy()
  }
}

export async function httpProbe(
  h: Extract<ProbeHandler, { kind: 'httpGet' }>,
  target: ProbeTarget,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<ProbeOutcome> {
  const host = h.host ?? target.address
  const scheme = h.scheme.toLowerCase()
  const deadline = Date.now() + timeoutMs
  let path = h.path
  for (let redirects = 0; ; redirects++) {
    const url = `${scheme}://${hostPort(host, h.port)}${path}`
    let res
    try {
      res = await httpGetOnce(target, h, host, path, deadline, signal)
    } catch (e) {
      // OpenSSL's long message carries its source file: its reason alone says it (`tls: wrong version number`).
      const reason = (e as { reason?: string }).reason
      return { result: 'failure', message: `Get "${url}": ${reason ? `tls: ${reason}` : (e as Error).message}` }
    }
    if (res.status >= 300 && res.status < 400 && res.location) {
      const next = new URL(res.location, url)
      // kubelet follows redirects to the same host only; any other counts as success (with a warning).
      if (next.protocol !== `${scheme}:` || next.host !== new URL(url).host)
        return { result: 'success', message: `Probe terminated redirects, Response body: ${res.body}` }
      if (redirects + 1 >= MAX_REDIRECTS) return { result: 'failure', message: `Get "${next.href}": stopped after ${MAX_REDIRECTS} redirects` }
      path = next.pathname + next.search
      continue
    }
    if (res.status >= 200 && res.status < 400) return { result: 'success', message: res.body }
    return { result: 'failure', message: `HTTP probe failed with statuscode: ${res.status}` }
  }
}

// grpc.health.v1: HealthCheckRequest { string service = 1; }, HealthCheckResponse { ServingStatus status = 1; }.
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN']
const GRPC_CODES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
]

function varint(n: number): number[] {
  const out: number[] = []
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80)
    n >>>= 7
  }
  out.push(n)
  return out
}

/** A gRPC message: compressed flag 0, 4-byte big-endian length, the protobuf bytes. */
export function grpcHealthRequest(service: string): Buffer {
  const s = Buffer.from(service, 'utf8')
  const msg = s.length ? Buffer.concat([Buffer.from([0x0a, ...varint(s.length)]), s]) : Buffer.alloc(0)
  const head = Buffer.alloc(5)
  head.writeUInt32BE(msg.length, 1)
  return Buffer.concat([head, msg])
}

/** The ServingStatus of a framed HealthCheckResponse (0, UNKNOWN, when the field is absent). */
export function grpcHealthStatus(frame: Buffer): number {
  if (frame.length < 5 || frame[0] !== 0) throw new Error('malformed gRPC response')
  const msg = frame.subarray(5, 5 + frame.readUInt32BE(1))
  let status = 0
  for (let i = 0; i < msg.length;) {
    const key = msg[i++]
    let v = 0
    for (let shift = 0; i < msg.length; shift += 7) {
      const b = msg[i++]
      v |= (b & 0x7f) << shift
      if (!(b & 0x80)) break
    }
    if (key === 0x08) status = v
    else if ((key & 7) === 2)
      i += v // a length-delimited field we do not know: skip it
    else if ((key & 7) !== 0) throw new Error('malformed HealthCheckResponse')
  }
  return status
}

export async function grpcProbe(h: { port: number; service: string }, target: ProbeTarget, timeoutMs: number, signal: AbortSignal): Promise<ProbeOutcome> {
  const addr = hostPort(target.address, h.port)
  const deadline = Date.now() + timeoutMs
  let socket: Socket
  try {
    socket = await connectInPod(target.netnsFd, target.address, h.port, timeoutMs, signal)
  } catch (e) {
    return { result: 'failure', message: `failed to connect service at "${addr}": ${(e as Error).message}` }
  }
  const session = http2Connect(`http://${addr}`, { createConnection: () => socket })
  try {
    const reply = await new Promise<{ grpcStatus: number; grpcMessage: string; body: Buffer }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timeout: health rpc did not complete within ${timeoutMs / 1000}s`)), Math.max(1, deadline - Date.now()))
      const onAbort = () => reject(new Error('probe stopped'))
      signal.addEventListener('abort', onAbort)
      const finish = () => (clearTimeout(timer), signal.removeEventListener('abort', onAbort))
      session.on('error', e => (finish(), reject(e)))
      const req = session.request({
        ':method': 'POST',
        ':path': '/grpc.health.v1.Health/Check',
        'content-type': 'application/grpc',
        te: 'trailers',
        'user-agent': PROBE_USER_AGENT,
      })
      let meta: IncomingHttpHeaders = {}
      const chunks: Buffer[] = []
      req.on('response', hdrs => (meta = { ...hdrs }))
      req.on('trailers', t => (meta = { ...meta, ...t }))
      req.on('data', (d: Buffer) => chunks.push(d))
      req.on('error', e => (finish(), reject(e)))
      req.on('end', () => {
        finish()
        const status = Number(meta['grpc-status'] ?? 2)
        resolve({ grpcStatus: status, grpcMessage: decodeURIComponent(String(meta['grpc-message'] ?? '')), body: Buffer.concat(chunks) })
      })
      req.end(grpcHealthRequest(h.service))
    })
    if (reply.grpcStatus !== 0) {
      const code = GRPC_CODES[reply.grpcStatus] ?? String(reply.grpcStatus)
      const what = reply.grpcStatus === 12 ? 'this server does not implement the grpc health protocol (grpc.health.v1.Health)' : 'health rpc probe failed'
      return { result: 'failure', message: `${what}: rpc error: code = ${code} desc = ${reply.grpcMessage}` }
    }
    const status = grpcHealthStatus(reply.body)
    if (status === 1) return { result: 'success', message: '' }
    return { result: 'failure', message: `service unhealthy (responded with "${SERVING_STATUS[status] ?? status}")` }
  } catch (e) {
    return {
      result: 'failure',
      message: (e as Error).message.startsWith('timeout') ? (e as Error).message : `health rpc probe failed: ${(e as Error).message}`,
    }
  } finally {
    session.destroy()
    socket.destroy()
  }
}

export async function execProbe(h: { command: string[] }, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  let r: ExecResult
  try {
    r = await target.exec(h.command, timeoutMs)
  } catch (e) {
    return { result: 'error', message: (e as Error).message }
  }
  if (r.timedOut) return { result: 'failure', message: `command ${JSON.stringify(h.command.join(' '))} timed out` }
  return { result: r.exitCode === 0 ? 'success' : 'failure', message: r.output.trim() }
}

/** One attempt of `h`, bounded by `timeoutMs` (and cut short by `signal`). */
export function runProbe(h: ProbeHandler, target: ProbeTarget, timeoutMs: number, signal: AbortSignal): Promise<ProbeOutcome> {
  switch (h.kind) {
    case 'exec':
      return execProbe(h, target, timeoutMs)
    case 'tcpSocket':
      return tcpProbe(h, target, timeoutMs, signal)
    case 'httpGet':
      return httpProbe(h, target, timeoutMs, signal)
    case 'grpc':
      return grpcProbe(h, target, timeoutMs, signal)
  }
}
