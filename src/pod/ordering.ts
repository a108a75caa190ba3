// Stop order of a pod's containers with sidecars (Kubernetes 1.29+), as data:
// the lifecycle engine follows it, unit tests pin it.
import { isSidecar, type PodSpec } from '../spec/index.js'

export { isSidecar }

/**
 * kubelet's termination ordering (newTerminationOrdering): who each container
 * waits for before its SIGTERM. The containers and plain init containers wait
 * for nobody; a sidecar waits for every container and for the sidecar
 * declared after it (so, transitively, for every later sidecar): sidecars
 * stop in reverse order, after the containers they serve.
 */
export function stopPrerequisites(pod: Pick<PodSpec, 'initContainers' | 'containers'>): Map<string, string[]> {
  const out = new Map<string, string[]>()
  const containers = pod.containers.map(c => c.name)
  for (const name of containers) out.set(name, [])
  let later: string | undefined
  for (const c of [...pod.initContainers].reverse()) {
    if (!isSidecar(c)) {
      out.set(c.name, [])
      continue
    }
    out.set(c.name, later ? [...containers, later] : containers)
    later = c.name
  }
  return out
}
