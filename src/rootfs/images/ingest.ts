// One import or pull in progress: the way anything enters the store.
//
//   const ing = beginIngest(root, 'pull')        // tmp/pull-<pid>-<start ticks>-XXXXXX/
//   ing.path('blobs', hex)                       // download blobs in here (partial ones too)
//   if (!ing.hasLayer(diffId)) await ing.addLayer(blob, diffId, 'nginx:latest')
//   await ing.commit({ configBytes, parsed, names, manifestDigest, layerDigests })
//   ing.close()                                  // always (finally): removes the tmp dir
//
// Everything is written inside the ingest's own directory under tmp/, whose
// name carries its process's pid and start time, so `gc` can prove the owner
// dead before removing it (an interrupted import or pull), and never touches
// a live one. Layers are unpacked there without the lock (two ingests may
// work at once), then `commit` moves them to layers/<diffID> and writes the
// image record under the store lock, so a reader never sees half a layer
// and removeImage never deletes a layer an ingest is about to reference.
import { createHash } from 'node:crypto'
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs'
import { basename, dirname } from 'node:path'
import { join } from 'node:path'
import { PodError } from '../../errors.js'
import { startTicks } from '../../state/proc.js'
import { checkFreeSpace, IMAGE_LIMIT_ENV, LAYER_LIMIT_ENV, type SizeLimits, sizeLimits, tooLarge } from './limits.js'
import type { ParsedConfig } from './manifest.js'
import { type LayerBlob, verifyBlob } from './source.js'
import type { UnpackThread } from './unpack-thread.js'
import {
  configFile,
  dirSize,
  ensureStore,
  type ImageRecord,
  layerDir,
  readAllStored,
  type StoredImage,
  type StorePaths,
  storePaths,
  toRecord,
  withStoreLock,
  writeStored,
} from './store.js'

export interface IngestOptions {
  limits?: Partial<SizeLimits>
  onWarning?: (message: string) => void
}

export interface NewImage {
  /** The config JSON as stored: the image id is its sha256. */
  configBytes: Buffer
  parsed: ParsedConfig
  /** Canonical names (normalizeImageName); `name@manifestDigest` is added for each. */
  names: string[]
  manifestDigest?: string
  /** Digests of the layer blobs as distributed (compressed), bottom to top. */
  layerDigests?: string[]
}

/** `<kind>-<pid>-<start ticks>-`: the prefix of every ingest directory, parsed by gc. */
export const INGEST_NAME = /^([a-z]+)-(\d+)-(\d+)-/

export class Ingest {
  readonly paths: StorePaths
  readonly limits: SizeLimits
  private readonly unpacked = new Map<string, { dir: string; size: number }>()
  private readonly expanded = new Map<string, number>()
  private n = 0

  constructor(
    readonly dir: string,
    paths: StorePaths,
    private readonly opts: IngestOptions,
  ) {
    this.paths = paths
    this.limits = sizeLimits(opts.limits)
  }

  /** A path inside this ingest's directory (parents made). */
  path(...parts: string[]): string {
    const p = join(this.dir, ...parts)
    if (parts.length > 1) mkdirSync(join(this.dir, ...parts.slice(0, -1)), { recursive: true })
    return p
  }

  /** True when the layer is already in the store or unpacked by this ingest. */
  hasLayer(diffId: string): boolean {
    return this.unpacked.has(diffId) || statSync(layerDir(this.paths, diffId), { throwIfNoEntry: false }) !== undefined
  }

