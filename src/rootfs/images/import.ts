// importImages: an OCI layout or docker-archive (directory or tar) -> every
// image it holds, each layer unpacked once, through one ingest (ingest.ts):
// nothing is visible in the store until each image's commit, and a failure
// (or a kill: gc) leaves nothing behind.
import { mkdirSync, statSync } from 'node:fs'
import { PodError } from '../../errors.js'
import { beginIngest, type Ingest } from './ingest.js'
import type { SizeLimits } from './limits.js'
import { parseImageConfig, parseJson } from './manifest.js'
import { familiarName, normalizeImageName } from './names.js'
import { isGzip, readArchive } from './source.js'
import { DEFAULT_STATE_ROOT, type ImageRecord } from './store.js'

export interface ImportOptions {
  /** State root (default /run/pod-launch); the store is <root>/images. */
  root?: string
  /** A name:tag to record for the image (besides those in the archive); picks it when the archive holds several. */
  name?: string
  /** Warnings (skipped device nodes, unknown markers). */
  onWarning?: (message: string) => void
  /** Expanded-size limits (default: limits.ts, from the environment). */
  limits?: Partial<SizeLimits>
}

function openArchive(file: string, ing: Ingest, opts: ImportOptions): Promise<string> | string {
  let isDir: boolean
  try {
    isDir = statSync(file).isDirectory()
  } catch (e) {
    throw PodError.system('image.read', e, file, {
      hint: 'give the path of an image archive: docker save -o busybox.tar busybox, or skopeo copy ... oci-archive:busybox.tar',
    })
  }
  if (isDir) return file
  const dir = ing.path('archive')
  mkdirSync(dir)
  // The archive is a tar like a layer: unpacked with the same checks and limits.
  return import('./extract.js')
    .then(({ unpackLayer }) =>
      unpackLayer(file, dir, { compression: isGzip(file) ? 'gzip' : 'tar', label: file, onWarning: opts.onWarning, maxBytes: ing.limits.imageBytes }),
    )
    .then(() => dir)
}

/**
 * Import every image an archive holds (as `docker load`), or the one
 * `opts.name` names. Throws `image.read`, `image.manifest` (IMAGE_INVALID),
 * `image.verify` (IMAGE_DIGEST_MISMATCH), `image.unpack` (IMAGE_LAYER_UNSAFE,
 * IMAGE_INVALID, IMAGE_TOO_LARGE, ENOSPC), `image.name`, `image.store`.
 */
export async function importImages(file: string, opts: ImportOptions = {}): Promise<ImageRecord[]> {
  const extraName = opts.name === undefined ? undefined : normalizeImageName(opts.name)
  const ing = beginIngest(opts.root ?? DEFAULT_STATE_ROOT, 'import', { limits: opts.limits, onWarning: opts.onWarning })
  try {
    const dir = await openArchive(file, ing, opts)
    const plans = readArchive(dir, opts.name).map(plan => {
      const parsed = parseImageConfig(parseJson(plan.configBytes.toString('utf8'), plan.configFile), plan.configFile)
      if (parsed.diffIds.length !== plan.layers.length) {
        throw new PodError(`image.manifest: ${file}: ${plan.layers.length} layers but the config lists ${parsed.diffIds.length} diff_ids`, {
          step: 'image.manifest',
          code: 'IMAGE_INVALID',
          path: file,
        })
      }
      for (const bad of plan.invalidNames ?? [])
        opts.onWarning?.(`image.name: ${file}: RepoTags entry ${JSON.stringify(bad)} is not a valid image name: dropped`)
      const names = [...new Set([...plan.names, ...(extraName ? [extraName] : [])])]
      return { plan, parsed, names }
    })
    // One image under several names (index entries of one manifest) is one image with all of them.
    for (let i = plans.length - 1; i > 0; i--) {
      const first = plans.findIndex(q => q.plan.configBytes.equals(plans[i].plan.configBytes) && q.plan.manifestDigest === plans[i].plan.manifestDigest)
      if (first === i) continue
      plans[first].names = [...new Set([...plans[first].names, ...plans[i].names])]
      plans.splice(i, 1)
    }
    // Unpack all first, then commit: a bad image anywhere in the archive stores none of them.
    for (const { plan, parsed, names } of plans) {
      const image = names[0] ? familiarName(names[0]) : file
      for (const [i, layer] of plan.layers.entries()) await ing.addLayer(layer, parsed.diffIds[i], image)
    }
    const out: ImageRecord[] = []
    for (const { plan, parsed, names } of plans)
      out.push(await ing.commit({ configBytes: plan.configBytes, parsed, names, manifestDigest: plan.manifestDigest, layerDigests: plan.layerDigests }))
    return out
  } finally {
    ing.close()
  }
}

/** Import an archive holding one image (or the one `opts.name` picks); with several, the first (importImages gives all). */
export async function importImage(file: string, opts: ImportOptions = {}): Promise<ImageRecord> {
  return (await importImages(file, opts))[0]
}
