// Manifest object -> frozen, defaulted PodSpec, with every problem listed by
// field path (the rules Kubernetes' API validation applies to these fields).
import { randomUUID } from 'node:crypto'
import { expand } from './expand.js'
import type { ContainerSpec, EnvVar, ParseResult, PodSpec, SpecProblem } from './types.js'

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** Fields the engine honours today; anything else present is reported once as unsupported. */
const SUPPORTED = {
  top: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  metadata: ['name', 'namespace', 'labels', 'annotations', 'uid', 'generateName', 'creationTimestamp'],
  spec: ['containers', 'shareProcessNamespace', 'terminationGracePeriodSeconds', 'hostname', 'restartPolicy'],
  container: ['name', 'image', 'command', 'args', 'env', 'workingDir', 'imagePullPolicy'],
  env: ['name', 'value'],
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

class Checker {
  problems: SpecProblem[] = []
  unsupported: string[] = []

  fail(path: string, message: string): void {
    this.problems.push({ path, message })
  }

  extra(o: Obj, known: string[], path: string): void {
    for (const k of Object.keys(o)) if (!known.includes(k)) this.unsupported.push(path ? `${path}.${k}` : k)
  }

  obj(v: unknown, path: string, required = false): Obj | undefined {
    if (v === undefined || v === null) {
      if (required) this.fail(path, 'required')
      return undefined
    }
    if (!isObj(v)) this.fail(path, 'must be an object')
    return isObj(v) ? v : undefined
  }

  str(v: unknown, path: string, required = false): string | undefined {
    if (v === undefined || v === null) {
      if (required) this.fail(path, 'required')
      return undefined
    }
    if (typeof v !== 'string') {
      this.fail(path, `must be a string, not ${JSON.stringify(v)}`)
      return undefined
    }
    return v
  }

  strArray(v: unknown, path: string): string[] | undefined {
    if (v === undefined || v === null) return undefined
    if (!Array.isArray(v) || v.some(s => typeof s !== 'string')) {
      this.fail(path, 'must be an array of strings')
      return undefined
    }
    return v as string[]
  }

  strMap(v: unknown, path: string): Record<string, string> {
    const o = this.obj(v, path)
    if (!o) return {}
    const out: Record<string, string> = {}
    for (const [k, val] of Object.entries(o)) {
      if (typeof val !== 'string') this.fail(`${path}.${k}`, 'must be a string')
      else out[k] = val
    }
    return out
  }

  dnsLabel(v: string, path: string): void {
    if (v.length > 63) this.fail(path, `"${v}" must be no more than 63 characters`)
    else if (!DNS1123_LABEL.test(v)) {
      this.fail(path, `"${v}" must be a DNS-1123 label: lower case letters, digits and '-', starting and ending with a letter or digit`)
    }
  }
}

function container(c: Checker, v: unknown, path: string): ContainerSpec | undefined {
  const o = c.obj(v, path, true)
  if (!o) return undefined
  c.extra(o, SUPPORTED.container, path)
  const name = c.str(o.name, `${path}.name`, true)
  if (name !== undefined) c.dnsLabel(name, `${path}.name`)
  const image = c.str(o.image, `${path}.image`) ?? 'host'
  const command = c.strArray(o.command, `${path}.command`)
  const args = c.strArray(o.args, `${path}.args`)
  const workingDir = c.str(o.workingDir, `${path}.workingDir`)
  if (workingDir !== undefined && !workingDir.startsWith('/')) c.fail(`${path}.workingDir`, `"${workingDir}" must be an absolute path`)

  const env: EnvVar[] = []
  if (o.env !== undefined && !Array.isArray(o.env)) c.fail(`${path}.env`, 'must be an array')
  for (const [i, e] of (Array.isArray(o.env) ? o.env : []).entries()) {
    const p = `${path}.env[${i}]`
    const eo = c.obj(e, p, true)
    if (!eo) continue
    c.extra(eo, SUPPORTED.env, p)
    const ename = c.str(eo.name, `${p}.name`, true)
    if (ename !== undefined && !ENV_NAME.test(ename)) c.fail(`${p}.name`, `"${ename}" must consist of letters, digits, '_', '-' or '.', and not start with a digit`)
    const value = c.str(eo.value, `${p}.value`) ?? ''
    // Kubernetes expands $(VAR) in env values against the variables defined before it.
    if (ename !== undefined) env.push({ name: ename, value: expand(value, n => lookupEnv(env, n)) })
  }

  const lookup = (n: string) => lookupEnv(env, n)
  const argv = [...(command ?? []), ...(args ?? [])].map(s => expand(s, lookup))
  const typesOk = (o.command === undefined || command !== undefined) && (o.args === undefined || args !== undefined)
  if (typesOk && argv.length === 0) {
    c.fail(`${path}.command`, command === undefined ? `required: image "${image}" supplies no entrypoint` : 'must not be empty')
  } else if (typesOk && argv[0] === '') {
    c.fail(`${path}.command`, 'must start with a non-empty executable')
  }
  if (name === undefined) return undefined
  return { name, image, argv, env, workingDir: workingDir ?? '/' }
}

function lookupEnv(env: EnvVar[], name: string): string | undefined {
  for (let i = env.length - 1; i >= 0; i--) if (env[i].name === name) return env[i].value
  return undefined
}

/** Validate a manifest object; returns the PodSpec or every problem found. */
export function validatePod(manifest: unknown): { result?: ParseResult; problems: SpecProblem[] } {
  const c = new Checker()
  const top = c.obj(manifest, '(manifest)', true)
  if (!top) return { problems: c.problems }
  c.extra(top, SUPPORTED.top, '')
  if (top.apiVersion !== 'v1') c.fail('apiVersion', `must be "v1", not ${JSON.stringify(top.apiVersion)}`)
  if (top.kind !== 'Pod') c.fail('kind', `must be "Pod", not ${JSON.stringify(top.kind)}`)

  const meta = c.obj(top.metadata, 'metadata', true) ?? {}
  c.extra(meta, SUPPORTED.metadata, 'metadata')
  const name = c.str(meta.name, 'metadata.name', true)
  if (name !== undefined) {
    if (name.length > 253) c.fail('metadata.name', 'must be no more than 253 characters')
    else if (!DNS1123_SUBDOMAIN.test(name)) c.fail('metadata.name', `"${name}" must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.'`)
  }
  const namespace = c.str(meta.namespace, 'metadata.namespace') ?? 'default'
  if (meta.namespace !== undefined) c.dnsLabel(namespace, 'metadata.namespace')
  const labels = c.strMap(meta.labels, 'metadata.labels')
  const annotations = c.strMap(meta.annotations, 'metadata.annotations')

  const spec = c.obj(top.spec, 'spec', true) ?? {}
  c.extra(spec, SUPPORTED.spec, 'spec')
  const containers: ContainerSpec[] = []
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) {
    c.fail('spec.containers', 'required: at least one container')
  } else {
    const seen = new Set<string>()
    spec.containers.forEach((v, i) => {
      const ct = container(c, v, `spec.containers[${i}]`)
      if (!ct) return
      if (seen.has(ct.name)) c.fail(`spec.containers[${i}].name`, `"${ct.name}" is a duplicate: container names must be unique`)
      seen.add(ct.name)
      containers.push(ct)
    })
  }
  let share = false
  if (spec.shareProcessNamespace !== undefined) {
    if (typeof spec.shareProcessNamespace !== 'boolean') c.fail('spec.shareProcessNamespace', 'must be true or false')
    else share = spec.shareProcessNamespace
  }
  let grace = 30
  if (spec.terminationGracePeriodSeconds !== undefined) {
    const g = spec.terminationGracePeriodSeconds
    if (typeof g !== 'number' || !Number.isInteger(g) || g < 0) c.fail('spec.terminationGracePeriodSeconds', 'must be a non-negative integer')
    else grace = g
  }
  const hostname = c.str(spec.hostname, 'spec.hostname')
  if (hostname !== undefined) c.dnsLabel(hostname, 'spec.hostname')
  if (spec.restartPolicy !== undefined && spec.restartPolicy !== 'Never') {
    c.unsupported.push(`spec.restartPolicy=${String(spec.restartPolicy)} (runs as Never)`)
  }

  if (c.problems.length > 0 || name === undefined) return { problems: c.problems }
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
    shareProcessNamespace: share,
    terminationGracePeriodSeconds: grace,
    containers,
  })
  return { result: { spec: pod, unsupported: c.unsupported, warnings: [] }, problems: [] }
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x)
    Object.freeze(v)
  }
  return v
}
