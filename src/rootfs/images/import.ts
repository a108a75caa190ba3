// importImage: an OCI layout or docker-archive (directory or tar) -> layers
// unpacked under the store, and the image record. Layers are unpacked into
// tmp/ without the lock (two imports may work at once), then moved to
// layers/<diffID> and the record written under the store lock, so a reader
// never sees a half layer and removeImage never deletes a layer an import is
// about to reference.
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { PodError } from '../../errors.js'
import { unpackLayer } from './extract.js'
import { parseImageConfig, parseJson } from './manifest.js'
import { normalizeImageName } from './names.js'
import { detectFormat, type ImportPlan, isGzip, readDockerArchive, readOciLayout, verifyBlob } from './source.js'
import { DEFAULT_STATE_ROOT, dirSize, ensureStore, type ImageRecord, layerDir, readAllStored, type StoredImage, storePaths, toRecord, withStoreLock, writeStored } from './store.js'

export interface ImportOptions {
  /** State root (default /run/pod-launch); the store is <root>/images. */
  root?: string
  /** A name:tag to record for the image (besides those in the archive). */
  name?: string
  /** Warnings (skipped device nodes, unknown markers). */
  onWarning?: (message: string) => void
}

function openArchive(file: string, work: string, opts: ImportOptions): Promise<string> | string {
  let isDir: boolean
  try {
    isDir = statSync(file).isDirectory()
  } catch (e) {
    throw PodError.system('image.read', e, file, { hint: 'give the path of an image archive: docker save -o busybox.tar busybox, or skopeo copy ... oci-archive:busybox.tar' })
  }
  if (isDir) return file
  const dir = join(work, 'archive')
  mkdirSync(dir)
  // The archive is a tar like a layer: unpacked with the same checks.
  return unpackLayer(file, dir, { compression: isGzip(file) ? 'gzip' : 'tar', label: file, onWarning: opts.onWarning }).then(() => dir)
}

/**
 * Import an image archive into the local store. Throws `image.read`,
 * `image.manifest` (IMAGE_INVALID), `image.verify` (IMAGE_DIGEST_MISMATCH),
 * `image.unpack` (IMAGE_LAYER_UNSAFE, IMAGE_INVALID), `image.name`, `image.store`.
 */
export async function importImage(file: string, opts: ImportOptions = {}): Promise<ImageRecord> {
  const p = storePaths(opts.root ?? DEFAULT_STATE_ROOT)
  ensureStore(p)
  const extraName = opts.name === undefined ? undefined : normalizeImageName(opts.name)
  const work = mkdtempSync(join(p.tmp, 'import-'))
  try {
    const dir = await openArchive(file, work, opts)
    const plan: ImportPlan = detectFormat(dir) === 'oci' ? readOciLayout(dir, opts.name) : readDockerArchive(dir, opts.name)
    const parsed = parseImageConfig(parseJson(plan.configBytes.toString('utf8'), plan.configFile), plan.configFile)
    if (parsed.diffIds.length !== plan.layers.length) {
      throw new PodError(`image.manifest: ${file}: ${plan.layers.length} layers but the config lists ${parsed.diffIds.length} diff_ids`, { step: 'image.manifest', code: 'IMAGE_INVALID', path: file })
    }
    const id = `sha256:${createHash('sha256').update(plan.configBytes).digest('hex')}`
    for (const bad of plan.invalidNames ?? []) opts.onWarning?.(`image.name: ${file}: RepoTags entry ${JSON.stringify(bad)} is not a valid image name: dropped`)

    const unpacked = new Map<string, { dir: string; size: number }>()
    for (const [i, layer] of plan.layers.entries()) {
      const want = parsed.diffIds[i]
      if (unpacked.has(want) || statSync(layerDir(p, want), { throwIfNoEntry: false })) continue
      if (layer.digest !== undefined && layer.size !== undefined) await verifyBlob(layer.file, layer.digest, layer.size)
      const dest = join(work, `layer-${i}`)
      mkdirSync(dest, { mode: 0o755 })
      const { diffId, size } = await unpackLayer(layer.file, dest, { compression: layer.compression, label: layer.label, onWarning: opts.onWarning })
      if (diffId !== want) {
        throw new PodError(`image.verify: ${layer.label}: uncompressed digest ${diffId} does not match the config's diff_id ${want}`, {
          step: 'image.verify',
          code: 'IMAGE_DIGEST_MISMATCH',
          path: layer.file,
          hint: 'the archive is corrupt or was modified after it was written: export it again',
        })
      }
      unpacked.set(want, { dir: dest, size })
    }

    const names = [...new Set([...plan.names, ...(extraName ? [extraName] : [])])]
    if (plan.manifestDigest) for (const n of [...names]) if (!n.includes('@')) names.push(`${n.replace(/:[^/:]+$/, '')}@${plan.manifestDigest}`)

    return await withStoreLock(p, () => {
      let size = 0
      for (const diffId of parsed.diffIds) {
        const target = layerDir(p, diffId)
        const mine = unpacked.get(diffId)
        if (mine && !statSync(target, { throwIfNoEntry: false })) {
          renameSync(mine.dir, target)
          size += mine.size
          unpacked.delete(diffId)
        } else size += mine?.size ?? dirSize(target)
      }
      const all = readAllStored(p)
      // A name moves to the newest image that claims it (docker tag semantics).
      for (const other of all) {
        if (other.id === id || !other.names.some(n => names.includes(n))) continue
        writeStored(p, { ...other, names: other.names.filter(n => !names.includes(n)) })
      }
      const prev = all.find(s => s.id === id)
      const stored: StoredImage = {
        id,
        names: [...new Set([...(prev?.names ?? []), ...names])],
        diffIds: parsed.diffIds,
        config: parsed.config,
        size,
      }
      if (parsed.created) stored.created = parsed.created
      if (parsed.os) stored.os = parsed.os
      if (parsed.architecture) stored.architecture = parsed.architecture
      writeStored(p, stored)
      return toRecord(p, stored)
    })
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

