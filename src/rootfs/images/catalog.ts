// Read and change what the store holds: resolve a name, list, remove.
import { PodError } from '../../errors.js'
import { DEFAULT_STATE_ROOT, describeStored, findStored, type ImageRecord, readAllStored, removeLayerDir, removeStored, storePaths, toRecord, withStoreLock } from './store.js'

/**
 * The image `name` names (busybox, busybox:1.36, docker.io/library/busybox:latest,
 * name@sha256:..., or an image id prefix). Throws `image.resolve` (IMAGE_NOT_FOUND)
 * listing the images there are, `image.name` for a malformed name.
 */
export function resolveImage(root: string = DEFAULT_STATE_ROOT, name: string): ImageRecord {
  const p = storePaths(root)
  const all = readAllStored(p)
  const found = findStored(all, name)
  if (found) return toRecord(p, found)
  throw new PodError(`image.resolve: ${name}: no such image in the local store (${p.store}); available: ${describeStored(all)}`, {
    step: 'image.resolve',
    code: 'IMAGE_NOT_FOUND',
    path: p.store,
    hint: 'there is no registry: import the image first with pod-launch image import FILE [name:tag] (FILE from docker save, podman save, or skopeo copy ... oci-archive:FILE)',
  })
}

/** Every image in the store, sorted by id. */
export function listImages(root: string = DEFAULT_STATE_ROOT): ImageRecord[] {
  const p = storePaths(root)
  return readAllStored(p).map(s => toRecord(p, s))
}

export interface Removed {
  id: string
  names: string[]
  /** Layer directories deleted (used by no other image). */
  layers: string[]
}

/**
 * Remove the image `name` names, with its layers that no other image uses.
 * Throws `image.resolve` (IMAGE_NOT_FOUND), `image.remove`.
 */
export async function removeImage(root: string = DEFAULT_STATE_ROOT, name: string): Promise<Removed> {
  const p = storePaths(root)
  return withStoreLock(p, () => {
    const target = resolveImage(root, name)
    const all = readAllStored(p)
    const stored = all.find(s => s.id === target.id)!
    const inUse = new Set(all.filter(s => s.id !== target.id).flatMap(s => s.diffIds))
    removeStored(p, target.id)
    const gone: string[] = []
    for (const [i, diffId] of stored.diffIds.entries()) {
      if (inUse.has(diffId) || stored.diffIds.indexOf(diffId) !== i) continue
      try {
        removeLayerDir(p, diffId)
      } catch (e) {
        throw PodError.system('image.remove', e, target.layers[i])
      }
      gone.push(target.layers[i])
    }
    return { id: target.id, names: target.names, layers: gone }
  })
}
