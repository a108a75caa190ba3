// Pull-on-run: before a pod starts, pull each container image its
// imagePullPolicy asks for (one pull per distinct image). Host and
// directory images are never pulled.
import { PodError } from '../../../errors.js'
import { findStored, readAllStored, storePaths } from '../store.js'
import { UNREACHABLE } from './http.js'
import { defaultPullPolicy, type PullPolicy, shouldPull } from './policy.js'
import { type PullEvent, pullImage } from './pull.js'

export interface PodImage {
  image: string
  imagePullPolicy?: PullPolicy
  /** The field path, for messages: spec.containers[0].image. */
  where: string
}

export interface PodPullOptions {
  root: string
  onEvent?: (e: PullEvent) => void
  warn: (m: string) => void
  /** `host`: a failed pull is a warning; the container then runs on the host view. */
  imageFallback?: 'host'
  signal?: AbortSignal
}

export const isRegistryImage = (image: string): boolean => image !== 'host' && !image.startsWith('/') && !image.startsWith('dir:')

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

/** Throws what pullImage throws, naming the container's field. */
export async function pullPodImages(images: PodImage[], opts: PodPullOptions): Promise<void> {
  const done = new Set<string>()
  for (const { image, imagePullPolicy, where } of images) {
    if (!isRegistryImage(image) || done.has(image)) continue
    done.add(image)
    const policy = imagePullPolicy ?? naming(where, () => defaultPullPolicy(image))
    const present = naming(where, () => findStored(readAllStored(storePaths(opts.root)), image) !== undefined)
    if (!shouldPull(policy, present)) continue
    try {
      await pullImage(image, { root: opts.root, onEvent: opts.onEvent, onWarning: opts.warn, signal: opts.signal })
    } catch (e) {
      const err = e as PodError
      // Always with the registry out of reach: the local copy runs, as a warning (offline hosts, test rigs).
      if (present && UNREACHABLE.has(err.code ?? '')) {
        opts.warn(`${where}: ${image}: pull policy ${policy}, but the registry is unreachable (${err.code}): using the image in the local store`)
        continue
      }
      if (opts.imageFallback === 'host') {
        opts.warn(`${where}: ${err.message}`)
        continue
      }
      if (err instanceof PodError)
        throw new PodError(`${err.message} (${where})`, { step: err.step, code: err.code, hint: err.hint, cause: err, exitCode: err.exitCode })
      throw e
    }
  }
}
