// One container (or init container) of a manifest -> ContainerSpec, problems by field path.
import { isIP } from 'node:net'
import { Checker, isObj, type Obj } from './checker.js'
import { parseEnv, parseEnvFrom } from './env-vars.js'
import { quantityMilli, quantityValue } from './quantity.js'
import type { ResourceList, Resources } from './resources.js'
import { parseProbes } from './probes.js'
import { LINUX_STOP_SIGNALS } from './signals.js'
import { closestName } from './suggest.js'
import { parseContainerSecurity, type SecuritySettings } from './security.js'
import type { ContainerPort, ContainerSpec, ExecHandler, VolumeMount } from './types.js'

const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*[a-z0-9]$|^[a-z]$/

const KNOWN = [
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'name',
  'image',
  'imagePullPolicy',
  'command',
  'args',
  'env',
  'envFrom',
  'workingDir',
  'ports',
  'resources',
  'lifecycle',
  'terminationMessagePath',
  'terminationMessagePolicy',
  'stdin',
  'stdinOnce',
  'tty',
  'volumeMounts',
  'securityContext',
  'restartPolicy',
]
const LATER: Record<string, string> = {
  resizePolicy: 'not supported',
  volumeDevices: 'not supported',
}

export interface ContainerContext {
  volumeNames: Set<string>
  /** Volumes kubelet always mounts read-only (downwardAPI: API data). */
  readOnlyVolumes?: Set<string>
  /** `hostPort/protocol/hostIP` keys seen so far in the pod. */
  hostPorts: Set<string>
  isInit: boolean
  /** A missing image is a problem (else the host's filesystem). */
  strict?: boolean
  podSecurity: Partial<SecuritySettings>
  /** spec.os.name when given (lifecycle.stopSignal needs it). */
  os?: 'linux'
}

export function parseContainer(c: Checker, v: unknown, path: string, ctx: ContainerContext): ContainerSpec | undefined {
  const o = c.obj(v, path, true)
  if (!o) return undefined
  c.fields(o, path, KNOWN, LATER)
  const name = c.str(o.name, `${path}.name`, true)
  if (name) c.dnsLabel(name, `${path}.name`)
  const restartPolicy = parseRestartPolicy(c, o, path, ctx.isInit)
  // Hooks and probes belong to containers that run beside the app: a plain init container runs to completion first.
  const plainInit = ctx.isInit && !restartPolicy
  for (const k of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    if (plainInit && o[k] !== undefined && o[k] !== null) c.fail(`${path}.${k}`, 'may not be set for init containers without restartPolicy=Always')
  }
  const imageMissing = !!ctx.strict && (o.image === undefined || o.image === null || o.image === '')
  if (imageMissing) c.fail(`${path}.image`, "required value (`image: host` runs it on the host's filesystem)")
  const image = (imageMissing ? undefined : c.str(o.image, `${path}.image`)) ?? 'host'
  const imagePullPolicy =
    o.imagePullPolicy === undefined
      ? undefined
      : c.oneOf(o.imagePullPolicy, `${path}.imagePullPolicy`, ['Always', 'IfNotPresent', 'Never'] as const, 'IfNotPresent')
  const command = c.strArray(o.command, `${path}.command`)
  const args = c.strArray(o.args, `${path}.args`)
  const typesOk = (o.command === undefined || command !== undefined) && (o.args === undefined || args !== undefined)
  // host and directory images have no config: the command must come from the manifest.
  const noConfig = image === 'host' || image.startsWith('/') || image.startsWith('dir:')
  if (imageMissing) {
    // the image's problem alone: what it would supply is not known
  } else if (typesOk && (command ?? []).length + (args ?? []).length === 0 && (noConfig || command !== undefined)) {
    c.fail(`${path}.command`, command === undefined ? `required: image "${image}" supplies no entrypoint` : 'must not be empty')
  } else if (typesOk && [...(command ?? []), ...(args ?? [])][0] === '') {
    c.fail(`${path}.command`, 'must start with a non-empty executable')
  }
  const workingDir = c.str(o.workingDir, `${path}.workingDir`)
  c.absPath(workingDir, `${path}.workingDir`)
  // stdin: an open pipe as the container's stdin (else /dev/null); stdinOnce:
  // closed when the first attach session ends; tty: a pseudo-terminal as its stdio.
  const stdin = c.bool(o.stdin, `${path}.stdin`, false)
  const stdinOnce = c.bool(o.stdinOnce, `${path}.stdinOnce`, false)
  const tty = c.bool(o.tty, `${path}.tty`, false)
  const terminationMessagePath = c.str(o.terminationMessagePath, `${path}.terminationMessagePath`) ?? '/dev/termination-log'
  c.absPath(terminationMessagePath, `${path}.terminationMessagePath`)
  const spec = {
    image,
    ...(imagePullPolicy ? { imagePullPolicy } : {}),
    command,
    args,
    env: parseEnv(c, o.env, `${path}.env`),
    ...(o.envFrom !== undefined && o.envFrom !== null ? { envFrom: parseEnvFrom(c, o.envFrom, `${path}.envFrom`) } : {}),
    workingDir,
    ports: parsePorts(c, o.ports, `${path}.ports`, ctx),
    resources: parseResources(c, o.resources, `${path}.resources`),
    volumeMounts: parseMounts(c, o.volumeMounts, `${path}.volumeMounts`, ctx),
    lifecycle: parseLifecycle(c, o.lifecycle, `${path}.lifecycle`, plainInit, ctx),
    securityContext: parseContainerSecurity(c, o.securityContext, `${path}.securityContext`, ctx.podSecurity),
    terminationMessagePath,
    terminationMessagePolicy: c.oneOf(o.terminationMessagePolicy, `${path}.terminationMessagePolicy`, ['File', 'FallbackToLogsOnError'] as const, 'File'),
    stdin,
    stdinOnce,
    tty,
  }
  // After ports: a probe's named port is one of them.
  const probes = parseProbes(c, o, path, spec.ports, plainInit)
  return name === undefined
    ? undefined
    : {
        name,
        ...spec,
        ...(restartPolicy && { restartPolicy }),
        ...(probes.startup && { startupProbe: probes.startup }),
        ...(probes.liveness && { livenessProbe: probes.liveness }),
        ...(probes.readiness && { readinessProbe: probes.readiness }),
      }
}

