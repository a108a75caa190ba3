// Manifest object -> frozen, defaulted PodSpec, with every problem listed by
// field path (the rules Kubernetes' API validation applies to these fields).
import { Checker, DNS1123_SUBDOMAIN } from './checker.js'
import { MAX_CPU_MILLI, parseContainer, type ContainerContext } from './container.js'
import { parseDNS, parseHostAliases } from './dns.js'
import { checkSysctlHosts, parsePodSecurity } from './security.js'
import type { ContainerSpec, ParseResult, PodSpec, SpecProblem } from './types.js'
import { parseMetadata } from './metadata.js'
import { randomUuid } from './uuid.js'
import { API_DATA_VOLUMES, parseVolumes, rawDownwardItems } from './volumes.js'

export interface ValidateOptions {
  /**
   * As kubectl's --validate=strict (the CLI's default): unknown fields are problems
   * (with the nearest known field) and a container needs an image (\`image: host\`
   * for the host's filesystem). Off: unknown fields are warnings, no image is host.
   */
  strict?: boolean
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** The fields of a Pod's spec we honour. */
const POD_KNOWN = [
  'securityContext',
  'containers',
  'initContainers',
  'restartPolicy',
  'terminationGracePeriodSeconds',
  'shareProcessNamespace',
  'hostNetwork',
  'hostIPC',
  'hostPID',
  'hostname',
  'volumes',
  'subdomain',
  'hostAliases',
  'dnsPolicy',
  'dnsConfig',
  'serviceAccountName',
  'serviceAccount',
  'os',
]
const POD_LATER: Record<string, string> = {
  nodeName: 'ignored: the pod runs on this host',
  nodeSelector: 'ignored: the pod runs on this host',
  affinity: 'ignored: the pod runs on this host',
  tolerations: 'ignored: the pod runs on this host',
  automountServiceAccountToken: 'no API server: ignored',
  priorityClassName: 'ignored',
  schedulerName: 'ignored',
  enableServiceLinks: 'no services: ignored',
  activeDeadlineSeconds: 'not supported yet',
  imagePullSecrets: 'ignored: registry credentials come from the auth files and pod-launch image login (docs/images.md)',
  readinessGates: 'not supported yet',
  runtimeClassName: 'ignored',
  overhead: 'ignored',
  topologySpreadConstraints: 'ignored',
  ephemeralContainers: 'not supported yet',
  preemptionPolicy: 'ignored',
  priority: 'ignored',
  setHostnameAsFQDN: 'not supported yet',
  resourceClaims: 'not supported',
  schedulingGates: 'ignored',
  hostUsers: 'user namespaces not supported yet',
}

/** Every field of a Pod's spec we know (honoured or not). */
export const POD_FIELDS: readonly string[] = [...POD_KNOWN, ...Object.keys(POD_LATER)]

/** Validate a manifest object; returns the PodSpec or every problem found. */
export function validatePod(manifest: unknown, opts: ValidateOptions = {}): { result?: ParseResult; problems: SpecProblem[] } {
  const strict = opts.strict ?? false
  const c = new Checker(strict)
  const top = c.obj(manifest, '(manifest)', true)
  if (!top) return { problems: c.problems }
  // Another kind (a List, a Deployment): its fields are not a Pod's, so the kind is the one problem.
  if (top.kind !== 'Pod' && top.kind !== undefined) {
    const list = top.kind === 'List' ? ': give the Pod itself, or its items as documents separated by ---' : ''
    return { problems: [{ path: 'kind', message: `must be "Pod", not ${JSON.stringify(top.kind)}${list}` }] }
  }
  // Pod spec fields written at the top level (`containers:` at column 0) belong under spec:.
  const misplaced = Object.keys(top).filter(k => POD_KNOWN.includes(k) || k in POD_LATER)
  for (const k of misplaced) c.fail(k, `is a field of spec: indent it under spec:`)
  c.fields(Object.fromEntries(Object.entries(top).filter(([k]) => !misplaced.includes(k))), '', ['apiVersion', 'kind', 'metadata', 'spec', 'status'])
  if (top.apiVersion !== 'v1') c.fail('apiVersion', top.apiVersion === undefined ? 'required: "v1"' : `must be "v1", not ${JSON.stringify(top.apiVersion)}`)
  if (top.kind !== 'Pod') c.fail('kind', top.kind === undefined ? 'required: "Pod"' : `must be "Pod", not ${JSON.stringify(top.kind)}`)

  const { name, namespace, labels, annotations } = parseMetadata(c, top.metadata)

  const spec = c.obj(top.spec, 'spec', misplaced.length === 0) ?? {}
  c.fields(spec, 'spec', POD_KNOWN, POD_LATER)
  const volumes = parseVolumes(c, spec.volumes)
  const podSecurity = parsePodSecurity(c, spec.securityContext, 'spec.securityContext')
  const os = parseOS(c, spec.os)
  const readOnlyVolumes = new Set(volumes.filter(v => API_DATA_VOLUMES.includes(v.kind)).map(v => v.name))
  // Every volume named in spec.volumes, refused ones too: a mount of a refused volume is not a second problem.
  const declared = c
    .list(spec.volumes, 'spec.volumes')
    .flatMap(v => (typeof (v as { name?: unknown })?.name === 'string' ? [(v as { name: string }).name] : []))
  const ctx = (isInit: boolean): ContainerContext => ({ volumeNames: new Set(declared), readOnlyVolumes, hostPorts, isInit, podSecurity, strict, os })
  const hostPorts = new Set<string>()
  const names = new Set<string>()
  const containersOf = (field: 'containers' | 'initContainers', isInit: boolean): ContainerSpec[] => {
    const out: ContainerSpec[] = []
    c.list(spec[field], `spec.${field}`).forEach((v, i) => {
      const ct = parseContainer(c, v, `spec.${field}[${i}]`, ctx(isInit))
      if (!ct) return
      if (names.has(ct.name)) c.fail(`spec.${field}[${i}].name`, `"${ct.name}" is a duplicate: container names must be unique in the pod`)
      names.add(ct.name)
      out.push(ct)
    })
    return out
  }
  const initContainers = containersOf('initContainers', true)
  const containers = containersOf('containers', false)
  if ((!Array.isArray(spec.containers) || spec.containers.length === 0) && !misplaced.includes('containers'))
    c.fail('spec.containers', 'required: at least one container')
  const podCpuMilli = containers.reduce((n, ct) => n + (ct.resources.limits.cpuMilli ?? 0), 0)
  if (podCpuMilli > MAX_CPU_MILLI && containers.every(ct => (ct.resources.limits.cpuMilli ?? 0) <= MAX_CPU_MILLI))
    c.fail(
      'spec.containers[*].resources.limits.cpu',
      `the sum, ${podCpuMilli}m, is more than ${MAX_CPU_MILLI}m (the pod cgroup's CFS quota would exceed the kernel's 2^44-1 us)`,
    )

  const restartPolicy = c.oneOf(spec.restartPolicy, 'spec.restartPolicy', ['Always', 'OnFailure', 'Never'] as const, 'Always')
  const grace = c.int(spec.terminationGracePeriodSeconds, 'spec.terminationGracePeriodSeconds', 0, 2 ** 31) ?? 30
  const shareProcessNamespace = c.bool(spec.shareProcessNamespace, 'spec.shareProcessNamespace', false)
  const hostNetwork = c.bool(spec.hostNetwork, 'spec.hostNetwork', false)
  const hostIPC = c.bool(spec.hostIPC, 'spec.hostIPC', false)
  const hostPID = c.bool(spec.hostPID, 'spec.hostPID', false)
  if (hostPID && shareProcessNamespace) c.fail('spec.shareProcessNamespace', 'may not be true when hostPID is true')
  checkSysctlHosts(c, podSecurity.sysctls, 'spec.securityContext.sysctls', { net: hostNetwork, ipc: hostIPC })
  const hostname = c.str(spec.hostname, 'spec.hostname')
  if (hostname !== undefined) c.dnsLabel(hostname, 'spec.hostname')
  const subdomain = c.str(spec.subdomain, 'spec.subdomain') || undefined
  if (subdomain !== undefined) c.dnsLabel(subdomain, 'spec.subdomain')
  const hostAliases = parseHostAliases(c, spec.hostAliases)
  const dns = parseDNS(c, spec)
  // serviceAccount is the deprecated spelling; serviceAccountName wins.
  const serviceAccountName = c.str(spec.serviceAccountName, 'spec.serviceAccountName') || c.str(spec.serviceAccount, 'spec.serviceAccount') || 'default'
  if (serviceAccountName.length > 253 || !DNS1123_SUBDOMAIN.test(serviceAccountName))
    c.fail(spec.serviceAccountName ? 'spec.serviceAccountName' : 'spec.serviceAccount', `"${serviceAccountName}" must be a DNS-1123 subdomain`)
  checkResourceRefs(c, spec, names)

  if (c.problems.length > 0 || !name) return { problems: c.problems }
  const pod: PodSpec = deepFreeze({
    apiVersion: 'v1',
    kind: 'Pod',
    name,
    namespace,
    uid: randomUuid(),
    labels,
    annotations,
    // Kubernetes uses the pod name, truncated to 63 characters, as hostname.
    hostname: hostname ?? name.slice(0, 63).replace(/[-.]+$/, ''),
    ...(subdomain ? { subdomain } : {}),
    hostAliases,
    ...dns,
    serviceAccountName,
    shareProcessNamespace,
    hostNetwork,
    hostIPC,
    hostPID,
    restartPolicy,
    terminationGracePeriodSeconds: grace,
    initContainers,
    containers,
    volumes,
    securityContext: podSecurity,
    ...(os ? { os: { name: os } } : {}),
    manifestSpec: manifestSpec(spec, c.unsupported),
  })
  return { result: { spec: pod, unsupported: c.unsupported, warnings: [] }, problems: [] }
}

/**
 * spec.os.name (validateOS): linux or windows. A Windows pod does not run on
 * this Linux host: kubelet refuses it at admission (PodOSNotSupported).
 */
function parseOS(c: Checker, v: unknown): 'linux' | undefined {
  const o = c.obj(v, 'spec.os')
  if (!o) return undefined
  c.fields(o, 'spec.os', ['name'])
  const name = c.str(o.name, 'spec.os.name', true)
  if (name === 'windows') c.fail('spec.os.name', '"windows": this host runs Linux pods (kubelet: PodOSNotSupported)')
  else if (name !== undefined && name !== 'linux') c.fail('spec.os.name', `must be "linux" or "windows", not ${JSON.stringify(name)}`)
  return name === 'linux' ? 'linux' : undefined
}

/** A resourceFieldRef's containerName must name a container of the pod (kubelet fails the pod otherwise). */
function checkResourceRefs(c: Checker, spec: Record<string, unknown>, names: Set<string>): void {
  const check = (ref: unknown, p: string) => {
    const name = (ref as { containerName?: unknown } | undefined)?.containerName
    if (typeof name === 'string' && name !== '' && !names.has(name)) c.fail(`${p}.containerName`, `"${name}" is not a container of this pod`)
  }
  for (const field of ['initContainers', 'containers']) {
    const list = Array.isArray(spec[field]) ? (spec[field] as unknown[]) : []
    list.forEach((ct, i) => {
      const env = (ct as { env?: unknown })?.env
      if (Array.isArray(env))
        env.forEach((e, j) =>
          check((e as { valueFrom?: { resourceFieldRef?: unknown } })?.valueFrom?.resourceFieldRef, `spec.${field}[${i}].env[${j}].valueFrom.resourceFieldRef`),
        )
    })
  }
  for (const { item, path } of rawDownwardItems(spec.volumes)) check((item as { resourceFieldRef?: unknown })?.resourceFieldRef, `${path}.resourceFieldRef`)
}

/** The spec as written, for `inspect` to print as the API server stores it: unknown fields dropped (as it drops them). */
function manifestSpec(spec: Record<string, unknown>, unsupported: string[]): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(spec)) as Record<string, unknown>
  for (const u of unsupported) {
    const m = /^spec\.(.+) \(unknown field\)$/.exec(u)
    if (!m) continue
    const keys = [...m[1].matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map(k => k[1] ?? Number(k[2]))
    let at: unknown = copy
    for (const k of keys.slice(0, -1)) at = (at as Record<string | number, unknown> | undefined)?.[k]
    if (typeof at === 'object' && at !== null) delete (at as Record<string | number, unknown>)[keys[keys.length - 1]]
  }
  return copy
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x)
    Object.freeze(v)
  }
  return v
}
