#!/usr/bin/env node
// Add one image to an OCI image layout (image-layout.md), building it from
// directories without any container tool:
//   node scripts/oci-layout.mjs LAYOUT REF CONFIG_JSON LAYER_DIR...
// Each LAYER_DIR becomes a gzip layer (tar --numeric-owner, sorted, mtime 0,
// so the same directory gives the same digest); CONFIG_JSON is the image
// config's `config` object (Entrypoint, Cmd, Env, User...); REF becomes the
// manifest's org.opencontainers.image.ref.name in index.json (skopeo's
// oci:LAYOUT:REF). Blobs shared by several images are stored once, and a
// directory already packed for an earlier image of the same layout is not
// packed again (LAYOUT/.layers.json, which the caller removes when done).
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'

const [layout, ref, configJson, ...layerDirs] = process.argv.slice(2)
if (!layout || !ref || !configJson) {
  console.error('usage: oci-layout.mjs LAYOUT REF CONFIG_JSON LAYER_DIR...')
  process.exit(2)
}

const blobs = join(layout, 'blobs', 'sha256')
mkdirSync(blobs, { recursive: true })
const sha = buf => createHash('sha256').update(buf).digest('hex')

function putBlob(bytes) {
  const hex = sha(bytes)
  const file = join(blobs, hex)
  if (!existsSync(file)) {
    writeFileSync(`${file}.tmp`, bytes)
    renameSync(`${file}.tmp`, file)
  }
  return { digest: `sha256:${hex}`, size: bytes.length }
}

const packedFile = join(layout, '.layers.json')
const packed = existsSync(packedFile) ? JSON.parse(readFileSync(packedFile, 'utf8')) : {}
const layers = []
const diffIds = []
for (const dir of layerDirs.map(d => resolve(d))) {
  if (!statSync(dir).isDirectory()) throw new Error(`${dir}: not a directory`)
  if (!packed[dir]) {
    const tar = execFileSync('tar', ['--numeric-owner', '--sort=name', '--mtime=@0', '--xattrs', '-C', dir, '-cf', '-', '.'], {
      maxBuffer: 2 ** 31,
    })
    packed[dir] = { diffId: `sha256:${sha(tar)}`, desc: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...putBlob(gzipSync(tar, { level: 6 })) } }
    writeFileSync(packedFile, JSON.stringify(packed))
  }
  diffIds.push(packed[dir].diffId)
  layers.push(packed[dir].desc)
}

const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch] ?? process.arch
const config = {
  created: '2026-01-01T00:00:00Z',
  architecture: arch,
  os: 'linux',
  config: JSON.parse(configJson),
  rootfs: { type: 'layers', diff_ids: diffIds },
}
const configDesc = { mediaType: 'application/vnd.oci.image.config.v1+json', ...putBlob(Buffer.from(JSON.stringify(config))) }
const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: configDesc, layers }
const manifestDesc = { mediaType: manifest.mediaType, ...putBlob(Buffer.from(JSON.stringify(manifest))) }

const indexFile = join(layout, 'index.json')
const index = existsSync(indexFile) ? JSON.parse(readFileSync(indexFile, 'utf8')) : { schemaVersion: 2, manifests: [] }
index.manifests = index.manifests.filter(m => m.annotations?.['org.opencontainers.image.ref.name'] !== ref)
index.manifests.push({ ...manifestDesc, platform: { os: 'linux', architecture: arch }, annotations: { 'org.opencontainers.image.ref.name': ref } })
writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
writeFileSync(`${indexFile}.tmp`, JSON.stringify(index))
renameSync(`${indexFile}.tmp`, indexFile)
rmSync(`${indexFile}.tmp`, { force: true })
console.log(`${ref}: ${manifestDesc.digest} (${layers.length} layer(s))`)
