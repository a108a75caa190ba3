// A container's env and envFrom as written -> EnvVar[] and EnvFromSource[],
// with the API server's rules (validateEnv, validateEnvFrom) and every
// problem by field path. Values are resolved at start time (env.ts).
import { ENV_NAME, type Checker } from './checker.js'
import { ENV_FIELD_PATHS, parseResourceFieldRef } from './downward.js'
import type { EnvFromSource, EnvVar, KeySelector } from './types.js'

const ENV_NAME_RULE = "must consist of letters, digits, '_', '-' or '.', and not start with a digit"
const SOURCES = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'] as const

export function parseEnv(c: Checker, v: unknown, path: string): EnvVar[] {
  const out: EnvVar[] = []
  for (const [i, e] of c.list(v, path).entries()) {
    const p = `${path}[${i}]`
    const eo = c.obj(e, p, true)
    if (!eo) continue
    c.fields(eo, p, ['name', 'value', 'valueFrom'])
    const name = c.str(eo.name, `${p}.name`, true)
    if (name && !ENV_NAME.test(name)) c.fail(`${p}.name`, `"${name}" ${ENV_NAME_RULE}`)
    const value = c.str(eo.value, `${p}.value`)
    const from = c.obj(eo.valueFrom, `${p}.valueFrom`)
    if (!from) {
      if (name) out.push({ name, value: value ?? '' })
      continue
    }
    const fp = `${p}.valueFrom`
    c.fields(from, fp, [...SOURCES])
    const sources = SOURCES.filter(k => from[k] !== undefined && from[k] !== null)
    if (sources.length === 0) c.fail(fp, 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`')
    else if (sources.length > 1) c.fail(fp, `may not have more than one field specified at a time (found ${sources.join(', ')})`)
    if (value) c.fail(fp, 'may not be specified when `value` is not empty')
    let fieldRef: string | undefined
    const ref = c.obj(from.fieldRef, `${fp}.fieldRef`)
    if (ref) {
      c.fields(ref, `${fp}.fieldRef`, ['fieldPath', 'apiVersion'])
      fieldRef = c.str(ref.fieldPath, `${fp}.fieldRef.fieldPath`, true)
      if (fieldRef && !ENV_FIELD_PATHS.test(fieldRef)) c.fail(`${fp}.fieldRef.fieldPath`, `"${fieldRef}" is not a supported field path`)
    }
    const resourceFieldRef = from.resourceFieldRef === undefined ? undefined : parseResourceFieldRef(c, from.resourceFieldRef, `${fp}.resourceFieldRef`, false)
    const configMapKeyRef = keySelector(c, from.configMapKeyRef, `${fp}.configMapKeyRef`)
    const secretKeyRef = keySelector(c, from.secretKeyRef, `${fp}.secretKeyRef`)
    if (!name) continue
    if (fieldRef) out.push({ name, fieldRef })
    else if (resourceFieldRef) out.push({ name, resourceFieldRef })
    else if (configMapKeyRef) out.push({ name, configMapKeyRef })
    else if (secretKeyRef) out.push({ name, secretKeyRef })
  }
  return out
}

/** configMapKeyRef / secretKeyRef: name and key required, the key a valid config key. */
function keySelector(c: Checker, v: unknown, path: string): KeySelector | undefined {
  const o = c.obj(v, path)
  if (!o) return undefined
  c.fields(o, path, ['name', 'key', 'optional'])
  const name = c.str(o.name, `${path}.name`, true)
  if (name) c.subdomain(name, `${path}.name`)
  const key = c.str(o.key, `${path}.key`, true)
  if (key) c.configKey(key, `${path}.key`)
  const optional = c.bool(o.optional, `${path}.optional`, false)
  return name && key ? { name, key, optional } : undefined
}

export function parseEnvFrom(c: Checker, v: unknown, path: string): EnvFromSource[] {
  const out: EnvFromSource[] = []
  for (const [i, e] of c.list(v, path).entries()) {
    const p = `${path}[${i}]`
    const o = c.obj(e, p, true)
    if (!o) continue
    c.fields(o, p, ['prefix', 'configMapRef', 'secretRef'])
    const prefix = c.str(o.prefix, `${p}.prefix`) ?? ''
    if (prefix && !ENV_NAME.test(prefix)) c.fail(`${p}.prefix`, `"${prefix}" ${ENV_NAME_RULE}`)
    const kinds = (['configMapRef', 'secretRef'] as const).filter(k => o[k] !== undefined && o[k] !== null)
    if (kinds.length === 0) c.fail(p, 'must specify one of: `configMapRef` or `secretRef`')
    else if (kinds.length > 1) c.fail(p, 'may not have more than one field specified at a time (found configMapRef, secretRef)')
    const ref = (k: 'configMapRef' | 'secretRef') => {
      const ro = c.obj(o[k], `${p}.${k}`)
      if (!ro) return undefined
      c.fields(ro, `${p}.${k}`, ['name', 'optional'])
      const name = c.str(ro.name, `${p}.${k}.name`, true)
      if (name) c.subdomain(name, `${p}.${k}.name`)
      return name ? { name, optional: c.bool(ro.optional, `${p}.${k}.optional`, false) } : undefined
    }
    const configMapRef = ref('configMapRef')
    const secretRef = ref('secretRef')
    if (kinds.length === 1 && (configMapRef || secretRef)) out.push({ prefix, ...(configMapRef ? { configMapRef } : { secretRef }) })
  }
  return out
}
