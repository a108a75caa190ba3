// Pull progress as docker pull prints it: a line per finished layer when not
// a TTY; on a TTY one live line per layer, redrawn in place, then a summary.
import t from 'tap'
import { pullProgress } from '../../../src/cli/pull-progress.js'

const A = `sha256:${'a'.repeat(64)}`
const B = `sha256:${'b'.repeat(64)}`
const resolved = { type: 'resolved' as const, image: 'reg/app:1', digest: `sha256:${'d'.repeat(64)}` }

function feed(isTTY: boolean) {
  let out = ''
  let now = 0
  const on = pullProgress({ write: s => void (out += s), isTTY }, () => now)
  on({
    ...resolved,
    layers: [
      { digest: A, size: 2e6, state: 'waiting' },
      { digest: B, size: 1e6, state: 'exists' },
    ],
  })
  on({ type: 'layer', digest: A, state: 'downloading', bytes: 0, size: 2e6 })
  now = 500
  on({ type: 'layer', digest: A, state: 'downloading', bytes: 1e6, size: 2e6 })
  now = 600
  on({ type: 'layer', digest: A, state: 'downloaded', bytes: 2e6, size: 2e6 })
  now = 1000
  on({ type: 'layer', digest: A, state: 'extracting', bytes: 2e6, size: 2e6 })
  on({ type: 'layer', digest: A, state: 'done', bytes: 2e6, size: 2e6 })
  on({ type: 'done', image: 'reg/app:1', digest: resolved.digest, id: `sha256:${'e'.repeat(64)}`, downloadedBytes: 2e6, elapsedMs: 1000, downloadMs: 600 })
  return out
}

t.test('not a TTY: a line per layer that exists or finished, then the digest and a summary', async t => {
  t.equal(
    feed(false),
    [
      `pulling reg/app:1 (${resolved.digest})`,
      'bbbbbbbbbbbb: Already exists',
      'aaaaaaaaaaaa: Pull complete  2.0 MB  in 1.0 s',
      `Digest: ${resolved.digest}`,
      'Status: downloaded 2.0 MB in 0.60 s, unpacked in 0.40 s for reg/app:1 (image eeeeeeeeeeee)',
      '',
    ].join('\n'),
  )
})

t.test('a TTY: each layer a line redrawn in place with bytes, total and speed', async t => {
  const out = feed(true)
  t.match(out, '\x1b[2Kaaaaaaaaaaaa: Downloading  1.0 MB / 2.0 MB  2.0 MB/s\n', 'bytes / total and speed')
  t.match(out, '\x1b[2A\x1b[2Kaaaaaaaaaaaa: Pull complete  2.0 MB\n\x1b[2Kbbbbbbbbbbbb: Already exists\n', 'moved up over both lines and rewrote them')
  t.notMatch(out, /\n\n/, 'no blank lines')
  t.match(out, '\x1b[2Kaaaaaaaaaaaa: Download complete  2.0 MB / 2.0 MB\n', 'the download done, the unpack to come')
  t.match(out, /Status: downloaded 2\.0 MB in 0\.60 s, unpacked in 0\.40 s for reg\/app:1/)
})

t.test('a second pull (the next image, or a retry) starts a block of its own', async t => {
  let out = ''
  const on = pullProgress({ write: s => void (out += s), isTTY: true }, () => 0)
  on({ ...resolved, layers: [{ digest: A, size: 1, state: 'waiting' }] })
  out = ''
  on({ ...resolved, layers: [{ digest: A, size: 1, state: 'waiting' }] })
  t.equal(out, `pulling reg/app:1 (${resolved.digest})\n\x1b[2Kaaaaaaaaaaaa: Waiting\n`, 'no cursor move over the old block, no duplicate row')
})