/**
 * The container-level restartPolicy (Kubernetes 1.29+): only `Always`, and
 * only on an init container, which makes it a sidecar. Messages as the API
 * server's validation gives them.
 */
function parseRestartPolicy(c: Checker, o: Obj, path: string, isInit: boolean): 'Always' | undefined {
  const v = o.restartPolicy
  if (v === undefined || v === null) return undefined
  const p = `${path}.restartPolicy`
  if (!isInit) {
    c.fail(p, 'may not be set for non-init containers')
    return undefined
  }
  if (v !== 'Always') {
    c.fail(p, `Unsupported value: ${JSON.stringify(v)}: supported values: "Always"`)
    return undefined
  }
  return 'Always'
}

function parsePorts(c: Checker, v: unknown, path: string, ctx: ContainerContext): ContainerPort[] {
  const out: ContainerPort[] = []
  const names = new Set<string>()
  for (const [i, e] of c.list(v, path).entries()) {
    const p = `${path}[${i}]`
    const po = c.obj(e, p, true)
    if (!po) continue
    c.fields(po, p, ['name', 'containerPort', 'protocol', 'hostPort', 'hostIP'])
    const containerPort =
      po.containerPort === undefined ? (c.fail(`${p}.containerPort`, 'required'), undefined) : c.int(po.containerPort, `${p}.containerPort`, 1, 65535)
    const protocol = c.oneOf(po.protocol, `${p}.protocol`, ['TCP', 'UDP', 'SCTP'], 'TCP')
    const name = c.str(po.name, `${p}.name`)
    if (name !== undefined) {
      if (name.length > 15 || !PORT_NAME.test(name))
        c.fail(`${p}.name`, `"${name}" must be an IANA_SVC_NAME: at most 15 lower case letters, digits and '-', with a letter`)
      if (names.has(name)) c.fail(`${p}.name`, `"${name}" is a duplicate`)
      names.add(name)
    }
    const hostPort = c.int(po.hostPort, `${p}.hostPort`, 1, 65535)
    const hostIP = c.str(po.hostIP, `${p}.hostIP`)
    if (hostIP !== undefined && !isIP(hostIP)) c.fail(`${p}.hostIP`, `"${hostIP}" is not an IP address`)
    if (hostIP !== undefined && hostPort === undefined) c.fail(`${p}.hostIP`, 'needs a hostPort')
    if (hostPort !== undefined) {
      const key = `${hostPort}/${protocol}/${hostIP ?? ''}`
      if (ctx.hostPorts.has(key)) c.fail(`${p}.hostPort`, `${hostPort}/${protocol} is a duplicate: host ports must be unique in a pod`)
      ctx.hostPorts.add(key)
    }
    if (containerPort !== undefined) out.push({ name, containerPort, protocol, hostPort, hostIP })
  }
  return out
}