  /**
   * Verify (when the blob has a digest) and unpack one layer blob, checking its
   * uncompressed digest against `diffId` and the size limits of `image`. With
   * `thread`, a file blob is unpacked on that worker thread (unpack-thread.ts)
   * and taken as verified already (a pull's download, checked as it was written).
   * Throws `image.verify`, `image.unpack` (IMAGE_TOO_LARGE, ENOSPC, IMAGE_LAYER_UNSAFE, IMAGE_INVALID).
   */
  async addLayer(blob: LayerBlob, diffId: string, image: string, thread?: UnpackThread): Promise<void> {
    if (this.hasLayer(diffId)) return
    if (typeof blob.source === 'string' && blob.digest !== undefined && blob.size !== undefined && !thread)
      await verifyBlob(blob.source, blob.digest, blob.size)
    const dest = join(this.dir, `layer-${this.n++}`)
    mkdirSync(dest, { mode: 0o755 })
    const used = this.expanded.get(image) ?? 0
    const imageLeft = this.limits.imageBytes - used
    const layerName = blob.digest ?? diffId
    const limit =
      imageLeft < this.limits.layerBytes
        ? { what: 'image' as const, bytes: this.limits.imageBytes, env: IMAGE_LIMIT_ENV }
        : { what: 'layer' as const, bytes: this.limits.layerBytes, env: LAYER_LIMIT_ENV }
    const maxBytes = Math.min(this.limits.layerBytes, imageLeft)
    const { compression, label } = blob
    const unpacked =
      thread && typeof blob.source === 'string'
        ? thread.unpack({ file: blob.source, dest, compression, label, maxBytes, image, layerName, limit }, this.opts.onWarning)
        : // The unpacker (tar and the decompressors) loads when a layer is unpacked here: a pull
          // whose layers unpack on the worker thread never compiles it on this one.
          import('./extract.js').then(({ unpackLayer }) =>
            unpackLayer(blob.source, dest, {
              compression,
              label,
              onWarning: this.opts.onWarning,
              maxBytes,
              tooLarge: () => tooLarge(image, layerName, limit.what, limit.bytes, limit.env),
              checkSpace: () => checkFreeSpace(dest, image, layerName),
            }),
          )
    const r = await unpacked.catch(e => {
      // The disk filled between two checks (or another writer filled it): the same one-line error.
      if ((e as PodError).code !== 'ENOSPC' || (e as PodError).message.startsWith(`image.unpack: ${image}:`)) throw e
      throw new PodError(`image.unpack: ${image}: layer ${layerName}: no space left on the store's filesystem`, {
        step: 'image.unpack',
        code: 'ENOSPC',
        path: dest,
        cause: e,
        hint: 'nothing was stored; free space on the filesystem of the state root (pod-launch gc, image rm) or use another --root',
      })
    })
    if (r.diffId !== diffId) {
      throw new PodError(`image.verify: ${blob.label}: uncompressed digest ${r.diffId} does not match the config's diff_id ${diffId}`, {
        step: 'image.verify',
        code: 'IMAGE_DIGEST_MISMATCH',
        ...(typeof blob.source === 'string' && { path: blob.source }),
        hint:
          typeof blob.source === 'string'
            ? 'the archive is corrupt or was modified after it was written: export it again'
            : 'the image was built wrongly or modified after it was pushed: nothing was stored',
      })
    }
    this.expanded.set(image, used + r.streamBytes)
    this.unpacked.set(diffId, { dir: dest, size: r.size })
  }

  /**
   * Move this ingest's layers into the store and write the image record; a
   * name another image had moves to this one (docker tag semantics). Throws
   * `image.store` when a layer the image needs is in neither place.
   */
  commit(img: NewImage): Promise<ImageRecord> {
    const p = this.paths
    const id = `sha256:${createHash('sha256').update(img.configBytes).digest('hex')}`
    const names = [...new Set(img.names)]
    if (img.manifestDigest) for (const n of [...names]) if (!n.includes('@')) names.push(`${n.replace(/:[^/:]+$/, '')}@${img.manifestDigest}`)
    return withStoreLock(p, () => {
      let size = 0
      for (const diffId of img.parsed.diffIds) {
        const target = layerDir(p, diffId)
        const mine = this.unpacked.get(diffId)
        const there = statSync(target, { throwIfNoEntry: false }) !== undefined
        if (mine && !there) {
          renameSync(mine.dir, target)
          this.unpacked.set(diffId, { dir: target, size: mine.size })
        } else if (!there) {
          throw new PodError(`image.store: ${target}: layer ${diffId} of ${names[0] ?? id} is missing (removed meanwhile)`, {
            step: 'image.store',
            code: 'ENOENT',
            path: target,
            hint: 'import or pull the image again',
          })
        }
        size += mine?.size ?? dirSize(target)
      }
      const all = readAllStored(p)
      for (const other of all) {
        if (other.id === id || !other.names.some(n => names.includes(n))) continue
        writeStored(p, { ...other, names: other.names.filter(n => !names.includes(n)) })
      }
      const prev = all.find(s => s.id === id)
      const stored: StoredImage = { id, names: [...new Set([...(prev?.names ?? []), ...names])], diffIds: img.parsed.diffIds, config: img.parsed.config, size }
      const { created, os, architecture } = img.parsed
      if (created) stored.created = created
      if (os) stored.os = os
      if (architecture) stored.architecture = architecture
      const manifestDigest = img.manifestDigest ?? prev?.manifestDigest
      if (manifestDigest) stored.manifestDigest = manifestDigest
      const layerDigests = img.layerDigests ?? prev?.layerDigests
      if (layerDigests) stored.layerDigests = layerDigests
      writeFileAtomic(configFile(p, id), img.configBytes)
      writeStored(p, stored)
      return toRecord(p, stored)
    })
  }

  /** Remove the ingest's directory and whatever is left in it. */
  close(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** The config bytes as they came (their sha256 is the image id): tmp + fsync + rename. */
function writeFileAtomic(file: string, bytes: Buffer): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`)
  try {
    const fd = openSync(tmp, 'w', 0o600)
    try {
      writeSync(fd, bytes)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, file)
  } catch (e) {
    throw PodError.system('image.store', e, file)
  }
}

/** Start an ingest under `<root>/images/tmp`. Throws `image.store`. */
export function beginIngest(root: string, kind: 'import' | 'pull', opts: IngestOptions = {}): Ingest {
  const p = storePaths(root)
  ensureStore(p)
  let dir: string
  try {
    dir = mkdtempSync(join(p.tmp, `${kind}-${process.pid}-${startTicks(process.pid) ?? 0}-`))
  } catch (e) {
    throw PodError.system('image.store', e, p.tmp)
  }
  return new Ingest(dir, p, opts)
}
