// An image archive on disk -> what to import: the config bytes, the layer
// blobs bottom to top, and the names the archive gives. Reads an OCI image
// layout (a directory) or a docker-archive (manifest.json + layer tars, as
// an unpacked directory); tar files are unpacked first by import.ts. Every
// OCI blob is checked against its descriptor's size and sha256 before use.
import { createHash } from 'node:crypto'
import { closeSync, createReadStream, existsSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { PodError } from '../../errors.js'
import {
  type Descriptor,
  type DockerEntry,
  isIndex,
  manifestError,
  parseDockerEntries,
  parseDockerManifest,
  parseJson,
  parseOciIndex,
  parseOciManifest,
  refNameOf,
  safeNormalize,
  selectEntry,
  selectImages,
} from './manifest.js'
import type { Compression } from './extract.js'
import { entryComponents } from './safe-path.js'

export interface LayerBlob {
  /** A file (archives), or a stream that verifies itself as it flows (a pull: registry/blob.ts). */
  source: string | Readable
  compression: Compression
  /** The blob's digest (named in messages); with `size`, a file is verified against both before use. */
  digest?: string
  size?: number
  /** The layer in messages. */
  label: string
}

export interface ImportPlan {
  format: 'oci' | 'docker-archive'
  configBytes: Buffer
  configFile: string
  layers: LayerBlob[]
  /** Canonical names the archive records for the image. */
  names: string[]
  /** The image manifest's digest (OCI): `name@<digest>` resolves to the image too. */
  manifestDigest?: string
  /** The layer blobs' digests (OCI), bottom to top. */
  layerDigests?: string[]
  /** Names the archive records that are not valid image names (dropped, with a warning). */
  invalidNames?: string[]
}

/** What one archive holds: every image it names (docker save a b), or the one `name` picks. */
export function readArchive(dir: string, name?: string): ImportPlan[] {
  return detectFormat(dir) === 'oci' ? readOciLayout(dir, name) : readDockerArchive(dir, name)
}

function digestMismatch(file: string, what: string, want: string, got: string): PodError {
  return new PodError(`image.verify: ${file}: ${what} ${got} does not match the manifest's ${want}`, {
    step: 'image.verify',
    code: 'IMAGE_DIGEST_MISMATCH',
    path: file,
    hint: 'the archive is corrupt or was modified after it was written: export it again',
  })
}

/** Check a blob file's size and sha256 against its descriptor (streaming). */
export async function verifyBlob(file: string, digest: string, size: number): Promise<void> {
  let st
  try {
    st = statSync(file)
  } catch (e) {
    throw PodError.system('image.verify', e, file)
  }
  if (st.size !== size) throw digestMismatch(file, 'size', String(size), String(st.size))
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  const got = `sha256:${hash.digest('hex')}`
  if (got !== digest) throw digestMismatch(file, 'digest', digest, got)
}

function readSmallBlob(dir: string, d: Descriptor): { file: string; bytes: Buffer } {
  const file = join(dir, 'blobs', 'sha256', d.digest.slice('sha256:'.length))
  let bytes: Buffer
  try {
    bytes = readFileSync(file)
  } catch (e) {
    throw PodError.system('image.read', e, file)
  }
  if (bytes.length !== d.size) throw digestMismatch(file, 'size', String(d.size), String(bytes.length))
  const got = `sha256:${createHash('sha256').update(bytes).digest('hex')}`
  if (got !== d.digest) throw digestMismatch(file, 'digest', d.digest, got)
  return { file, bytes }
}

export function isGzip(file: string): boolean {
  const fd = openSync(file, 'r')
  try {
    const b = Buffer.alloc(2)
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b
  } finally {
    closeSync(fd)
  }
}

export function detectFormat(dir: string): 'oci' | 'docker-archive' {
  if (existsSync(join(dir, 'oci-layout')) && existsSync(join(dir, 'index.json'))) return 'oci'
  if (existsSync(join(dir, 'manifest.json'))) return 'docker-archive'
  throw manifestError(dir, 'neither an OCI image layout (oci-layout + index.json) nor a docker-archive (manifest.json)')
}

/** Read an OCI image layout directory: every image its index.json names, or the one `name` picks. */
export function readOciLayout(dir: string, name?: string): ImportPlan[] {
  const layoutFile = join(dir, 'oci-layout')
  const layout = parseJson(readFileSync(layoutFile, 'utf8'), layoutFile) as { imageLayoutVersion?: unknown }
  if (typeof layout?.imageLayoutVersion !== 'string' || !layout.imageLayoutVersion.startsWith('1.'))
    throw manifestError(layoutFile, 'imageLayoutVersion must be 1.x')
  const indexFile = join(dir, 'index.json')
  return selectImages(parseOciIndex(parseJson(readFileSync(indexFile, 'utf8'), indexFile), indexFile), indexFile, name).map(e =>
    readOciImage(dir, indexFile, e, name),
  )
}

function readOciImage(dir: string, indexFile: string, top: Descriptor, name?: string): ImportPlan {
  let entry = top
  const names = new Set<string>()
  for (let depth = 0; isIndex(entry); depth++) {
    if (depth > 4) throw manifestError(indexFile, 'image indexes nested too deep')
    const refName = refNameOf(entry)
    if (refName) names.add(refName)
    const { file, bytes } = readSmallBlob(dir, entry)
    entry = selectEntry(parseOciIndex(parseJson(bytes.toString('utf8'), file), file), file, name)
  }
  const refName = refNameOf(entry)
  if (refName) names.add(refName)
  const { file: manifestFile, bytes } = readSmallBlob(dir, entry)
  const manifest = parseOciManifest(parseJson(bytes.toString('utf8'), manifestFile), manifestFile)
  const config = readSmallBlob(dir, manifest.config)
  return {
    format: 'oci',
    configBytes: config.bytes,
    configFile: config.file,
    layers: manifest.layers.map(l => ({
      source: join(dir, 'blobs', 'sha256', l.digest.slice('sha256:'.length)),
      compression: l.compression,
      digest: l.digest,
      size: l.size,
      label: l.digest,
    })),
    names: [...names],
    manifestDigest: entry.digest,
    layerDigests: manifest.layers.map(l => l.digest),
  }
}

/** A path named inside a docker-archive's manifest.json, kept inside the archive directory. */
function inside(dir: string, rel: string, manifestFile: string): string {
  try {
    entryComponents(rel)
  } catch (e) {
    throw manifestError(manifestFile, `path ${JSON.stringify(rel)}: ${(e as Error).message}`)
  }
  let real: string
  try {
    real = realpathSync(join(dir, rel))
  } catch (e) {
    throw PodError.system('image.read', e, join(dir, rel))
  }
  if (!real.startsWith(realpathSync(dir) + '/')) throw manifestError(manifestFile, `path ${JSON.stringify(rel)} leads outside the archive`)
  return real
}

/** Read a docker-archive directory (docker save / podman save / skopeo docker-archive:): every image, or the one `name` picks. */
export function readDockerArchive(dir: string, name?: string): ImportPlan[] {
  const manifestFile = join(dir, 'manifest.json')
  const json = parseJson(readFileSync(manifestFile, 'utf8'), manifestFile)
  const entries = name ? [parseDockerManifest(json, manifestFile, name)] : parseDockerEntries(json, manifestFile)
  return entries.map(e => readDockerImage(dir, manifestFile, e))
}

function readDockerImage(dir: string, manifestFile: string, entry: DockerEntry): ImportPlan {
  const configFile = inside(dir, entry.config, manifestFile)
  const configBytes = readFileSync(configFile)
  // The config's file name is its sha256 (`<hex>.json`, or blobs/sha256/<hex> in newer docker).
  const named = /(?:^|\/)([0-9a-f]{64})(?:\.json)?$/.exec(entry.config)?.[1]
  const got = createHash('sha256').update(configBytes).digest('hex')
  if (named && named !== got) throw digestMismatch(configFile, 'digest', `sha256:${named}`, `sha256:${got}`)
  return {
    format: 'docker-archive',
    configBytes,
    configFile,
    layers: entry.layers.map(rel => {
      const file = inside(dir, rel, manifestFile)
      return { source: file, compression: isGzip(file) ? 'gzip' : 'tar', label: rel }
    }),
    names: entry.repoTags.map(safeNormalize).filter((n): n is string => n !== undefined),
    invalidNames: entry.repoTags.filter(t => safeNormalize(t) === undefined),
  }
}
