// The local image store (DESIGN.md section 6): import OCI layouts and
// docker-archives, resolve names as Kubernetes does, list and remove.
// The container start takes ImageRecord.layers as overlayfs lowerdirs.
export { importImage, importImages, type ImportOptions } from './import.js'
export { lookupImage, missingImageHint, listImages, removeImage, inspectImage, type Removed, type RemoveOptions, type ImageInspect } from './catalog.js'
export { beginIngest, Ingest, type NewImage, type IngestOptions } from './ingest.js'
export { gcImageStore, type StoreGcAction } from './store-gc.js'
export { DEFAULT_LIMITS, LAYER_LIMIT_ENV, IMAGE_LIMIT_ENV, parseSize, sizeLimits, type SizeLimits } from './limits.js'
export { type ImageRecord, DEFAULT_STATE_ROOT, ensureStore, storePaths } from './store.js'
export { type ImageConfig, parseImageConfig, parseOciIndex, parseOciManifest, parseDockerManifest, selectEntry, refNameOf } from './manifest.js'
export { parseImageName, normalizeImageName, familiarName, DEFAULT_REGISTRY, type ImageRef } from './names.js'
export { unpackLayer } from './extract.js'

/**
 * overlayfs `lowerdir=` option value for an image: the layers top first,
 * colon-separated (the kernel takes the leftmost as the uppermost).
 */
export function lowerdirOption(layers: readonly string[]): string {
  return [...layers].reverse().join(':')
}
export { imageAdditionalGids, imageArgv, imageEnv, imageWorkingDir, resolveImageUser, OPAQUE_XATTR } from './run-config.js'
export {
  pullImage,
  checkLogin,
  pullPodImages,
  parsePlatform,
  saveCredentials,
  removeCredentials,
  RegistryClient,
  readRegistriesConfig,
  type Credentials,
  type PullEvent,
  type PullOptions,
} from './registry/index.js'
