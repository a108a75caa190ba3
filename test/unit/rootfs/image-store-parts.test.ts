// Pure parts of the image store: size parsing and limits, PAX xattr records
// read by length (binary values), and which images an index names.
import t from 'tap'
import { parseSize, sizeLimits, formatSize } from '../../../src/rootfs/images/limits.js'
import { parsePaxRecords, TarXattrScanner, xattrsOf } from '../../../src/rootfs/images/tar-xattrs.js'
import { selectImages } from '../../../src/rootfs/images/manifest.js'

t.test('sizes parse with binary and decimal units; bad ones are usage errors', async t => {
  t.equal(parseSize('8GiB', 'x'), 8 * 2 ** 30)
  t.equal(parseSize('512Mi', 'x'), 512 * 2 ** 20)
  t.equal(parseSize('2G', 'x'), 2e9)
  t.equal(parseSize('1000', 'x'), 1000)
  t.throws(() => parseSize('lots', '--max-layer-size'), { step: 'image.limit', exitCode: 2, message: 'image.limit: --max-layer-size: "lots" is not a size' })
  t.throws(() => parseSize('0', 'x'), { code: 'EINVAL' })
  t.same(sizeLimits({}, {}), { layerBytes: 8 * 2 ** 30, imageBytes: 32 * 2 ** 30 })
  t.same(sizeLimits({ imageBytes: 5 }, { POD_LAUNCH_MAX_LAYER_SIZE: '1Mi' }), { layerBytes: 2 ** 20, imageBytes: 5 })
  t.equal(formatSize(64 * 2 ** 20), '64.0 MiB')
})

/** One PAX record: "<len> key=value\n" with len counting itself. */
function rec(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')])
  let len = body.length + 1
  while (String(len).length + body.length !== len) len++
  return Buffer.concat([Buffer.from(String(len)), body])
}

t.test('PAX records are read by length, so binary xattr values with NUL and newline survive', async t => {
  const cap = Buffer.from([1, 0, 0, 2, 0, 0x20, 0, 0, 0x0a, 0, 0, 0])
  const recs = parsePaxRecords(
    Buffer.concat([
      rec('path', Buffer.from('bin/ping')),
      rec('SCHILY.xattr.security.capability', cap),
      rec('LIBARCHIVE.xattr.user.a%20b', Buffer.from(Buffer.from('v').toString('base64'))),
    ]),
  )
  t.equal(recs.get('path')!.toString(), 'bin/ping')
  const x = xattrsOf(recs)
  t.same(x.get('security.capability'), cap)
  t.same(x.get('user.a b'), Buffer.from('v'))
})

function header(name: string, type: string, size: number): Buffer {
  const h = Buffer.alloc(512)
  h.write(name, 0)
  h.write(size.toString(8).padStart(11, '0') + '\0', 124)
  h.write(type, 156)
  h.write('ustar\0', 257)
  return h
}
const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)])

t.test('the scanner gives each entry its own xattrs, split across chunks at any point, and none to others', async t => {
  const pax = rec('SCHILY.xattr.user.k', Buffer.from('v1'))
  const tar = Buffer.concat([
    header('PaxHeaders/a', 'x', pax.length),
    pad(pax),
    header('a', '0', 3),
    pad(Buffer.from('abc')),
    header('b', '0', 0),
    Buffer.alloc(1024),
  ])
  for (const step of [1, 7, 512, 100000]) {
    const s = new TarXattrScanner()
    for (let i = 0; i < tar.length; i += step) s.feed(tar.subarray(i, i + step))
    t.same(s.take('./a')?.get('user.k'), Buffer.from('v1'), `chunks of ${step}`)
    t.equal(s.take('a'), undefined, 'taken once')
    t.equal(s.take('b'), undefined)
  }
})

t.test('an index names one image per name; platforms of one name give the host arch', async t => {
  const d = (c: string, ann: Record<string, string>, arch?: string) => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: 'sha256:' + c.repeat(64),
    size: 1,
    annotations: ann,
    ...(arch ? { platform: { os: 'linux', architecture: arch } } : {}),
  })
  const es = [
    d('a', { 'io.containerd.image.name': 'docker.io/library/a:1' }),
    d('b', { 'org.opencontainers.image.ref.name': 'b:2' }, 'amd64'),
    d('c', { 'org.opencontainers.image.ref.name': 'b:2' }, 'arm64'),
  ]
  t.same(
    selectImages(es, 'i', undefined, 'arm64').map(e => e.digest[7]),
    ['a', 'c'],
  )
  t.same(
    selectImages(es, 'i', 'a:1', 'arm64').map(e => e.digest[7]),
    ['a'],
  )
})
