// What a pod reads from ConfigMaps and Secrets: every reference it makes
// (env, envFrom, configMap/secret/projected volumes), checked against the
// objects given, with kubelet's reasons for a missing one. Pure.
import { findObject, objectFiles, objectStrings, type ConfigObject, type PodObjects } from './objects.js'
import type { ContainerSpec, PodSpec, ProjectedSource, Volume } from './types.js'

export type ObjectKind = ConfigObject['kind']

/** One reference of the pod to a ConfigMap or Secret. */
export interface ObjectRef {
  kind: ObjectKind
  name: string
  /** Keys it needs (an env key ref, volume items); none: the whole object. */
  keys: string[]
  optional: boolean
  /** Where: a container's env (CreateContainerConfigError) or a volume (FailedMount). */
  container?: string
  volume?: string
}

/** Every reference of the pod, in the order kubelet meets them (volumes first, then each container's envFrom and env). */
export function objectRefs(spec: PodSpec): ObjectRef[] {
  const refs: ObjectRef[] = []
  for (const v of spec.volumes) {
    for (const s of volumeObjectSources(v)) {
      refs.push({
        kind: s.kind === 'configMap' ? 'ConfigMap' : 'Secret',
        name: s.name,
        keys: (s.items ?? []).map(i => i.key),
        optional: s.optional,
        volume: v.name,
      })
    }
  }
  for (const c of [...spec.initContainers, ...spec.containers]) {
    for (const e of c.envFrom ?? []) {
      const ref = e.configMapRef ?? e.secretRef!
      refs.push({ kind: e.configMapRef ? 'ConfigMap' : 'Secret', name: ref.name, keys: [], optional: ref.optional, container: c.name })
    }
    for (const e of c.env) {
      const ref = e.configMapKeyRef ?? e.secretKeyRef
      if (ref) refs.push({ kind: e.configMapKeyRef ? 'ConfigMap' : 'Secret', name: ref.name, keys: [ref.key], optional: ref.optional, container: c.name })
    }
  }
  return refs
}

/** The configMap and secret sources of a volume (a projected one's too). */
export function volumeObjectSources(v: Volume): Extract<ProjectedSource, { kind: 'configMap' | 'secret' }>[] {
  if (v.kind === 'configMap' || v.kind === 'secret') return [{ kind: v.kind, ...(v.source as Omit<Extract<ProjectedSource, { kind: 'configMap' }>, 'kind'>) }]
  if (v.kind === 'projected') return (v.source.sources as ProjectedSource[]).filter(s => s.kind !== 'downwardAPI')
  return []
}

/** Whether the pod reads any Secret (its values then live on tmpfs only). */
export const readsSecrets = (spec: PodSpec): boolean => objectRefs(spec).some(r => r.kind === 'Secret')

/** A reference kubelet would fail the pod on. */
export interface ConfigProblem {
  /** CreateContainerConfigError (env of a container) or FailedMount (a volume). */
  reason: 'CreateContainerConfigError' | 'FailedMount'
  container?: string
  volume?: string
  message: string
}

/**
 * The references that cannot be met, with kubelet's messages: `configmap "x"
 * not found`, `couldn't find key k in ConfigMap ns/x` (env), `configmap
 * references non-existent config key: k` (volume items).
 */
export function configProblems(spec: PodSpec, objects: PodObjects): ConfigProblem[] {
  const out: ConfigProblem[] = []
  for (const r of objectRefs(spec)) {
    if (r.optional) continue
    const o = findObject(objects, r.kind, spec.namespace, r.name)
    const lower = r.kind.toLowerCase()
    const where =
      r.volume !== undefined ? { reason: 'FailedMount' as const, volume: r.volume } : { reason: 'CreateContainerConfigError' as const, container: r.container }
    const mount = (m: string) => (r.volume !== undefined ? `MountVolume.SetUp failed for volume "${r.volume}" : ${m}` : m)
    if (!o) {
      out.push({ ...where, message: mount(`${lower} "${r.name}" not found`) })
      continue
    }
    const have = r.volume !== undefined ? objectFiles(o) : objectStrings(o)
    for (const k of r.keys) {
      if (have.has(k)) continue
      out.push({
        ...where,
        message:
          r.volume !== undefined
            ? mount(r.kind === 'ConfigMap' ? `configmap references non-existent config key: ${k}` : `references non-existent secret key: ${k}`)
            : `couldn't find key ${k} in ${r.kind} ${spec.namespace}/${r.name}`,
      })
    }
  }
  return out
}

/** The objects the pod references (only those: a pod is handed nothing else). */
export function referencedObjects(spec: PodSpec, objects: PodObjects): PodObjects {
  const refs = objectRefs(spec)
  const wanted = (kind: ObjectKind, o: ConfigObject) => o.namespace === spec.namespace && refs.some(r => r.kind === kind && r.name === o.name)
  return { configMaps: objects.configMaps.filter(o => wanted('ConfigMap', o)), secrets: objects.secrets.filter(o => wanted('Secret', o)) }
}

/** The containers whose env reads a Secret. */
export function secretEnvContainers(spec: PodSpec): ContainerSpec[] {
  return [...spec.initContainers, ...spec.containers].filter(c => (c.envFrom ?? []).some(e => e.secretRef) || c.env.some(e => e.secretKeyRef))
}
