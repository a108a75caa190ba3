// The unpack worker thread (unpack-thread.ts): a layer file unpacked there
// gives what unpackLayer gives on this thread (files, the diffID), its
// PodErrors cross back with their step, code and message, and after close()
// nothing more is taken. No root: the tar's entries carry our own uid/gid.
import t from 'tap'
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { unpackLayer } from '../../../src/rootfs/images/extract.js'
import { UnpackThread } from '../../../src/rootfs/images/unpack-thread.js'

const dir = mkdtempSync(join(tmpdir(), 'pl-unpack-thread-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
mkdirSync(join(dir, 'src', 'etc'), { recursive: true })
writeFileSync(join(dir, 'src', 'etc', 'hello'), 'hello from the thread\n')
const layer = join(dir, 'layer.tar.gz')
const uid = String(process.getuid!())
const gid = String(process.getgid!())
execFileSync('tar', ['-C', join(dir, 'src'), '--owner', uid, '--group', gid, '--numeric-owner', '-czf', layer, 'etc'])
const diffId = `sha256:${createHash('sha256')
  .update(execFileSync('gzip', ['-dc', layer]))
  .digest('hex')}`
const job = (dest: string, file = layer) => ({
  file,
  dest,
  compression: 'gzip' as const,
  label: 'test layer',
  maxBytes: 1 << 30,
  image: 'test:1',
  layerName: 'sha256:abc',
  limit: { what: 'layer' as const, bytes: 1 << 30, env: 'POD_LAUNCH_MAX_LAYER_SIZE' },
})

t.test('a layer unpacked on the thread is what unpackLayer makes here', async t => {
  const thread = new UnpackThread()
  t.teardown(() => thread.close())
  const there = join(dir, 'there')
  const here = join(dir, 'here')
  mkdirSync(there)
  mkdirSync(here)
  const r = await thread.unpack(job(there))
  t.equal(r.diffId, diffId)
  t.same(r, await unpackLayer(layer, here, { compression: 'gzip', label: 'test layer' }))
  t.equal(readFileSync(join(there, 'etc', 'hello'), 'utf8'), 'hello from the thread\n')
  // A second layer on the same thread.
  const again = join(dir, 'again')
  mkdirSync(again)
  t.equal((await thread.unpack(job(again))).diffId, diffId)
})

t.test("the thread's errors come back as the PodErrors unpackLayer throws", async t => {
  const thread = new UnpackThread()
  t.teardown(() => thread.close())
  const bad = join(dir, 'bad.tar.gz')
  writeFileSync(bad, 'not gzip at all')
  const dest = join(dir, 'bad')
  mkdirSync(dest)
  // (zlib's Z_DATA_ERROR, errno -3, was once reported as ESRCH)
  const invalid = { name: 'PodError', step: 'image.unpack', code: 'IMAGE_INVALID', message: /^image\.unpack: test layer: not a valid tar\.gz/ }
  await t.rejects(thread.unpack(job(dest, bad)), invalid)
  await t.rejects(unpackLayer(bad, dest, { compression: 'gzip', label: 'test layer' }), invalid)
  const small = join(dir, 'small')
  mkdirSync(small)
  await t.rejects(thread.unpack({ ...job(small), maxBytes: 100 }), {
    step: 'image.unpack',
    code: 'IMAGE_TOO_LARGE',
    message: 'image.unpack: test:1: layer sha256:abc: expands past the layer size limit of 1.0 GiB',
  })
})

t.test('after close() the thread takes nothing more', async t => {
  const thread = new UnpackThread()
  await thread.close()
  const dest = join(dir, 'closed')
  mkdirSync(dest)
  await t.rejects(thread.unpack(job(dest)), { name: 'AbortError' })
})
