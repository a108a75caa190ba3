// Workload kinds run their pod template once, as `podman kube play` does:
// Deployment, ReplicaSet, ReplicationController, StatefulSet, DaemonSet and
// Job become one Pod object, named as their controller names a first pod and
// labelled as it labels one. Nothing reconciles them afterwards: replicas
// and a Job's completion settings are named in a warning. Pure.
import { nodeCrypto } from '../node-crypto.js'
import { Checker, isObj, type Obj } from './checker.js'
import { parseMetadata } from './metadata.js'
import { randomUuid } from './uuid.js'
import { POD_FIELDS } from './validate.js'

/** The kinds whose template runs, with their apiVersion and spec fields (beyond template and selector). */
export const WORKLOADS: Record<string, { apiVersion: string; fields: string[] }> = {
  Deployment: { apiVersion: 'apps/v1', fields: ['replicas', 'strategy', 'minReadySeconds', 'revisionHistoryLimit', 'progressDeadlineSeconds', 'paused'] },
  ReplicaSet: { apiVersion: 'apps/v1', fields: ['replicas', 'minReadySeconds'] },
  ReplicationController: { apiVersion: 'v1', fields: ['replicas', 'minReadySeconds'] },
  StatefulSet: {
    apiVersion: 'apps/v1',
    fields: [
      'replicas',
      'serviceName',
      'podManagementPolicy',
      'updateStrategy',
      'revisionHistoryLimit',
      'minReadySeconds',
      'persistentVolumeClaimRetentionPolicy',
      'ordinals',
      'volumeClaimTemplates',
    ],
  },
  DaemonSet: { apiVersion: 'apps/v1', fields: ['updateStrategy', 'minReadySeconds', 'revisionHistoryLimit'] },
  Job: {
    apiVersion: 'batch/v1',
    fields: [
      'parallelism',
      'completions',
      'backoffLimit',
      'activeDeadlineSeconds',
      'ttlSecondsAfterFinished',
      'completionMode',
      'suspend',
      'manualSelector',
      'podFailurePolicy',
      'backoffLimitPerIndex',
      'maxFailedIndexes',
      'successPolicy',
      'podReplacementPolicy',
      'managedBy',
    ],
  },
}

/** What a Job does that one pod run once does not (named in its one warning). */
const JOB_SETTINGS = [
  'completions',
  'parallelism',
  'backoffLimit',
  'activeDeadlineSeconds',
  'ttlSecondsAfterFinished',
  'completionMode',
  'podFailurePolicy',
  'backoffLimitPerIndex',
  'maxFailedIndexes',
  'successPolicy',
]

/** The characters of Kubernetes' generated names (k8s.io/apimachinery/pkg/util/rand). */
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789'

/** utilrand.String(n): `n` random characters (node:crypto loads here, not at every run's start). */
export const randomSuffix = (n = 5): string => {
  const { randomInt } = nodeCrypto()
  return Array.from({ length: n }, () => ALPHANUMS[randomInt(ALPHANUMS.length)]).join('')
}

/** generateName as the API server completes it: the base cut to 58 characters, then 5 random characters. */
export const generateName = (base: string): string => base.slice(0, 58) + randomSuffix()

/**
 * The pod-template-hash label: FNV-32a of the template, printed in decimal
 * and each digit mapped through SafeEncodeString's alphabet, as the
 * Deployment controller shapes it (its hash input is Go's dump of the
 * struct; ours the template's JSON, so the value differs from a cluster's).
 */
