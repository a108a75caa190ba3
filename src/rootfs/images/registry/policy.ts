// Kubernetes' imagePullPolicy for a container image: the default is Always
// for `:latest` or no tag, IfNotPresent otherwise (a digest counts as a tag);
// Never uses the local store only. Pure.
import { parseImageName } from '../names.js'

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never'

export function defaultPullPolicy(image: string): PullPolicy {
  const ref = parseImageName(image)
  return !ref.digest && ref.tag === 'latest' ? 'Always' : 'IfNotPresent'
}

/** Whether a pull is due: Always pulls; IfNotPresent pulls when the store lacks it; Never never. */
export function shouldPull(policy: PullPolicy, present: boolean): boolean {
  return policy === 'Always' || (policy === 'IfNotPresent' && !present)
}
