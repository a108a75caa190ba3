// A container's environment and argv at start time (pure): downward-API
// fieldRefs resolved, $(VAR) expanded as Kubernetes does, in list order.
import { formatMap, resourceValue, type NodeAllocatable } from './downward.js'
import { expand } from './expand.js'
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

/** name -> value, in the order Kubernetes defines them (later wins). */
export function resolveEnv(pod: PodSpec, c: ContainerSpec, facts: RuntimeFacts): Map<string, string> {
  const env = new Map<string, string>()
  for (const e of c.env) {
    // A value may refer to variables defined before it; fieldRef values are taken as they are.
    if (e.fieldRef) env.set(e.name, fieldValue(pod, e.fieldRef, facts))
    else if (e.resourceFieldRef) env.set(e.name, resourceValue(pod, e.resourceFieldRef, c, facts.allocatable))
    else
      env.set(
        e.name,
        expand(e.value ?? '', n => env.get(n)),
      )
  }
  return env
}

/**
 * The argv with $(VAR) expanded against the container's environment: command
 * + args, or `fromImage` (the image's Entrypoint/Cmd already combined with
 * them by the Kubernetes rules) when the image has a config.
 */
export function containerArgv(c: ContainerSpec, env: Map<string, string>, fromImage?: string[]): string[] {
  return (fromImage ?? [...(c.command ?? []), ...(c.args ?? [])]).map(s => expand(s, n => env.get(n)))
}
