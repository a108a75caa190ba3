// The registry client's first exchange, against small servers on loopback
// that log what they are asked (no registry: what a real one does is in
// test/integration/registry-*.test.ts): the first request is the manifest
// itself, without a /v2/ ping; a 401 to it carries the challenge; only an
// answer other than 200 or 401 costs a ping, which tells a registry's 404
// from a server that is no registry; a loopback registry is asked in HTTPS
// first and HTTPS is used when it answers.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttps } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { RegistryClient } from '../../../src/rootfs/images/registry/client.js'
import type { Credentials } from '../../../src/rootfs/images/registry/credentials.js'

const TLS = new URL('../../fixtures/tls/', import.meta.url)
type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** A server on 127.0.0.1 that logs `METHOD path [auth]` for each request. */
async function serve(t: { teardown: (fn: () => unknown) => void }, handler: Handler, tls = false): Promise<{ host: string; seen: string[] }> {
  const seen: string[] = []
  const log: Handler = (req, res) => {
    seen.push(`${req.method} ${req.url}${req.headers.authorization ? ` ${req.headers.authorization}` : ''}`)
    handler(req, res)
  }
  const server: Server = tls ? createHttps({ key: readFileSync(new URL('key.pem', TLS)), cert: readFileSync(new URL('cert.pem', TLS)) }, log) : createHttp(log)
  server.keepAliveTimeout = 0 // a connection is closed by the client (or the teardown), never idled out by the server
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>(r => (server.closeAllConnections(), server.close(() => r()))))
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

function client(host: string, o: { certsDirs?: string[]; credentials?: Credentials; timeoutMs?: number } = {}) {
  return new RegistryClient({
    registry: host,
    repository: 'r',
    image: `${host}/r:1`,
    config: { insecure: [], mirrors: {}, certsDirs: o.certsDirs ?? [] },
    env: {},
    credentials: o.credentials,
    timeoutMs: o.timeoutMs ?? 5000,
  })
}

const MANIFEST = '/v2/r/manifests/1'
const json = (res: ServerResponse, status: number, body: unknown, headers = {}) =>
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))

t.test('the first request is the manifest, sent once: no /v2/ ping', async t => {
  const s = await serve(t, (req, res) => json(res, 200, { path: req.url }))
  const res = await client(s.host).get(MANIFEST, 'registry.manifest')
  res.resume()
  t.equal(res.statusCode, 200)
  t.same(s.seen, [`GET ${MANIFEST}`])
})

t.test('a 401 to the manifest carries the challenge: Basic credentials are sent on the retry, with no ping', async t => {
  const basic = `Basic ${Buffer.from('u:p').toString('base64')}`
  const s = await serve(t, (req, res) =>
    req.headers.authorization === basic ? json(res, 200, {}) : json(res, 401, { errors: [] }, { 'www-authenticate': 'Basic realm="r"' }),
  )
  const c = client(s.host, { credentials: { username: 'u', password: 'p' } })
  const res = await c.get(MANIFEST, 'registry.manifest')
  res.resume()
  t.equal(res.statusCode, 200)
  const blob = await c.get('/v2/r/blobs/sha256:00', 'registry.blob')
  blob.resume()
  t.same(s.seen, [`GET ${MANIFEST}`, `GET ${MANIFEST} ${basic}`, `GET /v2/r/blobs/sha256:00 ${basic}`], 'then every request carries them')
})

t.test("a registry's 404 is the caller's to report; the ping only tells it is a registry", async t => {
  const s = await serve(t, (req, res) =>
    req.url === '/v2/' ? json(res, 200, {}) : json(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }),
  )
  const c = client(s.host)
  const res = await c.get(MANIFEST, 'registry.manifest')
  t.equal(res.statusCode, 404)
  await t.rejects(c.expectOk(res, 'registry.manifest', 'tag "1"'), {
    message: `registry.manifest: ${s.host}/r:1: tag "1": manifest unknown (404 Not Found)`,
    code: 'MANIFEST_UNKNOWN',
  })
  t.same(s.seen, [`GET ${MANIFEST}`, 'GET /v2/'])
})

t.test('a server that is no registry fails the first step, named as such', async t => {
  const s = await serve(t, (_req, res) => res.writeHead(404).end('not here'))
  await t.rejects(client(s.host).get(MANIFEST, 'registry.manifest'), {
    message: `registry.ping: ${s.host}/r:1: ${s.host}/v2/ answered 404: not an OCI distribution registry`,
    code: 'REGISTRY_NOT_V2',
  })
  t.same(s.seen, [`GET ${MANIFEST}`, 'GET /v2/'])
})

t.test('a loopback registry that speaks TLS is used over HTTPS (the plain-HTTP request sent beside the TLS probe is dropped)', async t => {
  const s = await serve(t, (req, res) => json(res, 200, { tls: true }), true)
  const dir = t.testdir({ [s.host]: { 'hosts.toml': `server = "https://${s.host}"\nskip_verify = true\n` } })
  const res = await client(s.host, { certsDirs: [dir] }).get(MANIFEST, 'registry.manifest')
  const body = await new Promise<string>(r => {
    let b = ''
    res.on('data', d => (b += d))
    res.on('end', () => r(b))
  })
  t.same(JSON.parse(body), { tls: true })
  t.same(s.seen, [`GET ${MANIFEST}`], 'one request reached it, over TLS')
})

t.test('a ping that fails closes the connection of the first answer (its body is not read)', { timeout: 10_000 }, async t => {
  let first: Socket | undefined
  const s = await serve(t, (req, res) => {
    if (req.url === '/v2/') return void req.socket.destroy()
    first = req.socket
    json(res, 404, { errors: [] })
  })
  await t.rejects(client(s.host, { timeoutMs: 60_000 }).get(MANIFEST, 'registry.manifest'), { code: 'ECONNRESET', step: 'registry.ping' })
  // Left open, the connection would close only at the client's idle timeout (60 s): this test's timeout fails it first.
  await new Promise(r => (first!.destroyed ? r(undefined) : first!.once('close', r)))
  t.same(s.seen, [`GET ${MANIFEST}`, 'GET /v2/'])
})

t.test("a 404 to the anonymous manifest request, and a 401 to the ping: the ping's challenge sends the credentials, once", async t => {
  const basic = `Basic ${Buffer.from('u:p').toString('base64')}`
  const s = await serve(t, (req, res) =>
    req.url === '/v2/'
      ? json(res, 401, { errors: [] }, { 'www-authenticate': 'Basic realm="r"' })
      : req.headers.authorization === basic
        ? json(res, 200, {})
        : json(res, 404, { errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] }),
  )
  const c = client(s.host, { credentials: { username: 'u', password: 'p' } })
  const res = await c.get(MANIFEST, 'registry.manifest')
  res.resume()
  t.equal(res.statusCode, 200)
  t.same(s.seen, [`GET ${MANIFEST}`, 'GET /v2/', `GET ${MANIFEST} ${basic}`])
})

t.test("without credentials, a 404 stays the registry's answer when the ping asks for them", async t => {
  const s = await serve(t, (req, res) =>
    req.url === '/v2/'
      ? json(res, 401, { errors: [] }, { 'www-authenticate': 'Basic realm="r"' })
      : json(res, 404, { errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] }),
  )
  const res = await client(s.host).get(MANIFEST, 'registry.manifest')
  res.resume()
  t.equal(res.statusCode, 404)
  t.same(s.seen, [`GET ${MANIFEST}`, 'GET /v2/'])
})
