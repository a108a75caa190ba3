// pullImage: a registry image -> layers unpacked under the store and its
// record, the same shape importImage leaves. Order:
//   1. resolve the manifest (platform picked from an index), fetch + verify the config;
//   2. under a lock per manifest digest (two pulls of one image download it
//      once: the second finds the layers in place), download the missing
//      layers, a few at a time, each verified while it streams into
//      tmp/pull-<pid>-*/, then unpacked there and its diff_id checked;
//   3. under the store lock, rename the layers in and write the record.
// Until 3 nothing is in layers/ or images/: an interrupted pull leaves only
// tmp/pull-<pid>-* (removed here on failure; by gc when the pid is gone).
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { PodError } from '../../../errors.js'
import { withLock } from '../../../state/index.js'
import { unpackLayer } from '../extract.js'
import { type Descriptor, parseImageConfig, parseJson } from '../manifest.js'
import { parseImageName } from '../names.js'
import {
  DEFAULT_STATE_ROOT,
  dirSize,
  ensureStore,
  hexOf,
  type ImageRecord,
  layerDir,
  readAllStored,
  type StoredImage,
  type StorePaths,
  storePaths,
  toRecord,
  withStoreLock,
  writeStored,
} from '../store.js'
import { blobMismatch, downloadBlob } from './blob.js'
import { RegistryClient } from './client.js'
import { readRegistriesConfig } from './hosts.js'
import { readBody } from './http.js'
import { hostPlatform, type Platform } from './platform.js'
import { resolveManifest } from './resolve.js'

export const PULL_PARALLEL = 3
const MAX_CONFIG_BYTES = 16 * 1024 * 1024
/** A pull's working directory in the store's tmp/ (gc removes those whose pid is gone). */
export const PULL_WORK_PREFIX = 'pull-'
/** Stop waiting for another pull of the same image after this long. */
const PULL_LOCK_TIMEOUT_MS = 60 * 60_000

export type LayerState = 'waiting' | 'exists' | 'downloading' | 'extracting' | 'done'
export type PullEvent =
  | { type: 'resolved'; image: string; digest: string; layers: { digest: string; size: number; state: LayerState }[] }
  | { type: 'layer'; digest: string; state: LayerState; bytes: number; size: number }
  | { type: 'done'; image: string; digest: string; id: string; downloadedBytes: number; elapsedMs: number }

export interface PullOptions {
  root?: string
  platform?: Platform
  onEvent?: (e: PullEvent) => void
  onWarning?: (m: string) => void
  signal?: AbortSignal
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
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

/** kill(pid, 0): ESRCH means no such process (EPERM: it exists). A reused pid only delays the cleanup. */
function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}

/**
 * Remove tmp/pull-<pid>-* of pulls whose process is gone (Ctrl-C'd, killed,
 * a crashed host); returns the paths removed. gc may call it too.
 */
export function removeInterruptedPulls(p: StorePaths): string[] {
  const gone: string[] = []
  let entries: string[] = []
  try {
    entries = readdirSync(p.tmp)
  } catch {
    return gone
  }
  for (const e of entries) {
    const m = new RegExp(`^${PULL_WORK_PREFIX}(\\d+)-`).exec(e)
    if (!m || pidExists(Number(m[1]))) continue
    rmSync(join(p.tmp, e), { recursive: true, force: true })
    gone.push(join(p.tmp, e))
  }
  return gone
}

/** Run `fn` on each item, at most `limit` at once; the first failure aborts the rest. */
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

/** Step 3: layers renamed in and the record written, under the store lock. */
function commit(p: StorePaths, stored: StoredImage, unpacked: Map<string, { dir: string; size: number }>): StoredImage {
  let size = 0
  for (const diffId of stored.diffIds) {
    const target = layerDir(p, diffId)
    const mine = unpacked.get(diffId)
    if (mine && !statSync(target, { throwIfNoEntry: false })) {
      renameSync(mine.dir, target)
      unpacked.delete(diffId)
      size += mine.size
    } else size += mine?.size ?? dirSize(target)
  }
  const all = readAllStored(p)
  // A tag moves to the image pulled last (docker pull semantics).
  for (const other of all) {
    if (other.id === stored.id || !other.names.some(n => stored.names.includes(n))) continue
    writeStored(p, { ...other, names: other.names.filter(n => !stored.names.includes(n)) })
  }
  const prev = all.find(s => s.id === stored.id)
  const out = { ...stored, names: [...new Set([...(prev?.names ?? []), ...stored.names])], size }
  writeStored(p, out)
  return out
}