export function podTemplateHash(template: unknown): string {
  let h = 0x811c9dc5
  for (const b of Buffer.from(stableJson(template))) h = Math.imul(h ^ b, 0x01000193) >>> 0
  return [...String(h)].map(d => ALPHANUMS[d.charCodeAt(0) % ALPHANUMS.length]).join('')
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`
  if (isObj(v))
    return `{${Object.keys(v)
      .sort()
      .map(k => `${JSON.stringify(k)}:${stableJson(v[k])}`)
      .join(',')}}`
  return JSON.stringify(v) ?? 'null'
}

export interface WorkloadPod {
  /** The Pod object to validate (its problems belong under `spec.template`). */
  pod?: Obj
  /** The workload run no pod (a suspended Job): why. */
  notRun?: string
  warnings: string[]
}

/** Does a label selector (matchLabels, matchExpressions) select `labels`? */
function selects(c: Checker, selector: Obj, labels: Record<string, string>, path: string): boolean {
  c.fields(selector, path, ['matchLabels', 'matchExpressions'])
  const match = c.strMap(selector.matchLabels, `${path}.matchLabels`)
  let ok = Object.entries(match).every(([k, v]) => labels[k] === v)
  const exprs = c.list(selector.matchExpressions, `${path}.matchExpressions`)
  exprs.forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`
    const o = c.obj(e, p, true)
    if (!o) return
    c.fields(o, p, ['key', 'operator', 'values'])
    const key = c.str(o.key, `${p}.key`, true) ?? ''
    const op = c.oneOf(o.operator, `${p}.operator`, ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const, 'Exists')
    const values = c.strArray(o.values, `${p}.values`) ?? []
    const has = Object.hasOwn(labels, key)
    if (op === 'In') ok &&= has && values.includes(labels[key])
    else if (op === 'NotIn') ok &&= !has || !values.includes(labels[key])
    else if (op === 'Exists') ok &&= has
    else ok &&= !has
  })
  if (Object.keys(match).length === 0 && exprs.length === 0) c.fail(path, 'empty selector is invalid for this kind')
  return ok
}

/**
 * The one pod a workload's template becomes: its name, labels and (for a
 * StatefulSet) hostname and subdomain as the controller sets them; the
 * workload's own problems in `c` (paths from its top).
 */
