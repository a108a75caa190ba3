// The local image store (DESIGN.md section 6): import OCI layouts and
// docker-archives, resolve names as Kubernetes does, list and remove.
// The container start takes ImageRecord.layers as overlayfs lowerdirs.
export { importImage, type ImportOptions } from './import.js'
export { resolveImage, listImages, removeImage, type Removed } from './catalog.js'
export { type ImageRecord, DEFAULT_STATE_ROOT, storePaths } from './store.js'
export { type ImageConfig, parseImageConfig, parseOciIndex, parseOciManifest, parseDockerManifest, selectEntry, refNameOf } from './manifest.js'
export { parseImageName, normalizeImageName, familiarName, type ImageRef } from './names.js'
export { unpackLayer, OPAQUE_XATTR } from './extract.js'

/**
 * overlayfs `lowerdir=` option value for an image: the layers top first,
 * colon-separated (the kernel takes the leftmost as the uppermost).
 */
export function lowerdirOption(layers: readonly string[]): string {
  return [...layers].reverse().join(':')
}
export { imageAdditionalGids, imageArgv, imageEnv, imageWorkingDir, resolveImageUser } from './run-config.js'
