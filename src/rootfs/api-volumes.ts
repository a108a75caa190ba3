// Volumes of API data: downwardAPI, configMap, secret and projected. Their
// files are computed once at pod start (the payload, as kubelet's
// MakePayload and projected collectData build it) and written as kubelet's
// AtomicWriter lays them out: the files in a timestamped `..<time>`
// directory, `..data` pointing at it, a symlink per top-level name through
// `..data`. kubelet always mounts them read-only.
import { chmodSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import {
  fieldValue,
  findObject,
  objectFiles,
  resourceValue,
  type DownwardAPIItem,
  type NodeAllocatable,
  type ObjectVolumeSource,
  type PodObjects,
  type PodSpec,
  type ProjectedSource,
  type Volume,
} from '../spec/index.js'

/** One file of a volume: its path inside, bytes and mode. */
export interface VolumeFile {
  path: string
  data: Buffer
  mode: number
}

/** Volumes kept on tmpfs, as kubelet backs them with memory: a secret's values must never reach a disk. */
export const onTmpfs = (v: Volume): boolean => v.kind === 'secret' || v.kind === 'projected'

function downwardFiles(spec: PodSpec, items: readonly DownwardAPIItem[], defaultMode: number, allocatable?: NodeAllocatable): VolumeFile[] {
  return items.map(item => ({
    path: item.path,
    data: Buffer.from(
      item.fieldRef
        ? fieldValue(spec, item.fieldRef, { podIP: '', hostIP: '', nodeName: '' })
        : resourceValue(spec, item.resourceFieldRef!, undefined, allocatable),
    ),
    mode: item.mode ?? defaultMode,
  }))
}

/** A ConfigMap's or Secret's files: every key, or the items (a missing optional object or key gives none). */
function objectVolumeFiles(spec: PodSpec, kind: 'configMap' | 'secret', s: ObjectVolumeSource, defaultMode: number, objects: PodObjects): VolumeFile[] {
  const o = findObject(objects, kind === 'configMap' ? 'ConfigMap' : 'Secret', spec.namespace, s.name)
  if (!o) return []
  const files = objectFiles(o)
  if (!s.items) return [...files].sort(([a], [b]) => (a < b ? -1 : 1)).map(([path, data]) => ({ path, data, mode: defaultMode }))
  return s.items.flatMap(it => {
    const data = files.get(it.key)
    return data ? [{ path: it.path, data, mode: it.mode ?? defaultMode }] : []
  })
}

/** The files of an API data volume; undefined for other kinds. */
export function volumePayload(spec: PodSpec, v: Volume, objects: PodObjects, allocatable?: NodeAllocatable): VolumeFile[] | undefined {
  const defaultMode = v.source.defaultMode as number
  if (v.kind === 'downwardAPI') return downwardFiles(spec, v.source.items as DownwardAPIItem[], defaultMode, allocatable)
  if (v.kind === 'configMap' || v.kind === 'secret') return objectVolumeFiles(spec, v.kind, v.source as unknown as ObjectVolumeSource, defaultMode, objects)
  if (v.kind !== 'projected') return undefined
  // Sources in order; a later one's file replaces an earlier one's of the same path.
  const byPath = new Map<string, VolumeFile>()
  for (const s of v.source.sources as ProjectedSource[]) {
    const files = s.kind === 'downwardAPI' ? downwardFiles(spec, s.items, defaultMode, allocatable) : objectVolumeFiles(spec, s.kind, s, defaultMode, objects)
    for (const f of files) byPath.set(f.path, f)
  }
  return [...byPath.values()]
}

/** Bytes a tmpfs needs for `files` (each file takes whole pages), with room for the directories. */
export const payloadBytes = (files: readonly VolumeFile[]): number =>
  (1 << 20) + files.reduce((n, f) => n + Math.ceil(Math.max(f.data.length, 1) / 4096) * 4096, 0)

/** Write `files` into `dir` in kubelet's AtomicWriter layout (modes exact, whatever the umask). */
export function writeAtomicVolume(dir: string, files: readonly VolumeFile[]): void {
  const now = new Date().toISOString().replace(/[-T:]/g, '_').replace(/\..*/, '')
  const data = `..${now}.${process.hrtime.bigint() % 1_000_000_000n}`
  // Directories 0755 and files their mode whatever our umask: mkdir and open apply it.
  const mkdir = (d: string) => {
    if (existsSync(d)) return
    mkdir(dirname(d))
    mkdirSync(d, { mode: 0o755 })
    chmodSync(d, 0o755)
  }
  mkdir(join(dir, data))
  const tops = new Set<string>()
  for (const f of files) {
    const file = join(dir, data, f.path)
    mkdir(dirname(file))
    writeFileSync(file, f.data, { mode: f.mode })
    chmodSync(file, f.mode) // no umask
    tops.add(f.path.split('/')[0])
  }
  symlinkSync(data, join(dir, '..data'))
  for (const top of tops) symlinkSync(join('..data', top), join(dir, top))
}
