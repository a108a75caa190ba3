// A whole manifest file, as `kubectl apply -f` and `podman kube play` take
// it: every document (and every item of a List), each Pod and each workload's
// template as a pod to run, ConfigMaps and Secrets as objects they may read,
// any other kind named as not run. Every problem of every document is listed
// before anything is made. Pure but for the YAML parser.
import { createRequire } from 'node:module'
import { Checker, isObj, type Obj } from './checker.js'
import { parseConfigMap, parseSecret, type PodObjects } from './objects.js'
import type { ParseResult, SpecProblem } from './types.js'
import { validatePod, type ValidateOptions } from './validate.js'
import { WORKLOADS, templatePath, workloadPod } from './workloads.js'

/** Where a pod or object came from in its file. */
export interface DocumentOrigin {
  /** 1-based, in file order. */
  document: number
  /** 1-based item of a List document. */
  item?: number
  kind: string
  name: string
  namespace: string
}

export const originLabel = (o: DocumentOrigin): string => `${o.document}${o.item !== undefined ? `.${o.item}` : ''}`
export const describeOrigin = (o: DocumentOrigin): string => `${o.kind} ${o.name || '(no name)'} (document ${originLabel(o)})`
/** `Service web (document 3): not run: ...`: one line per document that runs as nothing. */
export const notRunLine = (n: { origin: DocumentOrigin; reason: string }): string => `${describeOrigin(n.origin)}: not run: ${n.reason}`

export interface PodDocument {
  origin: DocumentOrigin
  parsed: ParseResult
  /** The Pod object validated (a workload's made from its template, annotations added): what a pod kept for boot is made from again. */
  object: Obj
}

export interface ManifestSet {
  /** The file (or `(manifest)`). */
  source: string
  /** Pods to run, in file order: Pods, and one per workload. */
  pods: PodDocument[]
  /** Every ConfigMap and Secret of the file. */
  objects: PodObjects
  /** Documents run as nothing, and why (`notRunLine` words them). */
  notRun: { origin: DocumentOrigin; reason: string }[]
  /** ConfigMaps and Secrets, by origin (explain lists them). */
  objectOrigins: DocumentOrigin[]
  warnings: string[]
}

export interface ManifestSetOptions extends ValidateOptions {
  /** Added to each pod's metadata.annotations before it is validated (where it came from). */
  annotate?: (origin: DocumentOrigin) => Record<string, string>
  /** Only these kinds may appear (`--configmap` files hold ConfigMaps only). */
  only?: 'ConfigMap' | 'Secret'
}

/** Split YAML or JSON text into its documents (empty ones dropped); a syntax error is `spec.parse`. */
export function splitDocuments(text: string, source: string, fail: (message: string, syntax: boolean) => never): unknown[] {
  // JSON needs no YAML parser: loading one costs a CLI run ~50 ms.
  if (/^\s*[{[]/.test(text)) {
    try {
      return [JSON.parse(text)]
    } catch {
      // not JSON after all: the YAML parser says what is wrong
    }
  }
  const { parseAllDocuments } = createRequire(import.meta.url)('yaml') as typeof import('yaml')
  const docs = parseAllDocuments(text)
  const out: unknown[] = []
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) fail(doc.errors[0].message.split('\n')[0], true)
    const value = doc.toJS() as unknown
    if (value !== null && value !== undefined) out.push(value)
  }
  if (out.length === 0) fail('no document found', false)
  return out
}

/** Not run, and why: kinds that need a cluster. */
function notRunReason(kind: string): string {
  if (kind === 'CronJob') return 'pod-launch runs no schedules (a systemd timer can call `pod-launch run`)'
  if (kind === 'Service') return 'there is no cluster network here (use hostPort, or hostNetwork)'
  if (kind === 'PersistentVolumeClaim') return 'there is no storage provisioner here (use a hostPath or emptyDir volume)'
  return 'pod-launch reads only Pods, workload templates, ConfigMaps and Secrets'
}

/**
 * Every document of `text`: `kind: List` (and `<Kind>List`) items in place;
 * problems of all documents at once as `problems` (each prefixed with its
 * document when the file has several).
 */
