// One HTTP(S) exchange with a registry on Node's own http/https: a timeout
// on connect and on silence, redirects followed by hand (at most 5, and the
// Authorization header dropped when the host changes, as Docker Hub's blob
// CDN needs), the response body left unread for the caller to stream.
import { lookup, type LookupOptions } from 'node:dns'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import type { LookupFunction } from 'node:net'
import { request as httpsRequest } from 'node:https'
import { connect as tlsConnect, createSecureContext, rootCertificates, type SecureContext } from 'node:tls'
import { readFileSync } from 'node:fs'
import { PodError } from '../../../errors.js'

export interface HttpOptions {
  method?: 'GET' | 'HEAD' | 'POST'
  /** The request body (POST). */
  body?: Buffer
  headers?: Record<string, string>
  /** Extra CA certificates (PEM) for this host, added to the system's. */
  ca?: string[]
  /** A client certificate to present to this host (not to another one a redirect leads to). */
  cert?: { cert: string; key: string }
  /** Do not check the server's certificate (hosts.toml skip_verify). */
  skipVerify?: boolean
  /** No response headers (or no body bytes) for this long fails the exchange. */
  timeoutMs?: number
  /** Names the exchange in errors: `<image>` and the step. */
  step: string
  object: string
}

export const MAX_REDIRECTS = 5
export const DEFAULT_TIMEOUT_MS = 30_000

const NETWORK_HINTS: Record<string, string> = {
  ENOTFOUND: 'the registry host name does not resolve: check the image name, or /etc/resolv.conf',
  EAI_AGAIN: 'the registry host name does not resolve (DNS is unreachable): check the network',
  ECONNREFUSED: 'nothing listens there: is the registry running, and is the port right?',
  ETIMEDOUT: 'the registry did not answer in time: check the network (or a proxy)',
  ECONNRESET: 'the registry dropped the connection: try again',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'put the registry CA in /etc/docker/certs.d/HOST/ca.crt, or mark the registry insecure (docs/images.md)',
  SELF_SIGNED_CERT_IN_CHAIN: 'put the registry CA in /etc/docker/certs.d/HOST/ca.crt, or mark the registry insecure (docs/images.md)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'put the registry CA in /etc/docker/certs.d/HOST/ca.crt (docs/images.md)',
}

/** Codes that mean "the registry could not be reached" (Always may then use a local image). */
export const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'])

export function networkError(step: string, object: string, url: URL, cause: unknown): PodError {
  const e = cause as NodeJS.ErrnoException
  const code = e?.code ?? 'ENETWORK'
  return new PodError(`${step}: ${object}: ${url.host}: ${e?.message ?? String(cause)} (${code})`, {
    step,
    code,
    cause,
    hint: NETWORK_HINTS[code],
  })
}

/**
 * The system's trust store as Go's crypto/x509 finds it on Linux (what
 * Docker, containerd and skopeo trust: update-ca-certificates' bundle),
 * else Node's bundled roots. Read once.
 */
export const SYSTEM_CA_FILES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/pki/tls/cacert.pem',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem',
]
let systemCAs: string[] | undefined
function systemRoots(): string[] {
  if (systemCAs) return systemCAs
  for (const f of SYSTEM_CA_FILES) {
    try {
      return (systemCAs = [readFileSync(f, 'utf8')])
    } catch {
      // the next place
    }
  }
  return (systemCAs = [...rootCertificates])
}

/** One TLS context per set of CAs and client certificate (the system's roots plus the host's). */
const contexts = new Map<string, SecureContext>()
function secureContext(ca: string[], cert?: { cert: string; key: string }): SecureContext {
  const key = JSON.stringify([ca, cert])
  let ctx = contexts.get(key)
  if (!ctx) contexts.set(key, (ctx = createSecureContext({ ca: [...systemRoots(), ...ca], ...(cert && { cert: cert.cert, key: cert.key }) })))
  return ctx
}

/**
 * Whether `url`'s server speaks TLS at all, asked without the trust store (parsing the system's
 * roots costs ~80 ms of CPU): a registry that may be reached over plain HTTP (loopback, or marked
 * insecure) is asked first, so a plain-HTTP one never pays for the roots. Resolves once a handshake
 * completes; rejects as the HTTPS request would (EPROTO from a plain-HTTP server). Nothing is sent
 * over this unverified connection: the request itself goes over a verified one.
 */
export function tlsHandshake(url: URL, o: HttpOptions): Promise<void> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const context = createSecureContext({ ca: [], ...(o.cert && { cert: o.cert.cert, key: o.cert.key }) }) // no roots: nothing is verified here
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 443),
      servername: /^[\d.]+$|:/.test(url.hostname) ? undefined : url.hostname,
      secureContext: context,
      rejectUnauthorized: false,
      lookup: lookupWithin(timeoutMs),
    })
    socket.setTimeout(timeoutMs, () => socket.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })))
    socket.once('secureConnect', () => {
      socket.destroy()
      resolve()
    })
    socket.once('error', (e: NodeJS.ErrnoException) => {
      // A plain-HTTP server: the code an HTTPS request gives for it (OpenSSL's own name here).
      if (e.code === 'ERR_SSL_WRONG_VERSION_NUMBER') e.code = 'EPROTO'
      reject(networkError(o.step, o.object, url, e))
    })
  })
}

