// Pull-on-run as kubelet does it: each image its imagePullPolicy asks for is
// pulled before anything of the pod is made (no pause, cgroup or address is
// held while a pod waits for an image that may never come). With a back-off,
// a failed pull is retried as kubelet retries it: the containers that run the
// image show Waiting ErrImagePull, then, once kubelet's pod resync would have
// seen the image in back-off, ImagePullBackOff until the next attempt, at
// 10 s, 20 s, 40 s... (capped at 5 min) after each failure. Without one (the
// library's default) the first failure throws. Events and waiting reasons
// are worded as kubelet's image manager words them.
import { setTimeout as sleep } from 'node:timers/promises'
import { PodError } from '../errors.js'
import { isRegistryImage, podImages } from '../rootfs/image.js'
import type { PlannedPull, PodPullOptions } from '../rootfs/images/registry/for-pod.js'
import type { PodSpec } from '../spec/index.js'
import type { WaitingReason } from '../state/index.js'
import { Backoff, type BackoffOptions } from './backoff.js'

export type ImagePullState = 'pulling' | 'pulled' | 'present' | 'failed' | 'backoff'

export interface ImagePullEvent {
  type: 'image-pull'
  image: string
  /** The containers that run the image. */
  containers: string[]
  state: ImagePullState
  /** The error of a failed attempt (failed, backoff). */
  error?: string
  /** Until the next attempt (failed, backoff). */
  retryInMs?: number
  /** How long the pull took (pulled). */
  elapsedMs?: number
  /** Bytes of the image's layers (pulled). */
  sizeBytes?: number
}

export interface ImagePullOptions extends PodPullOptions {
  /** Retry failed pulls with this back-off (kubelet's); without it the first failure throws. */
  backoff?: BackoffOptions
  emit: (e: ImagePullEvent) => void
}

/** Go's time.Duration text for what kubelet prints: 532ms, 1.234s. */
function goDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${+(ms / 1000).toFixed(3)}s`
}

/** A kubelet event: Normal or Warning, its reason and message. */
export interface KubeletEvent {
  type: 'Normal' | 'Warning'
  reason: string
  message: string
}

/** What kubelet reports for an image-pull event: the containers' Waiting state and the events it records. */
export function imagePullView(e: ImagePullEvent): { waiting: { reason: WaitingReason; message?: string }; events: KubeletEvent[] } {
  const q = JSON.stringify(e.image)
  switch (e.state) {
    case 'pulling':
      return { waiting: { reason: 'ContainerCreating' }, events: [{ type: 'Normal', reason: 'Pulling', message: `Pulling image ${q}` }] }
    case 'present':
      return {
        waiting: { reason: 'ContainerCreating' },
        events: [{ type: 'Normal', reason: 'Pulled', message: `Container image ${q} already present on machine` }],
      }
    case 'pulled': {
      const took = goDuration(e.elapsedMs ?? 0)
      const message = `Successfully pulled image ${q} in ${took} (${took} including waiting). Image size: ${e.sizeBytes ?? 0} bytes.`
      return { waiting: { reason: 'ContainerCreating' }, events: [{ type: 'Normal', reason: 'Pulled', message }] }
    }
    case 'failed':
      return {
        waiting: { reason: 'ErrImagePull', message: e.error },
        events: [
          { type: 'Warning', reason: 'Failed', message: `Failed to pull image ${q}: ${e.error}` },
          { type: 'Warning', reason: 'Failed', message: 'Error: ErrImagePull' },
        ],
      }
    case 'backoff':
      return {
        waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image ${q}: ErrImagePull: ${e.error}` },
        events: [
          { type: 'Normal', reason: 'BackOff', message: `Back-off pulling image ${q}` },
          { type: 'Warning', reason: 'Failed', message: 'Error: ImagePullBackOff' },
        ],
      }
  }
}

