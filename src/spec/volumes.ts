// spec.volumes -> Volume[], with the API server's rules for each source we
// run (validateVolumeSource): emptyDir, hostPath, downwardAPI, configMap,
// secret and projected. Sources that need a cluster are refused by name.
import type { Checker, Obj } from './checker.js'
import { parseResourceFieldRef, VOLUME_FIELD_PATHS } from './downward.js'
import type { DownwardAPIItem, KeyToPath, ObjectVolumeSource, ProjectedSource, Volume } from './types.js'

const VOLUME_KINDS = ['hostPath', 'emptyDir', 'configMap', 'secret', 'projected', 'downwardAPI', 'persistentVolumeClaim', 'ephemeral', 'csi', 'nfs', 'image']
const RUN = ['hostPath', 'emptyDir', 'configMap', 'secret', 'projected', 'downwardAPI']

/** Volumes kubelet always mounts read-only: their files are API data (ReadOnlyAPIDataVolumes). */
export const API_DATA_VOLUMES = ['downwardAPI', 'configMap', 'secret', 'projected']

/** kubelet's default file mode for API data volumes (0644). */
const DEFAULT_MODE = 0o644

export function parseVolumes(c: Checker, v: unknown): Volume[] {
  const out: Volume[] = []
  c.list(v, 'spec.volumes').forEach((e, i) => {
    const p = `spec.volumes[${i}]`
    const o = c.obj(e, p, true)
    if (!o) return
    const name = c.str(o.name, `${p}.name`, true)
    if (name) c.dnsLabel(name, `${p}.name`)
    if (name && out.some(x => x.name === name)) c.fail(`${p}.name`, `"${name}" is a duplicate`)
    const kinds = Object.keys(o).filter(k => k !== 'name')
    if (kinds.length !== 1) return c.fail(p, `must have exactly one volume source (${VOLUME_KINDS.slice(0, 4).join(', ')}, ...), found ${kinds.length}`)
    const kind = kinds[0]
    if (!VOLUME_KINDS.includes(kind)) return c.fail(`${p}.${kind}`, 'is not a volume source')
    if (!RUN.includes(kind)) return c.fail(`${p}.${kind}`, `${kind} volumes are not supported: use ${RUN.join(', ')}`)
    const sp = `${p}.${kind}`
    const raw = c.obj(o[kind], sp) ?? {}
    let source: Record<string, unknown> = raw
    if (kind === 'downwardAPI') {
      c.fields(raw, sp, ['items', 'defaultMode'])
      const defaultMode = c.mode(raw.defaultMode, `${sp}.defaultMode`) ?? DEFAULT_MODE
      source = { items: downwardItems(c, raw.items, `${sp}.items`), defaultMode }
    } else if (kind === 'configMap' || kind === 'secret') {
      c.fields(raw, sp, [kind === 'secret' ? 'secretName' : 'name', 'items', 'optional', 'defaultMode'])
      const defaultMode = c.mode(raw.defaultMode, `${sp}.defaultMode`) ?? DEFAULT_MODE
      source = { ...objectSource(c, raw, sp, kind), defaultMode }
    } else if (kind === 'projected') {
      source = projected(c, raw, sp)
    } else if (kind === 'emptyDir') {
      c.fields(raw, sp, ['medium', 'sizeLimit'])
      c.oneOf(raw.medium, `${sp}.medium`, ['', 'Memory'], '')
      c.quantity(raw.sizeLimit, `${sp}.sizeLimit`)
    } else {
      const path = c.str(raw.path, `${sp}.path`, true)
      c.absPath(path, `${sp}.path`)
      c.oneOf(raw.type, `${sp}.type`, ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'], '')
    }
    if (name) out.push({ name, kind, source })
  })
  return out
}

/** configMap (name) or secret (secretName): items, optional (validateConfigMapVolumeSource, validateSecretVolumeSource). */
function objectSource(c: Checker, o: Obj, path: string, kind: 'configMap' | 'secret'): ObjectVolumeSource {
  const field = kind === 'secret' ? 'secretName' : 'name'
  const name = c.str(o[field], `${path}.${field}`, true) ?? ''
  if (name) c.subdomain(name, `${path}.${field}`)
  const items = o.items === undefined || o.items === null ? undefined : keyItems(c, o.items, `${path}.items`)
  return { name, ...(items ? { items } : {}), optional: c.bool(o.optional, `${path}.optional`, false) }
}

/** items[{key, path, mode}] (validateKeyToPath); paths unique. */
function keyItems(c: Checker, v: unknown, path: string): KeyToPath[] {
  const out: KeyToPath[] = []
  const paths = new Set<string>()
  c.list(v, path).forEach((e, i) => {
    const p = `${path}[${i}]`
    const o = c.obj(e, p, true)
    if (!o) return
    c.fields(o, p, ['key', 'path', 'mode'])
    const key = c.str(o.key, `${p}.key`, true)
    const file = c.str(o.path, `${p}.path`, true)
    if (file) c.relPath(file, `${p}.path`)
    if (file && paths.has(file)) c.fail(`${p}.path`, `"${file}" is a duplicate`)
    if (file) paths.add(file)
    const mode = c.mode(o.mode, `${p}.mode`)
    if (key && file) out.push({ key, path: file, ...(mode !== undefined ? { mode } : {}) })
  })
  return out
}

/** projected: sources of configMap, secret and downwardAPI items in one directory (validateProjectedVolumeSource). */
function projected(c: Checker, o: Obj, path: string): { sources: ProjectedSource[]; defaultMode: number } {
  c.fields(o, path, ['sources', 'defaultMode'])
  const defaultMode = c.mode(o.defaultMode, `${path}.defaultMode`) ?? DEFAULT_MODE
  const sources: ProjectedSource[] = []
  const paths = new Map<string, string>()
  const claim = (file: string, p: string) => {
    if (paths.has(file)) c.fail(p, `"${file}" conflicts with ${paths.get(file)}: conflicting duplicate paths`)
    else paths.set(file, p)
  }
  c.list(o.sources, `${path}.sources`).forEach((e, i) => {
    const p = `${path}.sources[${i}]`
    const so = c.obj(e, p, true)
    if (!so) return
    const kinds = Object.keys(so)
    for (const k of kinds) {
      if (k === 'serviceAccountToken' || k === 'clusterTrustBundle' || k === 'podCertificate')
        c.fail(`${p}.${k}`, `needs an API server to issue it: pod-launch has none (use a secret source with the file)`)
      else if (!['configMap', 'secret', 'downwardAPI'].includes(k)) c.fields({ [k]: so[k] }, p, ['configMap', 'secret', 'downwardAPI'])
    }
    if (kinds.length !== 1) return c.fail(p, `must have exactly one source (configMap, secret or downwardAPI), found ${kinds.length}`)
    const kind = kinds[0]
    const sp = `${p}.${kind}`
    const raw = c.obj(so[kind], sp) ?? {}
    if (kind === 'configMap' || kind === 'secret') {
      c.fields(raw, sp, ['name', 'items', 'optional'])
      // A projected secret is named by `name`, not a secret volume's `secretName`.
      const src = objectSource(c, kind === 'secret' ? { ...raw, secretName: raw.name } : raw, sp, kind)
      src.items?.forEach((it, j) => claim(it.path, `${sp}.items[${j}].path`))
      sources.push({ kind, ...src })
    } else if (kind === 'downwardAPI') {
      c.fields(raw, sp, ['items'])
      const items = downwardItems(c, raw.items, `${sp}.items`)
      items.forEach((it, j) => claim(it.path, `${sp}.items[${j}].path`))
      sources.push({ kind, items })
    }
  })
  return { sources, defaultMode }
}

/** downwardAPI items[{path, fieldRef | resourceFieldRef, mode}] (validateDownwardAPIVolumeFile). */
function downwardItems(c: Checker, v: unknown, path: string): DownwardAPIItem[] {
  const items: DownwardAPIItem[] = []
  const paths = new Set<string>()
  c.list(v, path).forEach((e, i) => {
    const p = `${path}[${i}]`
    const io = c.obj(e, p, true)
    if (!io) return
    c.fields(io, p, ['path', 'fieldRef', 'resourceFieldRef', 'mode'])
    const file = c.str(io.path, `${p}.path`, true)
    if (file) c.relPath(file, `${p}.path`)
    if (file && paths.has(file.replace(/\/+$/, ''))) c.fail(`${p}.path`, `"${file}" is a duplicate`)
    if (file) paths.add(file.replace(/\/+$/, ''))
    const itemMode = c.mode(io.mode, `${p}.mode`)
    let fieldRef: string | undefined
    const ref = c.obj(io.fieldRef, `${p}.fieldRef`)
    if (ref) {
      c.fields(ref, `${p}.fieldRef`, ['fieldPath', 'apiVersion'])
      fieldRef = c.str(ref.fieldPath, `${p}.fieldRef.fieldPath`, true)
      if (fieldRef && !VOLUME_FIELD_PATHS.test(fieldRef))
        c.fail(
          `${p}.fieldRef.fieldPath`,
          `"${fieldRef}" is not supported in a downwardAPI volume: one of metadata.name, metadata.namespace, metadata.uid, ` +
            "metadata.labels, metadata.annotations, metadata.labels['<key>'], metadata.annotations['<key>']",
        )
    }
    const hasResource = io.resourceFieldRef !== undefined && io.resourceFieldRef !== null
    const resourceFieldRef = hasResource ? parseResourceFieldRef(c, io.resourceFieldRef, `${p}.resourceFieldRef`, true) : undefined
    if (ref && hasResource) c.fail(p, 'fieldRef and resourceFieldRef can not be specified simultaneously')
    else if (!ref && !hasResource) c.fail(p, 'required: one of fieldRef and resourceFieldRef')
    if (file)
      items.push({
        path: file,
        ...(fieldRef ? { fieldRef } : {}),
        ...(resourceFieldRef ? { resourceFieldRef } : {}),
        ...(itemMode !== undefined ? { mode: itemMode } : {}),
      })
  })
  return items
}

/** Every downwardAPI item of the volumes as written, with its field path (for checks across the pod). */
export function rawDownwardItems(volumes: unknown): { item: unknown; path: string }[] {
  const out: { item: unknown; path: string }[] = []
  const list = Array.isArray(volumes) ? (volumes as Obj[]) : []
  const each = (items: unknown, path: string) => {
    if (Array.isArray(items)) items.forEach((item, j) => out.push({ item, path: `${path}.items[${j}]` }))
  }
  list.forEach((v, i) => {
    each((v as { downwardAPI?: { items?: unknown } })?.downwardAPI?.items, `spec.volumes[${i}].downwardAPI`)
    const sources = (v as { projected?: { sources?: unknown } })?.projected?.sources
    if (Array.isArray(sources))
      sources.forEach((s, k) =>
        each((s as { downwardAPI?: { items?: unknown } })?.downwardAPI?.items, `spec.volumes[${i}].projected.sources[${k}].downwardAPI`),
      )
  })
  return out
}