/**
 * getaddrinfo bounded by `timeoutMs`: a DNS server that never answers fails
 * the exchange in time (EAI_AGAIN) instead of after the resolver's own
 * timeouts and retries (the lookup itself ends when glibc gives up).
 */
function lookupWithin(timeoutMs: number): LookupFunction {
  return (hostname: string, options: LookupOptions, callback: (...args: never[]) => void) => {
    let done = false
    const cb = callback as (...args: unknown[]) => void
    const timer = setTimeout(() => {
      done = true
      cb(Object.assign(new Error(`did not resolve within ${timeoutMs / 1000} s`), { code: 'EAI_AGAIN', hostname }))
    }, timeoutMs)
    lookup(hostname, options, (...args: unknown[]) => {
      if (done) return
      done = true
      clearTimeout(timer)
      cb(...args)
    })
  }
}

function once(url: URL, o: HttpOptions, headers: Record<string, string>): Promise<IncomingMessage> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS
  return new Promise((resolve, reject) => {
    const tls = url.protocol === 'https:' && {
      secureContext: secureContext(o.ca ?? [], o.cert),
      ...(o.skipVerify && { rejectUnauthorized: false }),
    }
    const opts = { method: o.method ?? 'GET', headers, lookup: lookupWithin(timeoutMs), ...tls }
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, opts, res => {
      // Silence while the body streams is a dead connection too.
      res.setTimeout(timeoutMs, () => res.destroy(Object.assign(new Error(`no data for ${timeoutMs} ms`), { code: 'ETIMEDOUT' })))
      resolve(res)
    })
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })))
    req.on('error', reject)
    req.end(o.body)
  })
}

/**
 * GET/HEAD `url`, following redirects. Throws `<step>` with the network
 * code (ENOTFOUND, ECONNREFUSED, ETIMEDOUT...), or REGISTRY_REDIRECT_LOOP.
 */
export async function fetchUrl(url: URL, o: HttpOptions, headers: Record<string, string> = {}): Promise<{ res: IncomingMessage; url: URL }> {
  let current = url
  let hdrs = { ...o.headers, ...headers }
  for (let hop = 0; ; hop++) {
    let res: IncomingMessage
    try {
      res = await once(current, o, hdrs)
    } catch (e) {
      throw networkError(o.step, o.object, current, e)
    }
    const location = res.headers.location
    if (![301, 302, 303, 307, 308].includes(res.statusCode ?? 0) || !location) return { res, url: current }
    res.resume()
    if (hop >= MAX_REDIRECTS) {
      throw new PodError(`${o.step}: ${o.object}: more than ${MAX_REDIRECTS} redirects (last to ${new URL(location, current).host})`, {
        step: o.step,
        code: 'REGISTRY_REDIRECT_LOOP',
        hint: 'the registry (or a proxy in front of it) redirects in a loop: check its configuration',
      })
    }
    const next = new URL(location, current)
    // Credentials are for the registry only: a blob CDN gets a signed URL instead.
    if (next.host !== current.host) {
      const { Authorization: _a, authorization: _b, ...rest } = hdrs
      hdrs = rest
      o = { ...o, cert: undefined }
    }
    current = next
  }
}

/** Read a small body whole, refusing more than `maxBytes`. */
export async function readBody(res: IncomingMessage, maxBytes: number, o: { step: string; object: string; what: string }): Promise<Buffer> {
  const declared = Number(res.headers['content-length'] ?? NaN)
  const tooBig = () =>
    new PodError(`${o.step}: ${o.object}: the ${o.what} is larger than ${maxBytes} bytes`, {
      step: o.step,
      code: 'REGISTRY_TOO_LARGE',
      hint: 'registries limit manifests to 4 MiB; this one is not a valid image manifest',
    })
  if (declared > maxBytes) {
    res.destroy()
    throw tooBig()
  }
  const chunks: Buffer[] = []
  let n = 0
  try {
    for await (const c of res) {
      n += (c as Buffer).length
      if (n > maxBytes) {
        res.destroy()
        throw tooBig()
      }
      chunks.push(c as Buffer)
    }
  } catch (e) {
    if (e instanceof PodError) throw e
    const code = (e as NodeJS.ErrnoException).code ?? 'ECONNRESET'
    throw new PodError(`image.verify: ${o.object}: ${o.what}: truncated: the connection ended after ${n} bytes (${code})`, {
      step: 'image.verify',
      code: 'IMAGE_TRUNCATED',
      cause: e,
      hint: 'pull again; a proxy or the network cut the download',
    })
  }
  return Buffer.concat(chunks)
}