/** Bad input (exit 2: a malformed name, a bad registries.json) and an interrupt are not retried. */
function retryable(e: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted || !(e instanceof PodError)) return false
  return e.exitCode !== 2 && e.code !== 'EINTR' && e.step !== 'image.name'
}

/** The message of the pull's own error, without the field pullPodImage appends. */
const reasonOf = (e: PodError): string => (e.cause instanceof PodError ? e.cause.message : e.message)

interface Waiting {
  plan: PlannedPull
  containers: string[]
  backoff?: Backoff
  failedAt: number
  retryAt: number
  error?: string
  shownBackoff: boolean
}

/**
 * Pull what the pod's policies ask for, retrying with `opts.backoff`.
 * Throws `image.name` (a malformed name), the pull's error when there is no
 * back-off (or it is bad input), `image.pull` (EINTR) once `opts.signal` aborts.
 */
export async function ensurePodImages(spec: PodSpec, opts: ImagePullOptions): Promise<void> {
  const images = podImages(spec)
  // The registry client loads only for a pod that names a registry image.
  if (!images.some(i => isRegistryImage(i.image))) return
  const { planPodPulls, pullPodImage } = await import('../rootfs/images/registry/for-pod.js')
  const plans = planPodPulls(images, opts.root)
  const names = (p: (typeof plans)[number]) => p.users.map(u => u.container ?? u.where)
  for (const p of plans) if (!p.pull && p.present) opts.emit({ type: 'image-pull', image: p.image, containers: names(p), state: 'present' })
  const todo: Waiting[] = plans
    .filter(p => p.pull)
    .map(p => ({ plan: p, containers: names(p), backoff: opts.backoff && new Backoff(opts.backoff), failedAt: 0, retryAt: 0, shownBackoff: true }))
  const interrupted = (image: string) =>
    new PodError(`image.pull: ${image}: interrupted while waiting to pull; nothing was started`, { step: 'image.pull', code: 'EINTR', exitCode: 130 })
  while (todo.length > 0) {
    for (const w of [...todo]) {
      if (w.retryAt > Date.now()) continue
      const { image } = w.plan
      opts.emit({ type: 'image-pull', image, containers: w.containers, state: 'pulling' })
      const started = Date.now()
      try {
        const got = await pullPodImage(w.plan, opts)
        if (got.result === 'pulled')
          opts.emit({ type: 'image-pull', image, containers: w.containers, state: 'pulled', elapsedMs: Date.now() - started, sizeBytes: got.sizeBytes })
        todo.splice(todo.indexOf(w), 1)
      } catch (e) {
        if (opts.signal?.aborted) throw interrupted(image)
        if (!w.backoff || !retryable(e, opts.signal)) throw e
        w.failedAt = Date.now()
        w.retryAt = w.failedAt + w.backoff.next(0)
        w.error = reasonOf(e as PodError)
        w.shownBackoff = false
        opts.emit({ type: 'image-pull', image, containers: w.containers, state: 'failed', error: w.error, retryInMs: w.retryAt - w.failedAt })
      }
    }
    if (todo.length === 0) break
    // Sleep to the next moment something changes: a retry, or an ErrImagePull that kubelet's resync would turn into ImagePullBackOff.
    const resyncMs = opts.backoff!.initialMs
    const next = Math.min(...todo.map(w => (w.shownBackoff ? w.retryAt : Math.min(w.failedAt + resyncMs, w.retryAt))))
    try {
      await sleep(Math.max(0, next - Date.now()), undefined, opts.signal ? { signal: opts.signal } : {})
    } catch {
      throw interrupted(todo[0].plan.image)
    }
    for (const w of todo) {
      const now = Date.now()
      if (w.shownBackoff || now < w.failedAt + resyncMs || now >= w.retryAt) continue
      w.shownBackoff = true
      opts.emit({ type: 'image-pull', image: w.plan.image, containers: w.containers, state: 'backoff', error: w.error, retryInMs: w.retryAt - now })
    }
  }
}