/**
 * The largest cpu a limit may name: kubelet turns m into cpu.cfs_quota_us =
 * m * 100000 / 1000, and the kernel refuses a quota above 2^44-1 us
 * (max_cfs_runtime, kernel/sched/core.c) with EINVAL. The pod cgroup's quota
 * is the containers' sum, bounded again in validate.ts.
 */
export const MAX_CPU_MILLI = Math.floor(((2 ** 44 - 1) * 1000) / 100_000)

const RESOURCE_NAMES = /^(cpu|memory|ephemeral-storage|hugepages-.+)$/

function resourceList(c: Checker, v: unknown, path: string): ResourceList {
  const out: ResourceList = { hugepages: {} }
  const o = c.obj(v, path)
  if (!o) return out
  for (const [k, val] of Object.entries(o)) {
    const p = `${path}.${k}`
    if (!RESOURCE_NAMES.test(k)) {
      c.unsupported.push(`${p} (unknown resource)`)
      continue
    }
    const q = c.quantity(val, p)
    if (!q) continue
    if (k === 'cpu') {
      out.cpuMilli = quantityMilli(q)
      if (out.cpuMilli > MAX_CPU_MILLI)
        c.fail(p, `${JSON.stringify(val)} is more than ${MAX_CPU_MILLI}m: the kernel's largest CFS quota (2^44-1 us) at kubelet's 100ms period`)
    } else if (k === 'memory') out.memoryBytes = quantityValue(q)
    else if (k === 'ephemeral-storage') out.ephemeralStorageBytes = quantityValue(q)
    else {
      const size = k.slice('hugepages-'.length)
      if (!/^\d+(Ki|Mi|Gi)$/.test(size)) c.fail(p, `"${size}" is not a huge page size (e.g. hugepages-2Mi)`)
      else out.hugepages[size] = quantityValue(q)
    }
  }
  return out
}

export function parseResources(c: Checker, v: unknown, path: string): Resources {
  const o = c.obj(v, path)
  if (o) c.fields(o, path, ['limits', 'requests'], { claims: 'not supported' })
  const limits = resourceList(c, o?.limits, `${path}.limits`)
  const req = resourceList(c, o?.requests, `${path}.requests`)
  // Kubernetes defaults an unset request to its limit, and rejects request > limit.
  const requests: ResourceList = {
    cpuMilli: req.cpuMilli ?? limits.cpuMilli,
    memoryBytes: req.memoryBytes ?? limits.memoryBytes,
    ephemeralStorageBytes: req.ephemeralStorageBytes ?? limits.ephemeralStorageBytes,
    hugepages: { ...limits.hugepages, ...req.hugepages },
  }
  for (const k of ['cpuMilli', 'memoryBytes', 'ephemeralStorageBytes'] as const) {
    const name = { cpuMilli: 'cpu', memoryBytes: 'memory', ephemeralStorageBytes: 'ephemeral-storage' }[k]
    if (limits[k] !== undefined && requests[k]! > limits[k]) c.fail(`${path}.requests.${name}`, `must be less than or equal to the ${name} limit`)
  }
  for (const [size, bytes] of Object.entries(requests.hugepages)) {
    if (limits.hugepages[size] !== bytes) c.fail(`${path}.requests.hugepages-${size}`, 'must equal the limit (huge pages cannot be overcommitted)')
  }
  return { limits, requests }
}

