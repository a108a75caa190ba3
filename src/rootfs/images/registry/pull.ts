// pullImage: a registry image -> layers unpacked under the store and its
// record, through the store's ingest (ingest.ts), as an import goes: the
// same size limits, free-space checks and atomic commit. Order:
//   1. resolve the manifest (platform picked from an index), then fetch and
//      verify the config while the next steps go on (the unpacks wait for it);
//   2. under a lock per manifest digest (two pulls of one image download it
//      once: the second finds the layers in place), download the missing
//      layers, PULL_PARALLEL at once (containerd's max_concurrent_downloads
//      is 3), each into a file of the ingest with its size and digest
//      checked in the same pass; as each one is on disk, unpack it (one
//      unpack at a time; on a worker thread while other downloads go on:
//      unpack-thread.ts) and check its diff_id. A layer is downloaded whole before it is unpacked, as
//      containerd does: the download runs at the network's pace, not the
//      unpacker's, and its time is what `skopeo copy` is compared with
//      (bench/README.md "Pulls");
//   3. commit: under the store lock, the layers move in and the record is written.
// Until 3 nothing is in layers/ or images/: an interrupted pull leaves only
// its tmp/pull-<pid>-<start ticks>-* (removed on failure; by the next pull or
// gc once that process is gone).
import { createHash } from 'node:crypto'
import { createReadStream, mkdirSync, readdirSync, rmSync } from 'node:fs'
import type { Readable } from 'node:stream'
import { join } from 'node:path'
import { PodError } from '../../../errors.js'
import { withLock } from '../../../state/store.js'
import { beginIngest } from '../ingest.js'
import { checkFreeSpace, type SizeLimits } from '../limits.js'
import { type Descriptor, parseImageConfig, parseJson } from '../manifest.js'
import { parseImageName } from '../names.js'
import { removeDeadIngests } from '../store-gc.js'
import { UnpackThread } from '../unpack-thread.js'
import { DEFAULT_STATE_ROOT, ensureStore, hexOf, type ImageRecord, type StorePaths, storePaths } from '../store.js'
import { blobMismatch, downloadBlob } from './blob.js'
import { type Credentials } from './credentials.js'
import { RegistryClient } from './client.js'
import { readRegistriesConfig } from './hosts.js'
import { readBody } from './http.js'
import { hostPlatform, type Platform } from './platform.js'
import { resolveManifest } from './resolve.js'

export const PULL_PARALLEL = 3
const MAX_CONFIG_BYTES = 16 * 1024 * 1024
/** Stop waiting for another pull of the same image after this long. */
const PULL_LOCK_TIMEOUT_MS = 60 * 60_000

export type LayerState = 'waiting' | 'exists' | 'downloading' | 'downloaded' | 'extracting' | 'done'
export type PullEvent =
  | { type: 'resolved'; image: string; digest: string; layers: { digest: string; size: number; state: LayerState }[] }
  | { type: 'layer'; digest: string; state: LayerState; bytes: number; size: number }
  /** downloadMs: from the start until the last blob was verified on disk (the rest of elapsedMs is unpacking). */
  | { type: 'done'; image: string; digest: string; id: string; downloadedBytes: number; elapsedMs: number; downloadMs: number }

export interface PullOptions {
  root?: string
  platform?: Platform
  onEvent?: (e: PullEvent) => void
  onWarning?: (m: string) => void
  signal?: AbortSignal
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
  /** Credentials for this pull (CRI PullImage's auth), instead of the auth files. */
  credentials?: Credentials
  /** Expanded-size limits (default: limits.ts, from the environment). */
  limits?: Partial<SizeLimits>
}

async function fetchConfig(client: RegistryClient, image: string, d: Descriptor): Promise<Buffer> {
  if (d.size > MAX_CONFIG_BYTES)
    throw new PodError(`registry.blob: ${image}: the image config is ${d.size} bytes (more than ${MAX_CONFIG_BYTES})`, {
      step: 'registry.blob',
      code: 'REGISTRY_TOO_LARGE',
    })
  const res = await client.get(`${client.repositoryPath}/blobs/${d.digest}`, 'registry.blob')
  await client.expectOk(res, 'registry.blob', `config ${d.digest}`)
  const bytes = await readBody(res, d.size, { step: 'registry.blob', object: image, what: `image config ${d.digest}` })
  if (bytes.length !== d.size) throw blobMismatch(image, d, `${bytes.length} bytes, not ${d.size}`)
  const got = `sha256:${createHash('sha256').update(bytes).digest('hex')}`
  if (got !== d.digest) throw blobMismatch(image, d, `its content hashes to ${got}`)
  return bytes
}

