// Manifest object -> frozen, defaulted PodSpec, with every problem listed by
// field path (the rules Kubernetes' API validation applies to these fields).
import { randomUUID } from 'node:crypto'
import { Checker, DNS1123_SUBDOMAIN } from './checker.js'
import { MAX_CPU_MILLI, parseContainer, type ContainerContext } from './container.js'
import { parseDNS, parseHostAliases } from './dns.js'
import { parseResourceFieldRef, VOLUME_FIELD_PATHS } from './downward.js'
import { checkSysctlHosts, parsePodSecurity } from './security.js'
import type { ContainerSpec, DownwardAPIItem, ParseResult, PodSpec, SpecProblem, Volume } from './types.js'

export interface ValidateOptions {
  /**
   * As kubectl's --validate=strict (the CLI's default): unknown fields are problems
   * (with the nearest known field) and a container needs an image (\`image: host\`
   * for the host's filesystem). Off: unknown fields are warnings, no image is host.
   */
  strict?: boolean
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

const VOLUME_KINDS = ['hostPath', 'emptyDir', 'configMap', 'secret', 'projected', 'downwardAPI', 'persistentVolumeClaim', 'ephemeral', 'csi', 'nfs', 'image']

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
  os: 'ignored',
  preemptionPolicy: 'ignored',
  priority: 'ignored',
  setHostnameAsFQDN: 'not supported yet',
  resourceClaims: 'not supported',
  schedulingGates: 'ignored',
  hostUsers: 'user namespaces not supported yet',
}

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
  if (top.apiVersion !== 'v1') c.fail('apiVersion', `must be "v1", not ${JSON.stringify(top.apiVersion)}`)
  if (top.kind !== 'Pod') c.fail('kind', `must be "Pod", not ${JSON.stringify(top.kind)}`)

  const meta = c.obj(top.metadata, 'metadata', true) ?? {}
  c.fields(meta, 'metadata', ['name', 'namespace', 'labels', 'annotations', 'uid', 'creationTimestamp', 'resourceVersion'], {
    generateName: 'use metadata.name',
    ownerReferences: 'ignored',
    finalizers: 'ignored',
  })
  const name = c.str(meta.name, 'metadata.name', true)
  if (name) {
    if (name.length > 253) c.fail('metadata.name', 'must be no more than 253 characters')
    else if (!DNS1123_SUBDOMAIN.test(name)) c.fail('metadata.name', `"${name}" must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.'`)
  }
  const namespace = c.str(meta.namespace, 'metadata.namespace') ?? 'default'
  if (meta.namespace !== undefined) c.dnsLabel(namespace, 'metadata.namespace')
  const labels = c.strMap(meta.labels, 'metadata.labels')
  const annotations = c.strMap(meta.annotations, 'metadata.annotations')

  const spec = c.obj(top.spec, 'spec', misplaced.length === 0) ?? {}
  c.fields(spec, 'spec', POD_KNOWN, POD_LATER)
  const volumes = parseVolumes(c, spec.volumes)
  const podSecurity = parsePodSecurity(c, spec.securityContext, 'spec.securityContext')
  const readOnlyVolumes = new Set(volumes.filter(v => v.kind === 'downwardAPI').map(v => v.name))
  // Every volume named in spec.volumes, refused ones too: a mount of a refused volume is not a second problem.
  const declared = c
    .list(spec.volumes, 'spec.volumes')
    .flatMap(v => (typeof (v as { name?: unknown })?.name === 'string' ? [(v as { name: string }).name] : []))
  const ctx = (isInit: boolean): ContainerContext => ({ volumeNames: new Set(declared), readOnlyVolumes, hostPorts, isInit, podSecurity, strict })
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
    uid: randomUUID(),
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
  })
  return { result: { spec: pod, unsupported: c.unsupported, warnings: [] }, problems: [] }
}

