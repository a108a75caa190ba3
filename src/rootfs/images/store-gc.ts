// gc of the image store: what interrupted imports and pulls left (their
// directories under tmp/, partial blobs in them, half-written records), and
// layers no image record references that no overlay has mounted. Nothing is
// removed whose owner cannot be proved dead: every tmp entry is named
// `<kind>-<pid>-<start ticks>-...` (ingest.ts), and a live process with that
// pid and start time keeps it. Orphan layers are only removed while no live
// ingest exists (one may be about to reference a layer it found present).
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { startTicks } from '../../state/proc.js'
import { mountedLayers } from './in-use.js'
import { INGEST_NAME } from './ingest.js'
import { hexOf, layerDir, readAllStored, removeLayerDir, type StorePaths, storePaths, withStoreLock } from './store.js'

export interface StoreGcAction {
  kind: 'image-tmp' | 'image-layer'
  target: string
  why: string
}

/** The owner of a tmp entry: alive, dead, or unknown (not one of our names). */
function ownerState(name: string): 'alive' | 'dead' | 'unknown' {
  const m = INGEST_NAME.exec(name)
  if (m) {
    const ticks = startTicks(Number(m[2]))
    if (ticks === undefined) return 'dead'
    return m[3] === '0' || ticks === m[3] ? 'alive' : 'dead' // 0: start time unknown, a live pid keeps it
  }
  // Older trash dirs (rm-<hex>-<pid>-<ms>) and atomic-write temps (.<file>.<pid>.tmp): a pid alone proves only death.
  const pid = /^rm-[0-9a-f]{64}-(\d+)-\d+$/.exec(name)?.[1] ?? /^\..+\.(\d+)\.tmp$/.exec(name)?.[1]
  if (pid === undefined) return 'unknown'
  return startTicks(Number(pid)) === undefined ? 'dead' : 'alive'
}

/**
 * Remove what dead importers, pullers and removers left under tmp/ (and
 * half-written records): `pull` calls it before it starts, `gc` first.
 * Returns what it removed (or would) and whether a live ingest exists.
 */
export function removeDeadIngests(p: StorePaths, dryRun = false): { actions: StoreGcAction[]; liveIngest: boolean } {
  const actions: StoreGcAction[] = []
  let liveIngest = false
  for (const dir of [p.tmp, p.images, p.configs]) {
    if (!existsSync(dir)) continue
    for (const name of readdirSync(dir)) {
      if (dir !== p.tmp && !name.endsWith('.tmp')) continue
      const state = ownerState(name)
      if (state === 'alive' || state === 'unknown') {
        if (dir === p.tmp) liveIngest = true
        continue
      }
      const target = join(dir, name)
      const kind = INGEST_NAME.exec(name)?.[1]
      actions.push({
        kind: 'image-tmp',
        target,
        why: kind === 'pull' || kind === 'import' ? `an interrupted ${kind} (its process ended)` : 'left by a process that ended',
      })
      if (!dryRun) rmSync(target, { recursive: true, force: true })
    }
  }
  return { actions, liveIngest }
}

export async function gcImageStore(root: string, dryRun: boolean): Promise<StoreGcAction[]> {
  const p = storePaths(root)
  if (!existsSync(p.store)) return []
  const { actions, liveIngest } = removeDeadIngests(p, dryRun)
  if (!existsSync(p.images)) return actions
  await withStoreLock(p, () => {
    const records = readAllStored(p)
    const ids = new Set(records.map(s => hexOf(s.id)))
    for (const name of existsSync(p.configs) ? readdirSync(p.configs) : []) {
      const hex = /^([0-9a-f]{64})\.json$/.exec(name)?.[1]
      if (!hex || ids.has(hex)) continue
      actions.push({ kind: 'image-tmp', target: join(p.configs, name), why: 'the config of an image whose record was never written' })
      if (!dryRun) rmSync(join(p.configs, name), { force: true })
    }
    if (liveIngest || !existsSync(p.layers)) return
    const referenced = new Set(records.flatMap(s => s.diffIds.map(hexOf)))
    const orphans = readdirSync(p.layers).filter(h => /^[0-9a-f]{64}$/.test(h) && !referenced.has(h))
    if (orphans.length === 0) return
    const mounted = mountedLayers()
    for (const hex of orphans) {
      const target = layerDir(p, `sha256:${hex}`)
      if (mounted.has(target)) continue
      actions.push({ kind: 'image-layer', target, why: 'a layer no image uses and no container has mounted' })
      if (!dryRun) removeLayerDir(p, `sha256:${hex}`)
    }
  })
  return actions
}
