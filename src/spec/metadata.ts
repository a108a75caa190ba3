// metadata of any object we read (Pod, ConfigMap, Secret, a workload):
// name, namespace, labels, annotations, with the API server's rules.
import type { Checker } from './checker.js'

export interface Metadata {
  name?: string
  namespace: string
  labels: Record<string, string>
  annotations: Record<string, string>
}

const KNOWN = ['name', 'namespace', 'labels', 'annotations', 'uid', 'creationTimestamp', 'resourceVersion', 'generation', 'managedFields']
const LATER = { generateName: 'use metadata.name', ownerReferences: 'ignored', finalizers: 'ignored' }

/** `metadata` at `path` (required); the name is a DNS-1123 subdomain, the namespace a label (default `default`). */
export function parseMetadata(c: Checker, v: unknown, path = 'metadata'): Metadata {
  const meta = c.obj(v, path, true) ?? {}
  c.fields(meta, path, KNOWN, LATER)
  const name = c.str(meta.name, `${path}.name`, true)
  if (name) c.subdomain(name, `${path}.name`)
  const namespace = c.str(meta.namespace, `${path}.namespace`) ?? 'default'
  if (meta.namespace !== undefined) c.dnsLabel(namespace, `${path}.namespace`)
  return { name, namespace, labels: c.strMap(meta.labels, `${path}.labels`), annotations: c.strMap(meta.annotations, `${path}.annotations`) }
}
