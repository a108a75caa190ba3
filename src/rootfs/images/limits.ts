// How far one import or pull may expand on disk: a cap on each layer's
// uncompressed tar stream and on the sum of the layers one image unpacks, and
// a floor of free space on the store's filesystem while unpacking. A ~1 MB
// gzip of zeros expands to 1 GiB; neither containerd nor podman bound that,
// so the defaults are generous (real layers of CUDA images reach ~5 GiB) and
// the limits are configurable:
//   POD_LAUNCH_MAX_LAYER_SIZE  (default 8GiB)    --max-layer-size
//   POD_LAUNCH_MAX_IMAGE_SIZE  (default 32GiB)   --max-image-size
// The free-space floor is min(256 MiB, 5% of the filesystem).
import { statfsSync } from 'node:fs'
import { PodError } from '../../errors.js'

export interface SizeLimits {
  /** Bytes of one layer's uncompressed tar stream. */
  layerBytes: number
  /** Bytes of the uncompressed layers one image unpacks in one import or pull. */
  imageBytes: number
}

export const DEFAULT_LIMITS: SizeLimits = { layerBytes: 8 * 2 ** 30, imageBytes: 32 * 2 ** 30 }
export const LAYER_LIMIT_ENV = 'POD_LAUNCH_MAX_LAYER_SIZE'
export const IMAGE_LIMIT_ENV = 'POD_LAUNCH_MAX_IMAGE_SIZE'
const RESERVE_BYTES = 256 * 2 ** 20
const RESERVE_FRACTION = 0.05

const UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, ki: 2 ** 10, mi: 2 ** 20, gi: 2 ** 30, ti: 2 ** 40 }

/** `8GiB`, `512Mi`, `1G`, `1000000` -> bytes; throws `image.limit` (exit 2) naming `what`. */
export function parseSize(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(k|m|g|t|ki|mi|gi|ti)?b?\s*$/i.exec(text)
  const n = m ? Math.floor(Number(m[1]) * UNITS[(m[2] ?? '').toLowerCase()]) : NaN
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new PodError(`image.limit: ${what}: ${JSON.stringify(text)} is not a size`, {
      step: 'image.limit',
      code: 'EINVAL',
      exitCode: 2,
      hint: 'give bytes with an optional unit: 8GiB, 512MiB, 2G',
    })
  }
  return n
}

/** The limits from options, else the environment, else the defaults. */
export function sizeLimits(given: Partial<SizeLimits> = {}, env: NodeJS.ProcessEnv = process.env): SizeLimits {
  const pick = (v: number | undefined, name: string, dflt: number) => v ?? (env[name] ? parseSize(env[name], name) : dflt)
  return {
    layerBytes: pick(given.layerBytes, LAYER_LIMIT_ENV, DEFAULT_LIMITS.layerBytes),
    imageBytes: pick(given.imageBytes, IMAGE_LIMIT_ENV, DEFAULT_LIMITS.imageBytes),
  }
}

/** `1.0 GiB`, `64.0 MiB`: sizes in messages. */
export function formatSize(bytes: number): string {
  for (const [unit, n] of [
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const)
    if (bytes >= n) return `${(bytes / n).toFixed(1)} ${unit}`
  return `${bytes} B`
}

export function tooLarge(image: string, layer: string, what: 'layer' | 'image', limit: number, env: string): PodError {
  return new PodError(`image.unpack: ${image}: layer ${layer}: expands past the ${what} size limit of ${formatSize(limit)}`, {
    step: 'image.unpack',
    code: 'IMAGE_TOO_LARGE',
    hint: `nothing was stored; if the image is genuine, raise the limit (--max-${what}-size or ${env}=SIZE)`,
  })
}

/**
 * Throws `<step>` (default `image.unpack`; ENOSPC) when the filesystem of
 * `dir` would have less free space than the floor after `need` more bytes;
 * else returns how many bytes may be written before the next check (half
 * the headroom, 1-64 MiB), so the floor is seen before the disk is full.
 */
export function checkFreeSpace(dir: string, image: string, layer: string, o: { need?: number; step?: string } = {}): number {
  const step = o.step ?? 'image.unpack'
  let st
  try {
    st = statfsSync(dir)
  } catch (e) {
    throw PodError.system(step, e, dir)
  }
  const free = st.bavail * st.bsize
  const floor = Math.min(RESERVE_BYTES, Math.floor(st.blocks * st.bsize * RESERVE_FRACTION))
  const left = free - (o.need ?? 0)
  if (left >= floor) return Math.min(64 * 2 ** 20, Math.max(2 ** 20, Math.floor((left - floor) / 2)))
  const needs = o.need ? `, ${formatSize(o.need)} needed` : ''
  throw new PodError(
    `${step}: ${image}: layer ${layer}: the store's filesystem is nearly full (${formatSize(free)} free${needs}, ${formatSize(floor)} kept free)`,
    {
      step,
      code: 'ENOSPC',
      path: dir,
      hint: 'nothing was stored; free space on the filesystem of the state root (pod-launch gc, image rm) or use another --root',
    },
  )
}
