// Pull-on-run: which container images a pod's imagePullPolicy asks to pull
// (one pull per distinct image), and one attempt at each. Host and
// directory images are never pulled. Retries with kubelet's back-off are the
// pod's (src/pod/image-pulls.ts).
import { PodError } from '../../../errors.js'
import type { SizeLimits } from '../limits.js'
import { findStored, readAllStored, storePaths } from '../store.js'
import { UNREACHABLE } from './http.js'
import { defaultPullPolicy, type PullPolicy, shouldPull } from './policy.js'
import { type PullEvent, pullImage } from './pull.js'
import { isRegistryImage } from '../../image.js'

export interface PodImage {
  image: string
  imagePullPolicy?: PullPolicy
  /** The field path, for messages: spec.containers[0].image. */
  where: string
  /** The container that runs it. */
  container?: string
}

/** One distinct registry image of a pod: whether the store has it and whether its policy pulls it. */
export interface PlannedPull {
  image: string
  policy: PullPolicy
  present: boolean
  pull: boolean
  /** The containers that run it (the first names the field in messages). */
  users: PodImage[]
}

export interface PodPullOptions {
  root: string
  onEvent?: (e: PullEvent) => void
  warn: (m: string) => void
  /** `host`: a failed pull is a warning; the container then runs on the host view. */
  imageFallback?: 'host'
  signal?: AbortSignal
  limits?: Partial<SizeLimits>
}

export { isRegistryImage }

/** A malformed image name says which field holds it (as resolveImages does). */
function naming<T>(where: string, fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    if (e instanceof PodError && e.step === 'image.name')
      throw new PodError(e.message.replace(/^image\.name: /, `image.name: ${where}: `), { ...e, step: e.step, cause: e })
    throw e
  }
}

/** The registry images of a pod, in container order. Throws `image.name` naming the field. */
export function planPodPulls(images: PodImage[], root: string): PlannedPull[] {
  const out: PlannedPull[] = []
  const stored = readAllStored(storePaths(root))
  for (const img of images) {
    if (!isRegistryImage(img.image)) continue
    const seen = out.find(p => p.image === img.image)
    if (seen) {
      seen.users.push(img)
      continue
    }
    const policy = img.imagePullPolicy ?? naming(img.where, () => defaultPullPolicy(img.image))
    const present = naming(img.where, () => findStored(stored, img.image) !== undefined)
    out.push({ image: img.image, policy, present, pull: shouldPull(policy, present), users: [img] })
  }
  return out
}

/**
 * One attempt at a planned pull: 'pulled', or 'local' (Always with the
 * registry out of reach and the image in the store: a warning) or 'fallback'
 * (--image-fallback host: a warning). Throws what pullImage throws, naming
 * the container's field.
 */
export async function pullPodImage(p: PlannedPull, opts: PodPullOptions): Promise<{ result: 'pulled' | 'local' | 'fallback'; sizeBytes?: number }> {
  const where = p.users[0].where
  try {
    const r = await pullImage(p.image, { root: opts.root, onEvent: opts.onEvent, onWarning: opts.warn, signal: opts.signal, limits: opts.limits })
    return { result: 'pulled', sizeBytes: r.size }
  } catch (e) {
    const err = e as PodError
    // Always with the registry out of reach: the local copy runs, as a warning (offline hosts, test rigs).
    if (p.present && UNREACHABLE.has(err.code ?? '')) {
      opts.warn(`${where}: ${p.image}: pull policy ${p.policy}, but the registry is unreachable (${err.code}): using the image in the local store`)
      return { result: 'local' }
    }
    if (opts.imageFallback === 'host' && err.code !== 'EINTR') {
      opts.warn(`${where}: ${err.message}`)
      return { result: 'fallback' }
    }
    if (err instanceof PodError)
      throw new PodError(`${err.message} (${where})`, { step: err.step, code: err.code, hint: err.hint, cause: err, exitCode: err.exitCode })
    throw e
  }
}

/** Pull each image the pods' policies ask for, once; the first failure throws. */
export async function pullPodImages(images: PodImage[], opts: PodPullOptions): Promise<void> {
  for (const p of planPodPulls(images, opts.root)) if (p.pull) await pullPodImage(p, opts)
}
