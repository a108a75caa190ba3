// A container's environment and argv at start time (pure): downward-API
// fieldRefs resolved, $(VAR) expanded as Kubernetes does, in list order.
import { expand } from './expand.js'
import type { ContainerSpec, PodSpec } from './types.js'

/** What the downward API can read that is only known at run time. */
export interface RuntimeFacts {
  podIP: string
  hostIP: string
  nodeName: string
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
    case 'metadata.annotations': {
      // As the downward API formats a whole map: key="value" lines, sorted.
      const map = pod[path === 'metadata.labels' ? 'labels' : 'annotations']
      return Object.keys(map).sort().map(k => `${k}=${JSON.stringify(map[k])}`).join('\n')
    }
    case 'status.podIP':
    case 'status.podIPs':
      return facts.podIP
    case 'status.hostIP':
    case 'status.hostIPs':
      return facts.hostIP
    case 'spec.nodeName':
      return facts.nodeName
    case 'spec.serviceAccountName':
      return 'default'
    default:
      return ''
  }
}

/** name -> value, in the order Kubernetes defines them (later wins). */
export function resolveEnv(pod: PodSpec, c: ContainerSpec, facts: RuntimeFacts): Map<string, string> {
  const env = new Map<string, string>()
  for (const e of c.env) {
    // A value may refer to variables defined before it; fieldRef values are taken as they are.
    env.set(e.name, e.fieldRef ? fieldValue(pod, e.fieldRef, facts) : expand(e.value ?? '', n => env.get(n)))
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
