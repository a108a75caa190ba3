// downloadBlob against a small server on loopback: the file is the blob
// (0600) whatever its size against the write batch (1 MiB); another digest,
// a cut connection and an existing file fail with their codes; a download
// stopped mid-way (Ctrl-C) rejects as an abort and leaves no fd open on the file.
import t from 'tap'
import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { downloadBlob } from '../../../src/rootfs/images/registry/blob.js'
import { RegistryClient } from '../../../src/rootfs/images/registry/client.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

async function serve(t: { teardown: (fn: () => unknown) => void }, handler: Handler): Promise<RegistryClient> {
  const server = createServer(handler)
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>(r => (server.closeAllConnections(), server.close(() => r()))))
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  return new RegistryClient({
    registry: host,
    repository: 'r',
    image: `${host}/r:1`,
    config: { insecure: [], mirrors: {}, certsDirs: [] },
    env: {},
    timeoutMs: 5000,
  })
}

function scratch(t: { teardown: (fn: () => unknown) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pl-blob-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** `n` bytes of a pattern of period 251 (so no two 64 KiB pieces are alike). */
function bytes(n: number): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 7919) % 251
  return b
}
const descriptor = (b: Buffer) => ({ mediaType: 'application/octet-stream', digest: `sha256:${createHash('sha256').update(b).digest('hex')}`, size: b.length })

/** Writes `body` in 64 KiB pieces, each after the last was taken, then ends (or, with `cutAt`, destroys the socket there). */
function sendSlowly(res: ServerResponse, body: Buffer, length = body.length, cutAt = Infinity): void {
  res.writeHead(200, { 'content-length': String(length) })
  let at = 0
  const next = () => {
    if (at >= Math.min(cutAt, body.length)) return at >= cutAt ? res.destroy() : res.end()
    const piece = body.subarray(at, (at = Math.min(at + (64 << 10), body.length, cutAt)))
    if (res.write(piece)) setImmediate(next)
    else res.once('drain', next)
  }
  next()
}

const fdsOn = (file: string) =>
  readdirSync('/proc/self/fd').filter(fd => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === file
    } catch {
      return false
    }
  })

/** The fds open on `file` once a writev running at a failure has returned (the file is closed after it). */
async function fdsLeftOn(file: string): Promise<string[]> {
  for (let i = 0; i < 200 && fdsOn(file).length; i++) await new Promise(r => setTimeout(r, 10))
  return fdsOn(file)
}

t.test('the file is the blob, 0600, below, at and above the write batch', async t => {
  const dir = scratch(t)
  for (const n of [0, 1, (1 << 20) - 1, 1 << 20, (3 << 20) + 12345]) {
    const b = bytes(n)
    const client = await serve(t, (_req, res) => sendSlowly(res, b))
    const file = join(dir, `b${n}`)
    let seen = 0
    await downloadBlob(client, 'img', descriptor(b), file, k => (seen += k), new AbortController().signal)
    t.ok(readFileSync(file).equals(b), `${n} bytes: the same bytes`)
    t.equal(statSync(file).mode & 0o777, 0o600, `${n} bytes: mode 0600`)
    t.equal(seen, n, `${n} bytes: onBytes saw them all`)
    t.same(fdsOn(file), [], `${n} bytes: no fd left open`)
  }
})

t.test('other bytes, a cut connection and an existing file fail with their codes', async t => {
  const dir = scratch(t)
  const b = bytes((2 << 20) + 5)
  const other = Buffer.from(b)
  other[1 << 20] ^= 1
  let client = await serve(t, (_req, res) => sendSlowly(res, other))
  await t.rejects(
    downloadBlob(client, 'img', descriptor(b), join(dir, 'bad'), () => {}, new AbortController().signal),
    { code: 'IMAGE_DIGEST_MISMATCH', step: 'image.verify' },
  )
  client = await serve(t, (_req, res) => sendSlowly(res, b, b.length, (1 << 20) + 3))
  await t.rejects(
    downloadBlob(client, 'img', descriptor(b), join(dir, 'cut'), () => {}, new AbortController().signal),
    { code: 'IMAGE_TRUNCATED', step: 'image.verify' },
  )
  t.same(await fdsLeftOn(join(dir, 'cut')), [], 'no fd left open')
  writeFileSync(join(dir, 'there'), 'x')
  client = await serve(t, (_req, res) => sendSlowly(res, b))
  await t.rejects(
    downloadBlob(client, 'img', descriptor(b), join(dir, 'there'), () => {}, new AbortController().signal),
    { code: 'EEXIST', step: 'image.pull' },
  )
  t.equal(readFileSync(join(dir, 'there'), 'utf8'), 'x', 'the existing file is untouched')
})

t.test('a download stopped mid-way rejects as an abort and closes its file', async t => {
  const dir = scratch(t)
  const b = bytes(8 << 20)
  const client = await serve(t, (_req, res) => sendSlowly(res, b))
  const stop = new AbortController()
  const file = join(dir, 'stopped')
  let seen = 0
  const done = downloadBlob(
    client,
    'img',
    descriptor(b),
    file,
    k => {
      seen += k
      if (seen >= (3 << 20) / 2) stop.abort()
    },
    stop.signal,
  )
  await t.rejects(done, { name: 'AbortError' })
  t.same(await fdsLeftOn(file), [], 'no fd left open')
  t.ok(statSync(file).size < b.length, 'not the whole blob')
})
