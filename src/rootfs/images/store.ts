// The local image store under <root>/images: layers/<diffID hex>/ (unpacked,
// shared by images), images/<id hex>.json (one record per image, written
// tmp + rename), tmp/ (imports and pulls in progress), locks/ (one flock per
// image being pulled), lock (flock while layers are moved in or removed and
// records change).
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { writeJsonAtomic } from '../../atomic-file.js'
import { join } from 'node:path'
import { PodError } from '../../errors.js'
import { DEFAULT_STATE_ROOT } from '../../state/layout.js'
import { startTicks } from '../../state/proc.js'
import { withLock } from '../../state/store.js'
import type { ImageConfig } from './manifest.js'
import { familiarName, isIdLike, parseImageName } from './names.js'

export { DEFAULT_STATE_ROOT }

/** An image in the store, as the container start uses it. */
export interface ImageRecord {
  /** `sha256:<hex>` of the image config. */
  id: string
  /** Canonical names (`docker.io/library/busybox:latest`) and digest references. */
  names: string[]
  /** Absolute layer directories, bottom to top (overlayfs lowerdir takes them top first). */
  layers: string[]
  config: ImageConfig
  created?: string
  /** Bytes of file content in all layers. */
  size: number
  /** Digest of the image manifest it came from (OCI layouts, registries). */
  manifestDigest?: string
  /** Digests of the layer blobs as distributed, bottom to top, when known. */
  layerDigests?: string[]
  diffIds: string[]
  os?: string
  architecture?: string
}

/** What images/<id>.json holds: layer keys rather than paths, so the state root can move. */
export interface StoredImage {
  id: string
  names: string[]
  diffIds: string[]
  config: ImageConfig
  created?: string
  size: number
  os?: string
  architecture?: string
  manifestDigest?: string
  layerDigests?: string[]
}

export interface StorePaths {
  store: string
  layers: string
  images: string
  /** The config JSON of each image as it came (`image inspect`), <id hex>.json. */
  configs: string
  tmp: string
  /** Lock files of pulls in progress (one per manifest digest). */
  locks: string
  lock: string
}

export function storePaths(root: string = DEFAULT_STATE_ROOT): StorePaths {
  const store = join(root, 'images')
  return {
    store,
    layers: join(store, 'layers'),
    images: join(store, 'images'),
    configs: join(store, 'configs'),
    tmp: join(store, 'tmp'),
    locks: join(store, 'locks'),
    lock: join(store, 'lock'),
  }
}

export function ensureStore(p: StorePaths): void {
  for (const dir of [p.store, p.layers, p.images, p.configs, p.tmp]) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 })
    } catch (e) {
      throw PodError.system('image.store', e, dir)
    }
  }
}

export const hexOf = (digest: string): string => digest.replace(/^sha256:/, '')
export const configFile = (p: StorePaths, id: string): string => join(p.configs, `${hexOf(id)}.json`)
export const layerDir = (p: StorePaths, diffId: string): string => join(p.layers, hexOf(diffId))

/** Hold the store lock while `fn` runs (two importers never move the same layer at once). */
export function withStoreLock<T>(p: StorePaths, fn: () => Promise<T> | T): Promise<T> {
  return withLock(p.lock, fn, 60_000)
}

export function toRecord(p: StorePaths, s: StoredImage): ImageRecord {
  const { diffIds, ...rest } = s
  const r: ImageRecord = { ...rest, layers: diffIds.map(d => layerDir(p, d)), diffIds }
  return r
}

export function writeStored(p: StorePaths, s: StoredImage): void {
  writeJsonAtomic(join(p.images, `${hexOf(s.id)}.json`), s, 0o600, 'image.store')
}

export function readAllStored(p: StorePaths): StoredImage[] {
  if (!existsSync(p.images)) return []
  const out: StoredImage[] = []
  for (const f of readdirSync(p.images).sort()) {
    if (!/^[0-9a-f]{64}\.json$/.test(f)) continue
    const file = join(p.images, f)
    try {
      const s = JSON.parse(readFileSync(file, 'utf8')) as StoredImage
      if (typeof s.id !== 'string' || !Array.isArray(s.names) || !Array.isArray(s.diffIds)) throw new Error('missing id, names or diffIds')
      out.push(s)
    } catch (e) {
      throw new PodError(`image.store: ${file}: corrupt image record (${(e as Error).message})`, {
        step: 'image.store',
        code: 'STATE_CORRUPT',
        path: file,
        hint: 'remove the file and import the image again',
      })
    }
  }
  return out
}

export function removeStored(p: StorePaths, id: string): void {
  rmSync(join(p.images, `${hexOf(id)}.json`), { force: true })
  rmSync(configFile(p, id), { force: true })
}

/** Delete a layer directory: renamed away first, so a half-deleted layer never sits under its key. */
export function removeLayerDir(p: StorePaths, diffId: string): void {
  const dir = layerDir(p, diffId)
  if (!existsSync(dir)) return
  // Named like an ingest (ingest.ts INGEST_NAME), so gc can prove a crashed remover dead.
  const trash = join(p.tmp, `rm-${process.pid}-${startTicks(process.pid) ?? 0}-${hexOf(diffId).slice(0, 16)}-${Date.now()}`)
  renameSync(dir, trash)
  rmSync(trash, { recursive: true, force: true })
}

/** Bytes of regular file content under `dir` (symlinks not followed). */
export function dirSize(dir: string): number {
  let n = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name)
    if (e.isDirectory()) n += dirSize(path)
    else if (e.isFile()) n += lstatSync(path).size
  }
  return n
}

/** The stored image `name` names (a name, name@digest, or an id / id prefix), or undefined. */
export function findStored(all: StoredImage[], name: string): StoredImage | undefined {
  if (isIdLike(name)) {
    const hex = hexOf(name)
    const byId = all.filter(s => hexOf(s.id).startsWith(hex))
    if (byId.length === 1) return byId[0]
  }
  const ref = parseImageName(name)
  if (ref.digest) {
    const repo = `${ref.registry}/${ref.repository}`
    return all.find(s => s.names.includes(ref.canonical) || (s.id === ref.digest && s.names.some(n => n.startsWith(repo + ':') || n.startsWith(repo + '@'))))
  }
  return all.find(s => s.names.includes(ref.canonical))
}

/** One line per image for messages: `busybox:latest (sha256:0123456789ab)`. */
export function describeStored(all: StoredImage[]): string {
  if (all.length === 0) return 'none'
  return all
    .map(
      s =>
        `${
          s.names
            .filter(n => !n.includes('@'))
            .map(familiarName)
            .join(', ') || '<none>'
        } (${s.id.slice(0, 19)})`,
    )
    .join('; ')
}
