// pullImage's stops, against a small registry on loopback that holds its
// answers until the pull's other requests are out: a config that fails, or
// Ctrl-C, stops a layer download whose request was already sent (its body is
// not read once its headers come); a throwing onEvent rejects the pull
// instead of escaping as an unhandled rejection. No unpack is reached.
import t from 'tap'
import { createHash } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pullImage } from '../../../src/rootfs/images/registry/pull.js'

const LAYER = Buffer.alloc(32 << 20) // larger than loopback's socket buffers: a body that is not read is not sent whole
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`
const CONFIG = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(LAYER)] }, config: {} }))
const MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(CONFIG), size: CONFIG.length },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(LAYER), size: LAYER.length }],
})

interface Registry {
  host: string
  /** Resolves when the layer's response ends: whether it was sent whole, and its bytes sent. */
  layer: Promise<{ whole: boolean; sent: number }>
}

/**
 * A registry for `r:1` (one 32 MiB layer). `config` answers the config's GET
 * once the layer's GET has come; the layer's headers and body go out once
 * `layerGo` resolves (given the config's response).
 */
async function serve(
  t: { teardown: (fn: () => unknown) => void },
  o: { config: (res: ServerResponse) => void; layerGo: (configSent: Promise<void>) => Promise<void> },
): Promise<Registry> {
  let layerAsked!: () => void
  const asked = new Promise<void>(r => (layerAsked = r))
  let configSent!: () => void
  const sentConfig = new Promise<void>(r => (configSent = r))
  let layerEnded!: (v: { whole: boolean; sent: number }) => void
  const layer = new Promise<{ whole: boolean; sent: number }>(r => (layerEnded = r))
  const server = createServer((req, res) => {
    if (req.url === '/v2/r/manifests/1') return res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(MANIFEST)
    if (req.url === `/v2/r/blobs/${sha(CONFIG)}`) {
      res.on('finish', configSent)
      return void asked.then(() => o.config(res))
    }
    if (req.url !== `/v2/r/blobs/${sha(LAYER)}`) return res.writeHead(404).end()
    layerAsked()
    let sent = 0
    res.on('close', () => layerEnded({ whole: res.writableFinished, sent }))
    void o.layerGo(sentConfig).then(() => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': LAYER.length })
      const more = () => {
        while (sent < LAYER.length && !res.destroyed) {
          const chunk = LAYER.subarray(sent, sent + (64 << 10))
          sent += chunk.length
          if (!res.write(chunk)) return void res.once('drain', more)
        }
        if (sent === LAYER.length) res.end()
      }
      more()
    })
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>(r => (server.closeAllConnections(), server.close(() => r()))))
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, layer }
}

const options = (root: string) => ({ root, env: {}, timeoutMs: 10_000 })
const sendConfig = (res: ServerResponse) => res.writeHead(200, { 'content-length': CONFIG.length }).end(CONFIG)

t.test('a config that fails stops a layer download already requested: its body is not read', async t => {
  const s = await serve(t, {
    config: res =>
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown' }] })),
    // The layer's headers come after the config's 404 (the delay orders them; it is not measured:
    // on a machine too slow to read the 404 first the test passes either way).
    layerGo: sent => sent.then(() => new Promise(r => setTimeout(r, 100))),
  })
  await t.rejects(pullImage(`${s.host}/r:1`, options(t.testdir())), { code: 'BLOB_UNKNOWN', step: 'registry.blob' })
  const layer = await s.layer
  t.notOk(layer.whole, `the layer was not sent whole (${layer.sent} of ${LAYER.length} bytes)`)
})

t.test('Ctrl-C while a layer request waits for its answer stops that download: its body is not read', async t => {
  const ctrlC = new AbortController()
  const s = await serve(t, {
    config: sendConfig,
    layerGo: async () => ctrlC.abort(),
  })
  await t.rejects(pullImage(`${s.host}/r:1`, { ...options(t.testdir()), signal: ctrlC.signal }), { code: 'EINTR', step: 'image.pull' })
  const layer = await s.layer
  t.notOk(layer.whole, `the layer was not sent whole (${layer.sent} of ${LAYER.length} bytes)`)
})

t.test('an onEvent that throws when the held events are given rejects the pull (no unhandled rejection)', async t => {
  const unhandled: unknown[] = []
  const onUnhandled = (e: unknown) => unhandled.push(e)
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => void process.off('unhandledRejection', onUnhandled))
  // The config comes after the layer's request: the 'resolved' event is held until then.
  const s = await serve(t, { config: sendConfig, layerGo: sent => sent })
  const onEvent = () => {
    throw Object.assign(new Error('write: no space left on device'), { code: 'ENOSPC' })
  }
  await t.rejects(pullImage(`${s.host}/r:1`, { ...options(t.testdir()), onEvent }), { message: 'write: no space left on device' })
  await s.layer
  await new Promise(r => setImmediate(r))
  t.same(unhandled, [])
})