/**
 * Pull `name` (busybox, host:port/repo:tag, repo@sha256:...) into the store.
 * Throws `registry.ping|auth|manifest|blob` (network codes, REGISTRY_UNAUTHORIZED,
 * MANIFEST_UNKNOWN, REGISTRY_REDIRECT_LOOP...), `image.platform`, `image.verify`,
 * `image.unpack`, `image.store`.
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
  })
  const resolved = await resolveManifest(client, name, ref.digest ?? ref.tag!, opts.platform ?? hostPlatform())
  const { manifest } = resolved
  const configBytes = await fetchConfig(client, name, manifest.config)
  const parsed = parseImageConfig(parseJson(configBytes.toString('utf8'), `${name} config`), `${name} config`)
  if (parsed.diffIds.length !== manifest.layers.length) {
    throw new PodError(`registry.manifest: ${name}: ${manifest.layers.length} layers but the config lists ${parsed.diffIds.length} diff_ids`, {
      step: 'registry.manifest',
      code: 'IMAGE_INVALID',
    })
  }
  const id = manifest.config.digest
  const p = storePaths(opts.root ?? DEFAULT_STATE_ROOT)
  ensureStore(p)
  const base = `${ref.registry}/${ref.repository}`
  const names = [ref.canonical, `${base}@${resolved.digest}`]

  return withStoreLockFile(p, resolved.manifestDigest, async () => {
    removeInterruptedPulls(p)
    const work = mkdtempSync(join(p.tmp, `${PULL_WORK_PREFIX}${process.pid}-`))
    try {
      const present = (diffId: string) => !!statSync(layerDir(p, diffId), { throwIfNoEntry: false })
      const todo = manifest.layers
        .map((l, i) => ({ l, i, diffId: parsed.diffIds[i] }))
        .filter((x, k, all) => !present(x.diffId) && all.findIndex(y => y.diffId === x.diffId) === k)
      emit({
        type: 'resolved',
        image: name,
        digest: resolved.digest,
        layers: manifest.layers.map((l, i) => ({ digest: l.digest, size: l.size, state: present(parsed.diffIds[i]) ? 'exists' : 'waiting' })),
      })
      const unpacked = new Map<string, { dir: string; size: number }>()
      let downloaded = 0
      await eachLimited(todo, PULL_PARALLEL, async ({ l, i, diffId }) => {
        opts.signal?.throwIfAborted()
        const blob = join(work, `blob-${i}`)
        let bytes = 0
        emit({ type: 'layer', digest: l.digest, state: 'downloading', bytes, size: l.size })
        await downloadBlob(
          client,
          name,
          l,
          blob,
          n => {
            bytes += n
            downloaded += n
            emit({ type: 'layer', digest: l.digest, state: 'downloading', bytes, size: l.size })
          },
          opts.signal,
        )
        emit({ type: 'layer', digest: l.digest, state: 'extracting', bytes, size: l.size })
        const dest = join(work, `layer-${i}`)
        mkdirSync(dest, { mode: 0o755 })
        const got = await unpackLayer(blob, dest, { compression: l.compression, label: `${name} layer ${l.digest}`, onWarning: opts.onWarning })
        rmSync(blob, { force: true })
        if (got.diffId !== diffId) {
          throw new PodError(`image.verify: ${name}: layer ${l.digest} unpacks to ${got.diffId}, not the config's diff_id ${diffId}`, {
            step: 'image.verify',
            code: 'IMAGE_DIGEST_MISMATCH',
            hint: 'the image was built wrongly or modified: nothing was stored',
          })
        }
        unpacked.set(diffId, { dir: dest, size: got.size })
        emit({ type: 'layer', digest: l.digest, state: 'done', bytes, size: l.size })
      })
      opts.signal?.throwIfAborted()
      const stored: StoredImage = { id, names, diffIds: parsed.diffIds, config: parsed.config, size: 0 }
      if (parsed.created) stored.created = parsed.created
      if (parsed.os) stored.os = parsed.os
      if (parsed.architecture) stored.architecture = parsed.architecture
      const out = await withStoreLock(p, () => commit(p, stored, unpacked))
      emit({ type: 'done', image: name, digest: resolved.digest, id, downloadedBytes: downloaded, elapsedMs: Date.now() - started })
      return toRecord(p, out)
    } catch (e) {
      if ((e as Error).name === 'AbortError')
        throw new PodError(`image.pull: ${name}: interrupted; nothing was stored`, { step: 'image.pull', code: 'EINTR', exitCode: 130 })
      throw e
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  })
}

/** The lock two pulls of one image share (flock: released when the process dies). */
function withStoreLockFile<T>(p: StorePaths, digest: string, fn: () => Promise<T>): Promise<T> {
  return withLock(join(p.tmp, `${hexOf(digest)}.pull.lock`), fn, PULL_LOCK_TIMEOUT_MS)
}

/** Check `creds` against `registry` (image login). Throws `registry.ping`, `registry.auth`. */
export async function checkLogin(registry: string, creds: { username: string; password: string }): Promise<void> {
  const client = new RegistryClient({ registry, repository: '', image: registry, config: readRegistriesConfig(), credentials: creds })
  await client.checkLogin()
}
