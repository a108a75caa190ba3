// Read and change what the store holds: resolve a name, list, remove.
import { readFileSync } from 'node:fs'
import { PodError } from '../../errors.js'
import { imageUsers, mountedLayers } from './in-use.js'
import {
  configFile,
  DEFAULT_STATE_ROOT,
  describeStored,
  findStored,
  type ImageRecord,
  readAllStored,
  removeLayerDir,
  removeStored,
  storePaths,
  toRecord,
  withStoreLock,
} from './store.js'

/**
 * The image `name` names (busybox, busybox:1.36, docker.io/library/busybox:latest,
 * name@sha256:..., or an image id prefix). Throws `image.resolve` (IMAGE_NOT_FOUND)
 * listing the images there are, `image.name` for a malformed name.
 */
export function lookupImage(root: string = DEFAULT_STATE_ROOT, name: string): ImageRecord {
  const p = storePaths(root)
  const all = readAllStored(p)
  const found = findStored(all, name)
  if (found) return toRecord(p, found)
  throw new PodError(`image.resolve: ${name}: no such image in the local store (${p.store}); available: ${describeStored(all)}`, {
    step: 'image.resolve',
    code: 'IMAGE_NOT_FOUND',
    path: p.store,
    hint: missingImageHint(name),
  })
}

/** The real ways to get an image into the store, for every "no such image" error. */
export function missingImageHint(name: string): string {
  return (
    `pull it: pod-launch image pull ${name}; or import an archive made elsewhere: docker save ${name} -o img.tar ` +
    `(or skopeo copy docker://${name} docker-archive:img.tar:${name}), then pod-launch image import img.tar`
  )
}

/** Every image in the store, sorted by id. */
export function listImages(root: string = DEFAULT_STATE_ROOT): ImageRecord[] {
  const p = storePaths(root)
  return readAllStored(p).map(s => toRecord(p, s))
}

export interface ImageInspect {
  id: string
  repoTags: string[]
  repoDigests: string[]
  manifestDigest?: string
  created?: string
  os?: string
  architecture?: string
  /** Bytes of file content in all layers. */
  size: number
  /** Bottom to top: the uncompressed digest, the blob digest when known, the directory. */
  layers: { diffId: string; digest?: string; dir: string }[]
  /** The image config JSON as the archive or registry gave it (OCI config.md). */
  config: unknown
}

/** What `image inspect` prints. Throws `image.resolve` (IMAGE_NOT_FOUND), `image.store` (corrupt config). */
export function inspectImage(root: string = DEFAULT_STATE_ROOT, name: string): ImageInspect {
  const p = storePaths(root)
  const r = lookupImage(root, name)
  let config: unknown
  const file = configFile(p, r.id)
  try {
    config = JSON.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    // Imported before the store kept the config as it came: what the record holds.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw PodError.system('image.store', e, file)
    config = { config: r.config, rootfs: { type: 'layers', diff_ids: r.diffIds } }
  }
  const out: ImageInspect = {
    id: r.id,
    repoTags: r.names.filter(n => !n.includes('@')),
    repoDigests: r.names.filter(n => n.includes('@')),
    ...(r.manifestDigest ? { manifestDigest: r.manifestDigest } : {}),
    ...(r.created ? { created: r.created } : {}),
    ...(r.os ? { os: r.os } : {}),
    ...(r.architecture ? { architecture: r.architecture } : {}),
    size: r.size,
    layers: r.diffIds.map((diffId, i) => ({ diffId, ...(r.layerDigests?.[i] ? { digest: r.layerDigests[i] } : {}), dir: r.layers[i] })),
    config,
  }
  return out
}

export interface Removed {
  id: string
  names: string[]
  /** Layer directories deleted (used by no other image). */
  layers: string[]
  /** With --force: pods that still use the image, and the layers left for them (gc removes them once unused). */
  usedBy: string[]
  kept: string[]
}

export interface RemoveOptions {
  /** Remove the record even when a live pod uses the image; its mounted layers stay until gc. */
  force?: boolean
}

/**
 * Remove the image `name` names, with its layers that no other image uses.
 * Refused while a live pod uses it, unless `force`. Throws `image.resolve`
 * (IMAGE_NOT_FOUND), `image.remove` (IMAGE_IN_USE).
 */
export async function removeImage(root: string = DEFAULT_STATE_ROOT, name: string, opts: RemoveOptions = {}): Promise<Removed> {
  const p = storePaths(root)
  return withStoreLock(p, () => {
    const target = lookupImage(root, name)
    const all = readAllStored(p)
    const stored = all.find(s => s.id === target.id)!
    const usedBy = imageUsers(root, stored, all, target.layers)
    if (usedBy.length > 0 && !opts.force) {
      throw new PodError(`image.remove: ${name}: in use by ${usedBy.map(u => (u.includes(' ') ? u : `pod ${u}`)).join(', ')}`, {
        step: 'image.remove',
        code: 'IMAGE_IN_USE',
        exitCode: 1,
        hint:
          'stop and remove the pod first (pod-launch rm --force POD), or image rm --force: ' +
          'the name goes now, the layers once no container uses them (pod-launch gc)',
      })
    }
    const inUse = new Set(all.filter(s => s.id !== target.id).flatMap(s => s.diffIds))
    const mounted = usedBy.length > 0 ? mountedLayers() : new Set<string>()
    removeStored(p, target.id)
    const gone: string[] = []
    const kept: string[] = []
    for (const [i, diffId] of stored.diffIds.entries()) {
      if (inUse.has(diffId) || stored.diffIds.indexOf(diffId) !== i) continue
      if (mounted.has(target.layers[i])) {
        kept.push(target.layers[i])
        continue
      }
      try {
        removeLayerDir(p, diffId)
      } catch (e) {
        throw PodError.system('image.remove', e, target.layers[i])
      }
      gone.push(target.layers[i])
    }
    return { id: target.id, names: target.names, layers: gone, usedBy, kept }
  })
}