function parseVolumes(c: Checker, v: unknown): Volume[] {
  const out: Volume[] = []
  c.list(v, 'spec.volumes').forEach((e, i) => {
    const p = `spec.volumes[${i}]`
    const o = c.obj(e, p, true)
    if (!o) return
    const name = c.str(o.name, `${p}.name`, true)
    if (name) c.dnsLabel(name, `${p}.name`)
    if (name && out.some(x => x.name === name)) c.fail(`${p}.name`, `"${name}" is a duplicate`)
    const kinds = Object.keys(o).filter(k => k !== 'name')
    if (kinds.length !== 1) return c.fail(p, `must have exactly one volume source (${VOLUME_KINDS.slice(0, 4).join(', ')}, ...), found ${kinds.length}`)
    if (!VOLUME_KINDS.includes(kinds[0])) return c.fail(`${p}.${kinds[0]}`, 'is not a volume source')
    if (kinds[0] !== 'hostPath' && kinds[0] !== 'emptyDir' && kinds[0] !== 'downwardAPI')
      return c.fail(`${p}.${kinds[0]}`, `${kinds[0]} volumes are not supported yet: use emptyDir, hostPath or downwardAPI`)
    let source = c.obj(o[kinds[0]], `${p}.${kinds[0]}`) ?? {}
    if (kinds[0] === 'downwardAPI') source = parseDownwardAPIVolume(c, source, `${p}.downwardAPI`)
    if (kinds[0] === 'emptyDir') {
      c.fields(source, `${p}.emptyDir`, ['medium', 'sizeLimit'])
      c.oneOf(source.medium, `${p}.emptyDir.medium`, ['', 'Memory'], '')
      c.quantity(source.sizeLimit, `${p}.emptyDir.sizeLimit`)
    }
    if (kinds[0] === 'hostPath') {
      const path = c.str(source.path, `${p}.hostPath.path`, true)
      c.absPath(path, `${p}.hostPath.path`)
      c.oneOf(source.type, `${p}.hostPath.type`, ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'], '')
    }
    if (name) out.push({ name, kind: kinds[0], source })
  })
  return out
}

/** downwardAPI: items[{path, fieldRef | resourceFieldRef, mode}], defaultMode (validateDownwardAPIVolumeSource). */
function parseDownwardAPIVolume(c: Checker, o: Record<string, unknown>, path: string): { items: DownwardAPIItem[]; defaultMode: number } {
  c.fields(o, path, ['items', 'defaultMode'])
  const mode = (v: unknown, p: string) => c.int(v, p, 0, 0o777)
  const defaultMode = mode(o.defaultMode, `${path}.defaultMode`) ?? 0o644
  const items: DownwardAPIItem[] = []
  const paths = new Set<string>()
  c.list(o.items, `${path}.items`).forEach((e, i) => {
    const p = `${path}.items[${i}]`
    const io = c.obj(e, p, true)
    if (!io) return
    c.fields(io, p, ['path', 'fieldRef', 'resourceFieldRef', 'mode'])
    const file = c.str(io.path, `${p}.path`, true)
    if (file && (file.startsWith('/') || file.split('/').includes('..') || file.startsWith('..')))
      c.fail(`${p}.path`, `"${file}" must be a relative path without '..' and must not start with '..'`)
    if (file && paths.has(file.replace(/\/+$/, ''))) c.fail(`${p}.path`, `"${file}" is a duplicate`)
    if (file) paths.add(file.replace(/\/+$/, ''))
    const itemMode = mode(io.mode, `${p}.mode`)
    let fieldRef: string | undefined
    const ref = c.obj(io.fieldRef, `${p}.fieldRef`)
    if (ref) {
      c.fields(ref, `${p}.fieldRef`, ['fieldPath', 'apiVersion'])
      fieldRef = c.str(ref.fieldPath, `${p}.fieldRef.fieldPath`, true)
      if (fieldRef && !VOLUME_FIELD_PATHS.test(fieldRef))
        c.fail(
          `${p}.fieldRef.fieldPath`,
          `"${fieldRef}" is not supported in a downwardAPI volume: one of metadata.name, metadata.namespace, metadata.uid, ` +
            "metadata.labels, metadata.annotations, metadata.labels['<key>'], metadata.annotations['<key>']",
        )
    }
    const resourceFieldRef =
      io.resourceFieldRef === undefined || io.resourceFieldRef === null
        ? undefined
        : parseResourceFieldRef(c, io.resourceFieldRef, `${p}.resourceFieldRef`, true)
    if (ref && io.resourceFieldRef !== undefined && io.resourceFieldRef !== null) c.fail(p, 'fieldRef and resourceFieldRef can not be specified simultaneously')
    else if (!ref && (io.resourceFieldRef === undefined || io.resourceFieldRef === null)) c.fail(p, 'required: one of fieldRef and resourceFieldRef')
    if (file)
      items.push({
        path: file,
        ...(fieldRef ? { fieldRef } : {}),
        ...(resourceFieldRef ? { resourceFieldRef } : {}),
        ...(itemMode !== undefined ? { mode: itemMode } : {}),
      })
  })
  return { items, defaultMode }
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
  const raw = Array.isArray(spec.volumes) ? (spec.volumes as unknown[]) : []
  raw.forEach((v, i) => {
    const items = (v as { downwardAPI?: { items?: unknown } })?.downwardAPI?.items
    if (Array.isArray(items))
      items.forEach((item, j) =>
        check((item as { resourceFieldRef?: unknown })?.resourceFieldRef, `spec.volumes[${i}].downwardAPI.items[${j}].resourceFieldRef`),
      )
  })
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x)
    Object.freeze(v)
  }
  return v
}
