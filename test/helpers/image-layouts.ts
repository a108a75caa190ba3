// Image archives built in a test (an OCI layout as `docker save a b` and
// skopeo write it, a docker-archive with several RepoTags) and the state
// roots of an image test file with their leak check.
import type { Test } from 'tap'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { mountsBelow } from '../../src/state/index.js'

export const sha = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex')

export interface Img {
  names: string[]
  layers: Buffer[]
  cmd: string[]
}

/** An OCI layout holding several images, one index.json entry per name, annotated as `docker save a b` does. */
export function ociLayout(dir: string, imgs: Img[]): string {
  mkdirSync(join(dir, 'blobs/sha256'), { recursive: true })
  const blob = (b: Buffer | string) => {
    writeFileSync(join(dir, 'blobs/sha256', sha(b).slice(7)), b)
    return { digest: sha(b), size: Buffer.byteLength(b) }
  }
  const manifests: object[] = []
  for (const img of imgs) {
    const config = JSON.stringify({
      created: '2025-06-01T00:00:00Z',
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: img.cmd },
      rootfs: { type: 'layers', diff_ids: img.layers.map(l => sha(l)) },
    })
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...blob(config) },
      layers: img.layers.map(l => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...blob(gzipSync(l)) })),
    })
    const m = blob(manifest)
    for (const name of img.names) {
      const tag = name.split(':').pop()!
      manifests.push({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        ...m,
        annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': tag },
      })
    }
  }
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }))
  return dir
}

/** A docker-archive directory: one manifest.json entry per image, with all its RepoTags. */
export function dockerArchive(dir: string, imgs: Img[]): string {
  mkdirSync(dir, { recursive: true })
  const entries = imgs.map((img, i) => {
    const layers = img.layers.map((l, k) => {
      mkdirSync(join(dir, `l${i}-${k}`))
      writeFileSync(join(dir, `l${i}-${k}/layer.tar`), l)
      return `l${i}-${k}/layer.tar`
    })
    const config = JSON.stringify({ os: 'linux', config: { Cmd: img.cmd }, rootfs: { type: 'layers', diff_ids: img.layers.map(l => sha(l)) } })
    writeFileSync(join(dir, `${sha(config).slice(7)}.json`), config)
    return { Config: `${sha(config).slice(7)}.json`, RepoTags: img.names, Layers: layers }
  })
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(entries))
  return dir
}

/**
 * The state roots of one test file (t.testdir is for inputs): `newRoot()` makes
 * a fresh one under a directory of the file's own; `leakCheck(t)` asserts no
 * mount, tmp entry or pod dir is left under any of them, then removes them.
 */
export function imageRoots(prefix: string): { newRoot: () => string; leakCheck: (t: Test) => void } {
  const roots: string[] = []
  let work = ''
  return {
    newRoot() {
      if (!work) work = mkdtempSync(join(tmpdir(), `${prefix}-`))
      const root = mkdtempSync(join(work, 'root-'))
      roots.push(root)
      return root
    },
    leakCheck(t) {
      for (const root of roots) {
        t.same(mountsBelow(root), [], `${root}: no mount`)
        const tmp = join(root, 'images/tmp')
        t.same(existsSync(tmp) ? readdirSync(tmp) : [], [], `${root}: tmp/ empty`)
        t.same(
          readdirSync(root).filter(n => /^[0-9a-f-]{36}$/.test(n)),
          [],
          `${root}: no pod dir`,
        )
      }
      if (work) rmSync(work, { recursive: true, force: true })
    },
  }
}
