// Which root filesystem each container gets: `host` (the host's programs,
// read-only), a directory (`/abs/path` or `dir:/abs/path`, as the overlay's
// lower layer), or an image from the local store. Resolved once at pod start,
// so a missing image fails before anything runs.
import { existsSync, statSync } from 'node:fs'
import { PodError } from '../errors.js'
import type { PodSpec } from '../spec/index.js'
import type { PodImage } from './images/registry/index.js'
import { DEFAULT_STATE_ROOT } from '../state/layout.js'
import { listImages, lookupImage, missingImageHint } from './images/catalog.js'
import type { ImageConfig } from './images/manifest.js'
import { resolveImageUser } from './images/run-config.js'

/** `imageID`: what kubelet reports as a container's imageID (the repo digest, else the config digest). */
export type ImageSource = { kind: 'host' } | { kind: 'layers'; layers: string[]; config?: ImageConfig; imageID?: string }

export interface ImageOptions {
  /** `host`: run a container whose image is not found locally on the host view (with a warning). */
  imageFallback?: 'host'
  /** Looks a name up in the local image store; undefined when it has no such image. */
  lookup?: (name: string) => ImageSource | undefined
  warn?: (m: string) => void
  /** State root holding the image store (default /run/pod-launch). */
  storeRoot?: string
}

/** The local store's image of that name, or undefined. */
function lookupStore(root: string, name: string): ImageSource | undefined {
  try {
    const img = lookupImage(root, name)
    return { kind: 'layers', layers: img.layers, config: img.config, imageID: img.names.find(n => n.includes('@')) ?? img.id }
  } catch (e) {
    if ((e as PodError).code === 'IMAGE_NOT_FOUND') return undefined
    throw e
  }
}

/** Kubernetes' message for a missing image under imagePullPolicy Never (reason ErrImageNeverPull). */
function neverPull(image: string, where: string): PodError {
  return new PodError(`image.resolve: ${image}: ErrImageNeverPull: Container image "${image}" is not present with pull policy of Never (${where})`, {
    step: 'image.resolve',
    code: 'ErrImageNeverPull',
    exitCode: 1,
    hint: `${missingImageHint(image)}; or run with --image-fallback host`,
  })
}

export function resolveImage(image: string, where: string, opts: ImageOptions, pullPolicy?: 'Always' | 'IfNotPresent' | 'Never'): ImageSource {
  if (image === 'host') return { kind: 'host' }
  if (image.startsWith('/') || image.startsWith('dir:')) {
    const dir = image.startsWith('dir:') ? image.slice(4) : image
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new PodError(`image.resolve: ${dir}: not a directory (${where})`, {
        step: 'image.resolve',
        code: 'ENOENT',
        path: dir,
        hint: 'a directory image must be a root filesystem directory on this host',
      })
    }
    return { kind: 'layers', layers: [dir] }
  }
  let found: ImageSource | undefined
  try {
    found = opts.lookup ? opts.lookup(image) : lookupStore(opts.storeRoot ?? DEFAULT_STATE_ROOT, image)
  } catch (e) {
    // A malformed name: say which field holds it.
    if (e instanceof PodError && e.step === 'image.name')
      throw new PodError(e.message.replace(/^image\.name: /, `image.name: ${where}: `), { ...e, step: e.step, cause: e })
    throw e
  }
  if (found) return found
  if (opts.imageFallback === 'host') {
    opts.warn?.(`${where}: image ${image} is not in the local store: running it on the host view (--image-fallback host)`)
    return { kind: 'host' }
  }
  if (pullPolicy === 'Never') throw neverPull(image, where)
  const have = opts.lookup ? [] : listImages(opts.storeRoot ?? DEFAULT_STATE_ROOT).flatMap(i => i.names)
  throw new PodError(
    `image.resolve: ${image}: no such image in the local store (${where}); ${have.length ? `the store has: ${have.join(', ')}` : 'the store is empty'}`,
    {
      step: 'image.resolve',
      code: 'IMAGE_NOT_FOUND',
      exitCode: 1,
      hint: `${missingImageHint(image)}; image: host runs it on the host's filesystem, --image-fallback host does that for missing images`,
    },
  )
}

/** Whether an image comes from a registry (not `host`, not a directory): what pull-on-run may pull. */
export const isRegistryImage = (image: string): boolean => image !== 'host' && !image.startsWith('/') && !image.startsWith('dir:')

/** Every container's image with its pull policy and field path, init containers first (what pull-on-run pulls). */
export function podImages(spec: PodSpec): PodImage[] {
  return [
    ...spec.initContainers.map((c, i) => ({ image: c.image, imagePullPolicy: c.imagePullPolicy, where: `spec.initContainers[${i}].image`, container: c.name })),
    ...spec.containers.map((c, i) => ({ image: c.image, imagePullPolicy: c.imagePullPolicy, where: `spec.containers[${i}].image`, container: c.name })),
  ]
}

export function resolveImages(spec: PodSpec, opts: ImageOptions): Map<string, ImageSource> {
  const out = new Map<string, ImageSource>()
  const all = [
    ...spec.initContainers.map((c, i) => [c, `spec.initContainers[${i}].image`] as const),
    ...spec.containers.map((c, i) => [c, `spec.containers[${i}].image`] as const),
  ]
  for (const [c, where] of all) {
    const img = resolveImage(c.image, where, opts, c.imagePullPolicy)
    // An image USER missing from the image's /etc/passwd fails here, before anything is made.
    if (img.kind === 'layers' && img.config?.user && c.securityContext.runAsUser === undefined) resolveImageUser(img.layers, img.config.user)
    out.set(c.name, img)
  }
  return out
}