export function parseManifestDocuments(docs: unknown[], source: string, opts: ManifestSetOptions = {}): { set: ManifestSet; problems: SpecProblem[] } {
  const set: ManifestSet = { source, pods: [], objects: { configMaps: [], secrets: [] }, notRun: [], objectOrigins: [], warnings: [] }
  const problems: SpecProblem[] = []
  const entries: { value: unknown; document: number; item?: number }[] = []
  docs.forEach((d, i) => {
    const items = isObj(d) && typeof d.kind === 'string' && d.kind.endsWith('List') ? d.items : undefined
    if (Array.isArray(items)) {
      items.forEach((value, j) => entries.push({ value, document: i + 1, item: j + 1 }))
    } else entries.push({ value: d, document: i + 1 })
  })
  const several = entries.length > 1
  const seen = new Map<string, string>()
  for (const { value, document, item } of entries) {
    const top = isObj(value) ? value : undefined
    const kind = typeof top?.kind === 'string' ? top.kind : ''
    const meta = isObj(top?.metadata) ? top.metadata : {}
    const origin: DocumentOrigin = {
      document,
      ...(item !== undefined ? { item } : {}),
      kind: kind || '(no kind)',
      name: typeof meta.name === 'string' ? meta.name : '',
      namespace: typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : 'default',
    }
    const add = (list: SpecProblem[], prefix = '') =>
      problems.push(...list.map(p => ({ path: several ? `${describeOrigin(origin)}: ${prefix}${p.path}` : `${prefix}${p.path}`, message: p.message })))
    // The same object twice (or a workload's pod named as a Pod) would be one object in a cluster.
    const unique = (k: string, name: string, path: string): boolean => {
      const key = `${k}/${origin.namespace}/${name}`
      const first = seen.get(key)
      if (first) add([{ path, message: `"${name}" is a duplicate of ${first}` }])
      else seen.set(key, `document ${originLabel(origin)}`)
      return !first
    }
    if (opts.only && kind !== opts.only) {
      add([{ path: 'kind', message: `must be "${opts.only}", not ${JSON.stringify(top?.kind)}: this file gives ${opts.only}s only` }])
      continue
    }
    if (kind === 'ConfigMap' || kind === 'Secret') {
      const c = new Checker(opts.strict ?? false)
      const o = kind === 'ConfigMap' ? parseConfigMap(c, top!) : parseSecret(c, top!)
      add(c.problems)
      if (o && unique(kind, o.name, 'metadata.name')) {
        if (o.kind === 'ConfigMap') set.objects.configMaps.push(o)
        else set.objects.secrets.push(o)
        set.objectOrigins.push(origin)
      }
      if (c.unsupported.length) set.warnings.push(`${describeOrigin(origin)}: not supported yet, ignored: ${c.unsupported.join(', ')}`)
      continue
    }
    let podObject: unknown = value
    let map = (p: string) => p
    if (kind in WORKLOADS) {
      const c = new Checker(opts.strict ?? false)
      const w = workloadPod(c, top!)
      add(c.problems)
      set.warnings.push(...w.warnings)
      if (c.unsupported.length) set.warnings.push(`${describeOrigin(origin)}: not supported yet, ignored: ${c.unsupported.join(', ')}`)
      if (w.notRun) set.notRun.push({ origin, reason: w.notRun })
      if (!w.pod) continue
      podObject = w.pod
      map = templatePath
    } else if (kind !== 'Pod' && kind !== '') {
      set.notRun.push({ origin, reason: notRunReason(kind) })
      continue
    }
    if (opts.annotate && isObj(podObject) && isObj(podObject.metadata)) {
      const m = podObject.metadata
      podObject = { ...podObject, metadata: { ...m, annotations: { ...(isObj(m.annotations) ? m.annotations : {}), ...opts.annotate(origin) } } }
    }
    const podName = (podObject as { metadata?: { name?: unknown } }).metadata?.name
    const isUnique = typeof podName !== 'string' || !podName || unique('Pod', podName, 'metadata.name')
    const { result, problems: pp } = validatePod(podObject, opts)
    add(pp.map(p => ({ ...p, path: map(p.path) })))
    if (!result || !isUnique) continue
    set.pods.push({ origin, parsed: result, object: podObject as Obj })
  }
  return { set, problems }
}
