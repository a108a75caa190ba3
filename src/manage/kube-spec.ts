// A Pod's spec as the API server would store it: the manifest's spec (as
// written, unknown fields dropped) with the defaults of k8s.io/api core/v1
// (pkg/apis/core/v1/defaults.go) and of the admission plugins every cluster
// runs (ServiceAccount, Priority), so that `inspect` prints what
// `kubectl get pod -o yaml` would and the spec can be applied again. Pure.
import { defaultPullPolicy } from '../rootfs/images/registry/policy.js'
import type { PodSpec } from '../spec/index.js'

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : [])
/** `o[k] ??= v` for a field the manifest left out. */
const dflt = (o: Obj, k: string, v: unknown) => {
  if (o[k] === undefined || o[k] === null) o[k] = v
}

/** SetDefaults_Probe (a zero counts as unset) and the handler's scheme. */
function probe(p: Obj): void {
  for (const [k, v] of [
    ['timeoutSeconds', 1],
    ['periodSeconds', 10],
    ['successThreshold', 1],
    ['failureThreshold', 3],
  ] as const)
    if (!p[k]) p[k] = v
  if (isObj(p.httpGet)) dflt(p.httpGet, 'scheme', 'HTTP')
  if (isObj(p.grpc)) dflt(p.grpc, 'service', '')
}

/** The pull policy pod-launch applies: registry images as the API server defaults them; host and directory images are never pulled. */
function pullPolicy(image: unknown): string {
  if (typeof image !== 'string' || image === 'host' || image.startsWith('/') || image.startsWith('dir:')) return 'Never'
  try {
    return defaultPullPolicy(image)
  } catch {
    return 'IfNotPresent'
  }
}

function container(c: Obj, hostNetwork: boolean): void {
  dflt(c, 'imagePullPolicy', pullPolicy(c.image))
  dflt(c, 'terminationMessagePath', '/dev/termination-log')
  dflt(c, 'terminationMessagePolicy', 'File')
  dflt(c, 'resources', {})
  // SetDefaults_Pod: a limit without its request requests the limit.
  const res = c.resources as Obj
  if (isObj(res.limits)) {
    const requests = isObj(res.requests) ? res.requests : (res.requests = {})
    for (const [k, v] of Object.entries(res.limits)) dflt(requests, k, v)
  }
  for (const p of list(c.ports)) {
    dflt(p, 'protocol', 'TCP')
    if (hostNetwork) dflt(p, 'hostPort', p.containerPort)
  }
  for (const e of list(c.env)) if (isObj(e.valueFrom) && isObj(e.valueFrom.fieldRef)) dflt(e.valueFrom.fieldRef, 'apiVersion', 'v1')
  for (const k of ['startupProbe', 'livenessProbe', 'readinessProbe']) if (isObj(c[k])) probe(c[k])
  for (const k of ['postStart', 'preStop']) {
    const h = isObj(c.lifecycle) ? c.lifecycle[k] : undefined
    if (isObj(h) && isObj(h.httpGet)) dflt(h.httpGet, 'scheme', 'HTTP')
  }
}

function volume(v: Obj): void {
  if (isObj(v.hostPath)) dflt(v.hostPath, 'type', '')
  for (const k of ['configMap', 'secret', 'downwardAPI', 'projected']) if (isObj(v[k])) dflt(v[k], 'defaultMode', 420)
  if (isObj(v.downwardAPI)) for (const item of list(v.downwardAPI.items)) if (isObj(item.fieldRef)) dflt(item.fieldRef, 'apiVersion', 'v1')
}

/**
 * The manifest's spec (not changed) with the API server's defaults; `nodeName`
 * is this host (the scheduler's choice, made by running here).
 */
export function defaultedPodSpec(manifestSpec: Obj, nodeName: string): Obj {
  const s = structuredClone(manifestSpec)
  const hostNetwork = s.hostNetwork === true
  for (const c of [...list(s.initContainers), ...list(s.containers)]) container(c, hostNetwork)
  for (const v of list(s.volumes)) volume(v)
  dflt(s, 'restartPolicy', 'Always')
  dflt(s, 'terminationGracePeriodSeconds', 30)
  dflt(s, 'dnsPolicy', 'ClusterFirst')
  dflt(s, 'securityContext', {})
  dflt(s, 'schedulerName', 'default-scheduler')
  dflt(s, 'enableServiceLinks', true)
  // The ServiceAccount and Priority admission plugins.
  dflt(s, 'serviceAccountName', s.serviceAccount ?? 'default')
  dflt(s, 'serviceAccount', s.serviceAccountName)
  dflt(s, 'priority', 0)
  dflt(s, 'preemptionPolicy', 'PreemptLowerPriority')
  dflt(s, 'nodeName', nodeName)
  return s
}

/**
 * A spec for a pod made without a manifest (a library PodSpec, the CRI): the
 * fields the runtime holds, in the API's shape, then defaulted.
 */
export function specFromPodSpec(p: PodSpec, nodeName: string): Obj {
  const c = (x: PodSpec['containers'][number]): Obj => ({
    name: x.name,
    image: x.image,
    ...(x.command && { command: x.command }),
    ...(x.args && { args: x.args }),
    ...(x.workingDir && { workingDir: x.workingDir }),
    ...(x.env.some(e => e.value !== undefined) && { env: x.env.filter(e => e.value !== undefined).map(e => ({ name: e.name, value: e.value })) }),
    ...(x.ports.length > 0 && { ports: x.ports.map(p => ({ ...p })) }),
    ...(x.restartPolicy && { restartPolicy: x.restartPolicy }),
    ...(x.stdin && { stdin: true }),
    ...(x.stdinOnce && { stdinOnce: true }),
    ...(x.tty && { tty: true }),
  })
  return defaultedPodSpec(
    {
      ...(p.initContainers.length > 0 && { initContainers: p.initContainers.map(c) }),
      containers: p.containers.map(c),
      restartPolicy: p.restartPolicy,
      terminationGracePeriodSeconds: p.terminationGracePeriodSeconds,
      dnsPolicy: p.dnsPolicy,
      ...(p.hostNetwork && { hostNetwork: true }),
      ...(p.hostPID && { hostPID: true }),
      ...(p.hostIPC && { hostIPC: true }),
      ...(p.shareProcessNamespace && { shareProcessNamespace: true }),
      serviceAccountName: p.serviceAccountName,
    },
    nodeName,
  )
}