function parseMounts(c: Checker, v: unknown, path: string, ctx: ContainerContext): VolumeMount[] {
  const out: VolumeMount[] = []
  const paths = new Set<string>()
  for (const [i, e] of c.list(v, path).entries()) {
    const p = `${path}[${i}]`
    const mo = c.obj(e, p, true)
    if (!mo) continue
    const name = c.str(mo.name, `${p}.name`, true)
    if (name && !ctx.volumeNames.has(name)) c.fail(`${p}.name`, `"${name}" is not a volume of this pod (spec.volumes)`)
    const mountPath = c.str(mo.mountPath, `${p}.mountPath`, true)
    c.absPath(mountPath, `${p}.mountPath`)
    // The API server refuses '..' in a mountPath (ValidateVolumeMounts); at run it would escape the root.
    if (mountPath?.split('/').includes('..')) c.fail(`${p}.mountPath`, `"${mountPath}" must not contain '..'`)
    if (mountPath && paths.has(mountPath)) c.fail(`${p}.mountPath`, `"${mountPath}" must be unique`)
    if (mountPath) paths.add(mountPath)
    const subPath = c.str(mo.subPath, `${p}.subPath`)
    if (subPath && (subPath.startsWith('/') || subPath.split('/').includes('..'))) c.fail(`${p}.subPath`, `"${subPath}" must be a relative path without '..'`)
    c.fields(mo, p, ['name', 'mountPath', 'readOnly', 'subPath', 'mountPropagation'], {
      subPathExpr: 'not supported yet',
      recursiveReadOnly: 'not supported yet',
    })
    c.oneOf(mo.mountPropagation, `${p}.mountPropagation`, ['None'], 'None')
    if (name && mountPath)
      out.push({ name, mountPath, readOnly: c.bool(mo.readOnly, `${p}.readOnly`, false) || ctx.readOnlyVolumes?.has(name) === true, subPath })
  }
  return out
}

function parseLifecycle(c: Checker, v: unknown, path: string, plainInit: boolean, ctx: ContainerContext): ContainerSpec['lifecycle'] {
  const o = c.obj(v, path)
  if (!o) return {}
  if (plainInit) c.fail(path, 'may not be set for init containers without restartPolicy=Always')
  c.fields(o, path, ['postStart', 'preStop', 'stopSignal'])
  const stopSignal = c.str(o.stopSignal, `${path}.stopSignal`)
  // validateContainerStopSignal (1.33+): only with spec.os.name, and a signal Linux has.
  if (stopSignal !== undefined && !ctx.os) c.fail(`${path}.stopSignal`, 'may not be set for containers with empty `spec.os.name`')
  else if (stopSignal !== undefined && !LINUX_STOP_SIGNALS.includes(stopSignal)) {
    const near = closestName(stopSignal, LINUX_STOP_SIGNALS)
    c.fail(
      `${path}.stopSignal`,
      `unsupported value ${JSON.stringify(stopSignal)}${near ? ` (did you mean "${near}"?)` : ''}: a signal name such as SIGTERM, SIGQUIT, SIGUSR1, SIGRTMIN+3`,
    )
  }
  const handler = (h: unknown, p: string): ExecHandler | undefined => {
    const ho = c.obj(h, p)
    if (!ho) return undefined
    c.fields(ho, p, ['exec'], { httpGet: 'only exec hooks are run yet', tcpSocket: 'deprecated, not run', sleep: 'only exec hooks are run yet' })
    const exec = c.obj(ho.exec, `${p}.exec`)
    if (!exec) {
      if (!ho.httpGet && !ho.tcpSocket && !ho.sleep) c.fail(p, 'must specify a handler: `exec`, `httpGet`, `sleep` or `tcpSocket`')
      return undefined
    }
    const command = c.strArray(exec.command, `${p}.exec.command`)
    if (!command || command.length === 0) {
      if (command) c.fail(`${p}.exec.command`, 'required: a non-empty command')
      else if (exec.command === undefined) c.fail(`${p}.exec.command`, 'required')
      return undefined
    }
    return { command }
  }
  return {
    postStart: handler(o.postStart, `${path}.postStart`),
    preStop: handler(o.preStop, `${path}.preStop`),
    ...(stopSignal !== undefined && { stopSignal }),
  }
}

export { isObj, type Obj }

export { isSidecar } from './sidecar.js'
