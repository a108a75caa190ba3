// Layers download in parallel, PULL_PARALLEL (3) at once and never more,
// from the real registry (Debian's docker-registry on 127.0.0.1, filled by
// skopeo): an image of 5 layers of 4 MiB of random bytes each (several
// socket reads per layer), pulled through the library with its progress
// events recorded. Three downloads are open at once, the fourth starts only
// when one of them is done, and the progress of different layers
// interleaves (the downloads really run side by side, not one after another).
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { listImages, pullImage, type PullEvent } from '../../src/index.js'
import { PULL_PARALLEL } from '../../src/rootfs/images/registry/pull.js'
import { startRegistry, type Registry } from '../helpers/registry.js'
import { requires } from '../helpers/requires.js'
import { makeTar } from '../helpers/tar-writer.js'

const skip = requires('root')
const LAYERS = 5
const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`

/** An OCI layout of LAYERS gzip layers, each one file of 4 MiB of random bytes. */
function layout(dir: string): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true })
  const put = (b: Buffer | string) => {
    writeFileSync(join(dir, 'blobs', 'sha256', sha(b).slice(7)), b)
    return { digest: sha(b), size: Buffer.byteLength(b) }
  }
  const diffIds: string[] = []
  const layers = []
  for (let i = 0; i < LAYERS; i++) {
    const tar = makeTar([{ path: `layer${i}.bin`, body: randomBytes(4 << 20) }])
    diffIds.push(sha(tar))
    layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...put(gzipSync(tar, { level: 1 })) })
  }
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch as string] ?? process.arch
  const config = put(JSON.stringify({ architecture: arch, os: 'linux', config: { Cmd: ['/bin/true'] }, rootfs: { type: 'layers', diff_ids: diffIds } }))
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers,
  })
  const m = put(manifest)
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': 'five' } }],
    }),
  )
}

let reg: Registry
let work: string
t.before(async () => {
  if (skip) return
  work = mkdtempSync(join(tmpdir(), 'pl-par-'))
  layout(join(work, 'oci'))
  reg = await startRegistry()
  reg.push(`oci:${join(work, 'oci')}:five`, 'test/five:1')
})
t.teardown(async () => {
  await reg?.stop()
  if (work) rmSync(work, { recursive: true, force: true })
})

t.test(`layers download ${PULL_PARALLEL} at once, never more, their progress interleaved`, { skip }, async t => {
  const root = join(work, 'root')
  const events: Extract<PullEvent, { type: 'layer' }>[] = []
  const img = await pullImage(`${reg.host}/test/five:1`, { root, onEvent: e => void (e.type === 'layer' && events.push(e)) })
  t.equal(img.layers.length, LAYERS)
  t.same(
    listImages(root).map(i => i.names[0]),
    [`${reg.host}/test/five:1`],
  )

  // Downloads open at each moment: from a layer's first 'downloading' event to its 'downloaded'.
  const open = new Set<string>()
  let most = 0
  for (const e of events) {
    if (e.state === 'downloading') open.add(e.digest)
    if (e.state === 'downloaded') open.delete(e.digest)
    most = Math.max(most, open.size)
  }
  t.equal(most, PULL_PARALLEL, `${PULL_PARALLEL} downloads open at once, never more`)

  // Interleaved: some layer's progress comes between two progress events of another layer.
  const progress = events.filter(e => e.state === 'downloading' && e.bytes > 0).map(e => e.digest)
  const interleaved = progress.some((d, i) => {
    const next = progress.indexOf(d, i + 1)
    return next > i + 1 && progress.slice(i + 1, next).some(o => o !== d)
  })
  t.ok(interleaved, 'the progress of different layers interleaves')

  for (const d of new Set(events.map(e => e.digest))) {
    const states = events.filter(e => e.digest === d).map(e => e.state)
    t.same([...new Set(states)], ['downloading', 'downloaded', 'extracting', 'done'], `layer ${d.slice(7, 19)}: downloaded whole, then unpacked`)
  }
})
