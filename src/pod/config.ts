// The ConfigMaps and Secrets a pod reads, checked before anything is made:
// a missing non-optional one fails the pod with kubelet's reason and words.
import { PodError } from '../errors.js'
import { configProblems, noObjects, type PodObjects, type PodSpec } from '../spec/index.js'

/**
 * Throws `pod.config` (exit code 2) naming every reference the objects cannot
 * meet: `pod web: container app: CreateContainerConfigError: configmap "cfg"
 * not found`, or FailedMount for a volume. kubelet would retry until the
 * object appears; here nothing can make it appear, so the pod fails at once.
 */
export function checkPodConfig(spec: PodSpec, objects: PodObjects = noObjects()): void {
  const problems = configProblems(spec, objects)
  if (problems.length === 0) return
  const lines = problems.map(p => `${p.container !== undefined ? `container ${p.container}` : `volume ${p.volume}`}: ${p.reason}: ${p.message}`)
  throw new PodError(`pod.config: pod ${spec.name}: ${lines.join('; ')}`, {
    step: 'pod.config',
    code: problems[0].reason,
    exitCode: 2,
    hint: 'give the ConfigMap or Secret in the same file (a document of its own), with --configmap FILE / --secret FILE, or mark the reference optional: true',
  })
}