export function workloadPod(c: Checker, top: Obj): WorkloadPod {
  const kind = String(top.kind)
  const def = WORKLOADS[kind]
  const warnings: string[] = []
  c.fields(top, '', ['apiVersion', 'kind', 'metadata', 'spec', 'status'])
  if (top.apiVersion !== def.apiVersion) c.fail('apiVersion', `must be "${def.apiVersion}", not ${JSON.stringify(top.apiVersion)}`)
  const meta = parseMetadata(c, top.metadata)
  const spec = c.obj(top.spec, 'spec', true) ?? {}
  // A pod's spec written straight under the workload's spec: say where it belongs.
  const podFields = Object.keys(spec).filter(k => POD_FIELDS.includes(k) && !def.fields.includes(k))
  for (const k of podFields) c.fail(`spec.${k}`, 'is a field of the pod template: indent it under spec.template.spec')
  c.fields(Object.fromEntries(Object.entries(spec).filter(([k]) => !podFields.includes(k))), 'spec', ['template', 'selector', ...def.fields])
  const hasTemplate = isObj(spec.template) && isObj(spec.template.spec)
  const template = c.obj(spec.template, 'spec.template', true) ?? {}
  c.fields(template, 'spec.template', ['metadata', 'spec'])
  const tmeta = c.obj(template.metadata, 'spec.template.metadata') ?? {}
  c.fields(tmeta, 'spec.template.metadata', ['name', 'namespace', 'labels', 'annotations', 'generateName', 'creationTimestamp'])
  const labels = c.strMap(tmeta.labels, 'spec.template.metadata.labels')
  const annotations = c.strMap(tmeta.annotations, 'spec.template.metadata.annotations')
  const podSpec = c.obj(template.spec, 'spec.template.spec', isObj(spec.template)) ?? {}

  // The selector: a map on a ReplicationController (defaulted to the template's labels), a LabelSelector elsewhere; Jobs generate theirs.
  if (kind === 'ReplicationController') {
    const sel = c.strMap(spec.selector, 'spec.selector')
    if (!Object.entries(sel).every(([k, v]) => labels[k] === v)) c.fail('spec.template.metadata.labels', '`selector` does not match template `labels`')
  } else if (kind !== 'Job') {
    const sel = c.obj(spec.selector, 'spec.selector', true)
    if (sel && !selects(c, sel, labels, 'spec.selector')) c.fail('spec.template.metadata.labels', '`selector` does not match template `labels`')
  }
  // The controllers' restart policy rules (ValidatePodTemplateSpecForReplicaSet, validateJobTemplate).
  const restart = podSpec.restartPolicy
  if (kind === 'Job') {
    if (restart !== 'OnFailure' && restart !== 'Never')
      c.fail(
        'spec.template.spec.restartPolicy',
        `${restart === undefined ? 'Required value' : `Unsupported value: ${JSON.stringify(restart)}`}: valid values: "OnFailure", "Never"`,
      )
  } else if (restart !== undefined && restart !== 'Always') {
    c.fail('spec.template.spec.restartPolicy', `Unsupported value: ${JSON.stringify(restart)}: supported values: "Always"`)
  }
  if (kind === 'StatefulSet' && Array.isArray(spec.volumeClaimTemplates) && spec.volumeClaimTemplates.length > 0)
    c.fail('spec.volumeClaimTemplates', 'persistent volume claims need a storage provisioner: not supported (use a hostPath or emptyDir volume)')

  const replicas = c.int(spec.replicas, 'spec.replicas', 0, 2 ** 31 - 1)
  const name = meta.name ?? ''
  if (replicas !== undefined && replicas > 1)
    warnings.push(`${kind} ${name}: replicas ${replicas}: runs one pod (the template once); nothing scales or reconciles it`)
  if (kind === 'Job') {
    const set = JOB_SETTINGS.filter(k => spec[k] !== undefined && spec[k] !== null)
    if (set.length > 0)
      warnings.push(
        `Job ${name}: ${set.map(k => `${k} ${JSON.stringify(spec[k])}`).join(', ')} ignored: ` +
          'the template runs once, as one pod; nothing retries or counts completions',
      )
  }
  if (!hasTemplate) return { warnings } // its problems are said; a pod of no template would only repeat them
  if (replicas === 0) return { notRun: `replicas 0`, warnings }
  if (kind === 'Job' && spec.suspend === true) return { notRun: 'suspended (spec.suspend: true)', warnings }

  const extraLabels: Record<string, string> = {}
  const extraSpec: Obj = {}
  let podName: string
  if (kind === 'Deployment') {
    const hash = podTemplateHash(template)
    extraLabels['pod-template-hash'] = hash
    podName = generateName(`${name}-${hash}-`)
  } else if (kind === 'StatefulSet') {
    const start = isObj(spec.ordinals) && typeof spec.ordinals.start === 'number' ? spec.ordinals.start : 0
    podName = `${name}-${start}`
    Object.assign(extraLabels, { 'statefulset.kubernetes.io/pod-name': podName, 'apps.kubernetes.io/pod-index': String(start) })
    // The controller sets each pod's hostname and, with a governing Service, its subdomain.
    extraSpec.hostname = podName
    if (typeof spec.serviceName === 'string' && spec.serviceName) extraSpec.subdomain = spec.serviceName
  } else if (kind === 'Job') {
    const uid = randomUuid()
    Object.assign(extraLabels, { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': name, 'controller-uid': uid, 'job-name': name })
    podName = generateName(`${name}-`)
  } else {
    podName = generateName(`${name}-`)
  }
  return {
    pod: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: podName, namespace: meta.namespace, labels: { ...labels, ...extraLabels }, annotations },
      spec: { ...podSpec, ...extraSpec },
    },
    warnings,
  }
}

/** A problem path of the template's pod, as a path of the workload (spec.containers[0] -> spec.template.spec.containers[0]). */
export const templatePath = (path: string): string =>
  path.startsWith('spec.') || path === 'spec' ? `spec.template.${path}` : path.startsWith('metadata.') ? `spec.template.${path}` : path