const abortError = () => Object.assign(new Error('pull interrupted'), { name: 'AbortError' })

/** Run the functions given to it one at a time, in the order given (the unpacks: two at once on one disk only take turns). */
function serially(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve()
  return fn => {
    const run = tail.then(fn, fn)
    tail = run.catch(() => {})
    return run
  }
}

/** Run `fn` on each item, at most `limit` at once; the first failure stops the rest from starting. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failed = false
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]
      try {
        await fn(item)
      } catch (e) {
        failed = true
        throw e
      }
    }
  }
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker))
  const bad = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (bad) throw bad.reason
}

/**
 * Pull `name` (busybox, host:port/repo:tag, repo@sha256:...) into the store.
 * Throws `registry.ping|auth|manifest|blob` (network codes, REGISTRY_UNAUTHORIZED,
 * MANIFEST_UNKNOWN, REGISTRY_REDIRECT_LOOP...), `image.platform`, `image.verify`,
 * `image.unpack` (IMAGE_TOO_LARGE, ENOSPC...), `image.store`, `image.pull` (EINTR).
 */
export async function pullImage(name: string, opts: PullOptions = {}): Promise<ImageRecord> {
  const started = Date.now()
  const ref = parseImageName(name)
  const emit = opts.onEvent ?? (() => {})
  const client = new RegistryClient({
    registry: ref.registry,
    repository: ref.repository,
    image: name,
    config: readRegistriesConfig(),
    timeoutMs: opts.timeoutMs,
    env: opts.env,
    credentials: opts.credentials,
    byDigest: ref.digest !== undefined,
  })
  const interrupted = () =>
    new PodError(`image.pull: ${name}: interrupted; nothing was stored`, { step: 'image.pull', code: 'EINTR', exitCode: 130, hint: 'pull again' })
  try {
    const resolved = await resolveManifest(client, name, ref.digest ?? ref.tag!, opts.platform ?? hostPlatform())
    const { manifest } = resolved
    // The events wait for the config's verdict: a pull whose config fails reports nothing before its error.
    let held: PullEvent[] | undefined = []
    const report = (e: PullEvent) => {
      if (held) held.push(e)
      else emit(e)
    }
    // The config is fetched while the store is set up and, when no layer can be in the store
    // already, while the layers download: only the unpacks need its diff_ids. The held events
    // are given in its chain: an onEvent that throws then fails the pull as a bad config does.
    const config = fetchConfig(client, name, manifest.config).then(bytes => {
      const parsed = parseImageConfig(parseJson(bytes.toString('utf8'), `${name} config`), `${name} config`)
      if (parsed.diffIds.length !== manifest.layers.length) {
        throw new PodError(`registry.manifest: ${name}: ${manifest.layers.length} layers but the config lists ${parsed.diffIds.length} diff_ids`, {
          step: 'registry.manifest',
          code: 'IMAGE_INVALID',
        })
      }
      const q = held ?? []
      held = undefined
      q.forEach(emit)
      return { configBytes: bytes, parsed }
    })
    config.catch(() => {}) // awaited below
    await new Promise(resolve => setImmediate(resolve)) // its request goes out before the store's synchronous set-up
    const root = opts.root ?? DEFAULT_STATE_ROOT
    const p = storePaths(root)
    ensureStore(p)
    return await withPullLock(p, resolved.manifestDigest, opts.signal, async () => {
      removeDeadIngests(p)
      const ing = beginIngest(root, 'pull', { limits: opts.limits, onWarning: opts.onWarning })
      const streams = new Set<Readable>()
      let thread: UnpackThread | undefined
      // Stops the downloads (downloadBlob), the unpack's read stream and its thread.
      const stop = new AbortController()
      const abort = () => {
        stop.abort()
        streams.forEach(s => s.destroy(abortError()))
        void thread?.close()
      }
      opts.signal?.addEventListener('abort', abort)
      try {
        // With no layer in the store, none of this image's is there: the downloads start at once.
        // Else the config's diff_ids say which are (a layer is stored by its diff_id).
        const known = readdirSync(p.layers).length > 0 ? await config : undefined
        opts.signal?.throwIfAborted()
        const layers = manifest.layers.map((l, i) => ({ l, diffId: known?.parsed.diffIds[i] }))
        // Each layer once (by diff_id when known, else by digest), and not when the store has it.
        const first = (x: (typeof layers)[number], k: number) =>
          layers.findIndex(y => (x.diffId === undefined ? y.l.digest === x.l.digest : y.diffId === x.diffId)) === k
        const todo = layers.filter((x, k) => first(x, k) && (x.diffId === undefined || !ing.hasLayer(x.diffId)))
        report({
          type: 'resolved',
          image: name,
          digest: resolved.digest,
          layers: layers.map(x => ({ digest: x.l.digest, size: x.l.size, state: todo.some(y => y.l.digest === x.l.digest) ? 'waiting' : 'exists' })),
        })
        let downloaded = 0
        let downloadedAt = started
        let downloading = todo.length // layers not yet on disk
        const unpackOne = serially()
        // A config that fails (unreachable, not what the manifest names, its events refused) stops the downloads.
        config.catch(abort)
        const downloads = eachLimited(todo, PULL_PARALLEL, async ({ l }) => {
          opts.signal?.throwIfAborted()
          if (stop.signal.aborted) throw new Error('pull stopped')
          let bytes = 0
          report({ type: 'layer', digest: l.digest, state: 'downloading', bytes, size: l.size })
          const file = ing.path('blobs', hexOf(l.digest))
          checkFreeSpace(ing.dir, name, l.digest, { need: l.size, step: 'image.pull' })
          await downloadBlob(
            client,
            name,
            l,
            file,
            n => {
              bytes += n
              downloaded += n
              if (bytes < l.size) report({ type: 'layer', digest: l.digest, state: 'downloading', bytes, size: l.size })
            },
            stop.signal,
          )
          downloadedAt = Date.now()
          downloading--
          report({ type: 'layer', digest: l.digest, state: 'downloaded', bytes, size: l.size })
          const { parsed } = await config
          const diffId = parsed.diffIds[manifest.layers.indexOf(l)]
          await unpackOne(async () => {
            opts.signal?.throwIfAborted()
            report({ type: 'layer', digest: l.digest, state: 'extracting', bytes, size: l.size })
            // The file was verified as it was written: it is not hashed again. While other layers
            // download, it is unpacked on a worker thread, so that their sockets never wait on its
            // file-system calls (unpack-thread.ts), and so is every layer after it; a layer that is
            // on disk when nothing else downloads (one-layer images) is unpacked here: nothing waits
            // on it, and no second V8 heap is paid for.
            const blob = { compression: l.compression, digest: l.digest, size: l.size, label: `${name} layer ${l.digest}` }
            if (thread || downloading > 0) await ing.addLayer({ ...blob, source: file }, diffId, name, (thread ??= new UnpackThread()))
            else {
              const source = createReadStream(file, { highWaterMark: 1 << 20 }) // destroyed on Ctrl-C
              streams.add(source)
              try {
                await ing.addLayer({ ...blob, source }, diffId, name)
              } finally {
                streams.delete(source)
              }
            }
            rmSync(file, { force: true })
          })
          report({ type: 'layer', digest: l.digest, state: 'done', bytes, size: l.size })
        })
        const [c, d] = await Promise.allSettled([config, downloads])
        if (c.status === 'rejected') throw c.reason
        if (d.status === 'rejected') throw d.reason
        const { configBytes, parsed } = c.value
        opts.signal?.throwIfAborted()
        const record = await ing.commit({
          configBytes,
          parsed,
          names: [ref.canonical],
          manifestDigest: resolved.digest,
          layerDigests: manifest.layers.map(l => l.digest),
        })
        const elapsedMs = Date.now() - started
        emit({ type: 'done', image: name, digest: resolved.digest, id: record.id, downloadedBytes: downloaded, elapsedMs, downloadMs: downloadedAt - started })
        return record
      } finally {
        opts.signal?.removeEventListener('abort', abort)
        await thread?.close()
        ing.close()
      }
    })
  } catch (e) {
    if (opts.signal?.aborted) throw interrupted()
    throw e
  }
}

/** The lock two pulls of one image share (flock: released when the process dies). */
function withPullLock<T>(p: StorePaths, digest: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  mkdirSync(p.locks, { recursive: true, mode: 0o700 })
  return withLock(join(p.locks, `pull-${hexOf(digest)}`), fn, PULL_LOCK_TIMEOUT_MS, signal)
}

/** Check `creds` against `registry` (image login). Throws `registry.ping`, `registry.auth`. */
export async function checkLogin(registry: string, creds: { username: string; password: string }): Promise<void> {
  const client = new RegistryClient({ registry, repository: '', image: registry, config: readRegistriesConfig(), credentials: creds })
  await client.checkLogin()
}
