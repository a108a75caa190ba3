// A container's environment and argv at start time (pure): envFrom, then
// env in list order (later wins), downward-API fieldRefs and ConfigMap and
// Secret keys resolved, $(VAR) expanded as Kubernetes does. Values from a
// Secret are sealed: plans, explain and inspect show a stand-in instead.
import { ENV_NAME } from './checker.js'
import { formatMap, resourceValue, type NodeAllocatable } from './downward.js'
import { expand } from './expand.js'
import { findObject, objectStrings, type PodObjects } from './objects.js'
import type { ContainerSpec, PodSpec } from './types.js'

/** What the downward API can read that is only known at run time. */
export interface RuntimeFacts {
  /** '' while the pod has none (loopback only). */
  podIP: string
  /** Every pod IP (dual stack); unset: just podIP. */
  podIPs?: string[]
  hostIP: string
  nodeName: string
  /** What a resourceFieldRef to an unset limit reports (the node's cpu count, MemTotal, root filesystem size). */
  allocatable?: NodeAllocatable
  /** The ConfigMaps and Secrets the pod may read (missing non-optional ones were refused before: configProblems). */
  objects?: PodObjects
}

export function fieldValue(pod: PodSpec, path: string, facts: RuntimeFacts): string {
  const keyed = path.match(/^metadata\.(labels|annotations)\['([^']+)'\]$/)
  if (keyed) {
    const map = pod[keyed[1] as 'labels' | 'annotations']
    return Object.hasOwn(map, keyed[2]) ? map[keyed[2]] : ''
  }
  switch (path) {
    case 'metadata.name':
      return pod.name
    case 'metadata.namespace':
      return pod.namespace
    case 'metadata.uid':
      return pod.uid
    case 'metadata.labels':
    case 'metadata.annotations':
      // downwardAPI volume files only: key="value" lines, sorted.
      return formatMap(pod[path === 'metadata.labels' ? 'labels' : 'annotations'])
    case 'status.podIP':
      return facts.podIP
    case 'status.podIPs':
      // kubelet joins the pod's IPs with commas.
      return (facts.podIPs ?? (facts.podIP ? [facts.podIP] : [])).join(',')
    case 'status.hostIP':
    case 'status.hostIPs':
      return facts.hostIP
    case 'spec.nodeName':
      return facts.nodeName
    case 'spec.serviceAccountName':
      return pod.serviceAccountName
    default:
      return ''
  }
}

/** A container's environment: the values, and what stands in for the sealed ones (from a Secret, or expanded from one). */
export interface ResolvedEnv {
  env: Map<string, string>
  /** name -> what plans, explain and inspect show in place of the value (kubectl describe's words, or the unexpanded text). */
  sealed: Map<string, string>
}

/** name -> value, in the order Kubernetes defines them (later wins). */
export function resolveEnv(pod: PodSpec, c: ContainerSpec, facts: RuntimeFacts): Map<string, string> {
  return resolveContainerEnv(pod, c, facts).env
}

/**
 * kubelet's makeEnvironmentVariables: every envFrom source's keys (prefixed;
 * keys that are not variable names skipped), then env in order; a value's
 * $(VAR) sees the variables defined before it. A missing optional object or
 * key defines nothing.
 */
export function resolveContainerEnv(pod: PodSpec, c: ContainerSpec, facts: RuntimeFacts): ResolvedEnv {
  const env = new Map<string, string>()
  const sealed = new Map<string, string>()
  const objects = facts.objects ?? { configMaps: [], secrets: [] }
  const lookup = (kind: 'ConfigMap' | 'Secret', name: string) => {
    const o = findObject(objects, kind, pod.namespace, name)
    return o && objectStrings(o)
  }
  const set = (name: string, value: string, shown?: string) => {
    env.set(name, value)
    if (shown === undefined) sealed.delete(name)
    else sealed.set(name, shown)
  }
  for (const from of c.envFrom ?? []) {
    const kind = from.configMapRef ? 'ConfigMap' : 'Secret'
    const name = (from.configMapRef ?? from.secretRef)!.name
    const values = lookup(kind, name)
    for (const k of [...(values?.keys() ?? [])].sort()) {
      const key = from.prefix + k
      if (!ENV_NAME.test(key)) continue // kubelet skips it (an InvalidEnvironmentVariableNames event)
      set(key, values!.get(k)!, kind === 'Secret' ? `<set to the key '${k}' in secret '${name}'>` : undefined)
    }
  }
  for (const e of c.env) {
    const ref = e.configMapKeyRef ?? e.secretKeyRef
    if (ref) {
      const kind = e.configMapKeyRef ? 'ConfigMap' : 'Secret'
      const value = lookup(kind, ref.name)?.get(ref.key)
      if (value !== undefined) set(e.name, value, kind === 'Secret' ? `<set to the key '${ref.key}' in secret '${ref.name}'>` : undefined)
    } else if (e.fieldRef) set(e.name, fieldValue(pod, e.fieldRef, facts))
    else if (e.resourceFieldRef) set(e.name, resourceValue(pod, e.resourceFieldRef, c, facts.allocatable))
    else {
      // A value may refer to variables defined before it; one that reads a sealed value is sealed, shown unexpanded there.
      let readsSealed = false
      const value = expand(e.value ?? '', n => {
        if (sealed.has(n)) readsSealed = true
        return env.get(n)
      })
      set(e.name, value, readsSealed ? expand(e.value ?? '', n => (sealed.has(n) ? undefined : env.get(n))) : undefined)
    }
  }
  return { env, sealed }
}

/**
 * The argv with $(VAR) expanded against the container's environment: command
 * + args, or `fromImage` (the image's Entrypoint/Cmd already combined with
 * them by the Kubernetes rules) when the image has a config.
 */
export function containerArgv(c: ContainerSpec, env: Map<string, string>, fromImage?: string[], sealed?: ReadonlyMap<string, string>): string[] {
  // With `sealed`: the argv as shown, a sealed variable left as $(NAME).
  return (fromImage ?? [...(c.command ?? []), ...(c.args ?? [])]).map(s => expand(s, n => (sealed?.has(n) ? undefined : env.get(n))))
}
