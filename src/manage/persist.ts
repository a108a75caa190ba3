// Pods that come back after a reboot (`run -d --persist`): what must survive
// lives under the persist root (default /var/lib/pod-launch, on a disk), one
// entry per pod: the Pod object it was made from, the ConfigMaps it reads,
// its run options, and for each Secret only where it was read from (a
// Secret's values never reach a disk of ours: boot reads them there again).
// Runtime state stays under the state root in /run. `pod-launch boot`
// (started by pod-launch-boot.service) starts every entry again.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { writeJsonAtomic } from '../atomic-file.js'
import { PodError } from '../errors.js'
import { parseManifest, readManifestSet, type ConfigMapObject, type PodObjects, type PodSpec, type SecretObject } from '../spec/index.js'
import { isAlive, listPods } from '../state/index.js'
import { runDetached } from './detach.js'
import { removePod } from './ops.js'
import type { SupervisedOptions } from './engine.js'

export { DEFAULT_PERSIST_ROOT } from '../state/layout.js'
const ENTRY_VERSION = 1

export interface PersistedPod {
  version: typeof ENTRY_VERSION
  name: string
  namespace: string
  /** The state root it runs under. */
  root: string
  /** The id of its current pod (rm of that pod drops the entry). */
  uid: string
  /** The file and document it came from (`down FILE` drops it). */
  manifest?: string
  document?: string
  /** The Pod object, as validated (a workload's pod as its template made it). */
  pod: Record<string, unknown>
  configMaps: ConfigMapObject[]
  /** Secrets by name, with the file they are read from at boot. */
  secrets: { namespace: string; name: string; from: string }[]
  options: SupervisedOptions
}

const entriesDir = (persistRoot: string) => join(persistRoot, 'pods')
const entryFile = (persistRoot: string, namespace: string, name: string) => join(entriesDir(persistRoot), `${namespace}_${name}.json`)

/** Keep `entry` for boot (replacing an entry of the same pod name). Returns its file. */
export function persistPod(persistRoot: string, entry: PersistedPod): string {
  const file = entryFile(persistRoot, entry.namespace, entry.name)
  try {
    mkdirSync(entriesDir(persistRoot), { recursive: true, mode: 0o700 })
  } catch (e) {
    throw PodError.system('persist.write', e, entriesDir(persistRoot))
  }
  writeJsonAtomic(file, entry, 0o600, 'persist.write')
  return file
}

/** Every entry under the persist root; an unreadable one is named, not skipped. */
export function listPersisted(persistRoot: string): { file: string; entry?: PersistedPod; error?: string }[] {
  const dir = entriesDir(persistRoot)
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter(n => n.endsWith('.json'))
    .sort()
    .map(n => {
      const file = join(dir, n)
      try {
        const entry = JSON.parse(readFileSync(file, 'utf8')) as PersistedPod
        if (entry.version !== ENTRY_VERSION || typeof entry.name !== 'string' || !entry.pod) return { file, error: `not an entry of version ${ENTRY_VERSION}` }
        return { file, entry }
      } catch (e) {
        return { file, error: e instanceof SyntaxError ? 'not JSON' : (e as Error).message }
      }
    })
}

/** Drop the entries of pods made from `manifest` (`down FILE`); returns their pod names. */
export function unpersistManifest(persistRoot: string, manifest: string): string[] {
  return listPersisted(persistRoot).flatMap(({ file, entry }) => {
    if (entry?.manifest !== manifest) return []
    rmSync(file, { force: true })
    return [entry.name]
  })
}

/** Drop the entry whose current pod is `uid` (`rm` of that pod). */
export function unpersistPod(persistRoot: string, uid: string): void {
  for (const { file, entry } of listPersisted(persistRoot)) if (entry?.uid === uid) rmSync(file, { force: true })
}

/** A Secret read again from the file it came from; undefined when it is no longer there. */
function rereadSecret(ref: PersistedPod['secrets'][number]): SecretObject | undefined {
  try {
    return readManifestSet(ref.from, { strict: false }).objects.secrets.find(s => s.namespace === ref.namespace && s.name === ref.name)
  } catch {
    return undefined
  }
}

export interface BootResult {
  name: string
  file: string
  /** started (with its new id), running already, or failed. */
  outcome: 'started' | 'running' | 'failed'
  id?: string
  error?: PodError
}

/** Start a pod of an entry: a dead pod of its name is removed first; a live one is left alone. */
async function bootOne(persistRoot: string, file: string, entry: PersistedPod, warn: (m: string) => void): Promise<BootResult> {
  const base = { name: entry.name, file }
  const same = listPods(entry.root).filter(p => p.record?.name === entry.name && p.record.namespace === entry.namespace)
  const live = same.find(p => isAlive(p.record!.supervisor))
  if (live) return { ...base, outcome: 'running', id: live.id }
  for (const p of same) await removePod(entry.root, p.id, { force: true, onWarning: warn })
  const spec: PodSpec = parseManifest(entry.pod, file, { strict: true }).spec
  const secrets = entry.secrets.flatMap(ref => {
    const s = rereadSecret(ref)
    if (!s) warn(`pod ${entry.name}: secret ${ref.name}: not found in ${ref.from} (read again at boot: Secrets are never stored)`)
    return s ? [s] : []
  })
  const objects: PodObjects = { configMaps: entry.configMaps, secrets }
  const started = await runDetached(spec, entry.root, entry.options, warn, objects)
  persistPod(persistRoot, { ...entry, uid: started.id })
  return { ...base, outcome: 'started', id: started.id }
}

/** `pod-launch boot`: start every kept pod, in name order; one failure does not stop the others. */
export async function bootPods(persistRoot: string, warn: (m: string) => void): Promise<BootResult[]> {
  const out: BootResult[] = []
  for (const { file, entry, error } of listPersisted(persistRoot)) {
    if (!entry) {
      out.push({ name: file, file, outcome: 'failed', error: new PodError(`persist.read: ${file}: ${error}`, { step: 'persist.read', code: 'STATE_CORRUPT' }) })
      continue
    }
    try {
      out.push(await bootOne(persistRoot, file, entry, warn))
    } catch (e) {
      out.push({ name: entry.name, file, outcome: 'failed', error: e instanceof PodError ? e : PodError.system('pod.start', e, entry.name) })
    }
  }
  return out
}
