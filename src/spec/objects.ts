// ConfigMaps and Secrets as a pod reads them: validated as the API server
// does (ValidateConfigMap, ValidateSecret), Secret `data` decoded from base64
// and `stringData` merged over it as the API server stores it. Values are
// kept as base64 strings so a set of objects is plain JSON. Pure.
import { Checker, type Obj } from './checker.js'
import { parseMetadata } from './metadata.js'

export interface ConfigMapObject {
  kind: 'ConfigMap'
  name: string
  namespace: string
  /** Text values (usable in env and as files). */
  data: Record<string, string>
  /** binaryData, base64 (files only, as kubelet does). */
  binaryData: Record<string, string>
}

export interface SecretObject {
  kind: 'Secret'
  name: string
  namespace: string
  /** `Opaque` unless given. */
  type: string
  /** Every value, base64 (stringData already merged). */
  data: Record<string, string>
}

export type ConfigObject = ConfigMapObject | SecretObject

/** The ConfigMaps and Secrets pods may read (the same file, --configmap, --secret). */
export interface PodObjects {
  configMaps: ConfigMapObject[]
  secrets: SecretObject[]
}

export const noObjects = (): PodObjects => ({ configMaps: [], secrets: [] })

/** The API server's limit on one ConfigMap or Secret (MaxSecretSize, and ConfigMaps' total). */
export const MAX_OBJECT_BYTES = 1 << 20

/** Keys a Secret of a type must have (ValidateSecret). */
const REQUIRED_KEYS: Record<string, string[][]> = {
  'kubernetes.io/tls': [['tls.crt'], ['tls.key']],
  'kubernetes.io/ssh-auth': [['ssh-privatekey']],
  'kubernetes.io/dockerconfigjson': [['.dockerconfigjson']],
  'kubernetes.io/dockercfg': [['.dockercfg']],
  'kubernetes.io/basic-auth': [['username', 'password']],
}

/**
 * Strict base64 as Go's StdEncoding decodes a []byte field (line breaks
 * ignored): Buffer.from(..., 'base64') would take anything.
 */
export function decodeBase64(v: string): Buffer | undefined {
  const s = v.replace(/[\r\n]/g, '')
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined
  return Buffer.from(s, 'base64')
}

/** Values of a map; each problem names the key, never the value (a Secret's must not be printed). */
function values(c: Checker, v: unknown, path: string, base64: boolean): Record<string, string> {
  const o = c.obj(v, path)
  const out: Record<string, string> = Object.create(null)
  if (!o) return out
  for (const [k, val] of Object.entries(o)) {
    c.configKey(k, `${path}.${k}`)
    if (typeof val !== 'string') {
      c.fail(`${path}.${k}`, `must be a string, not ${val === null ? 'null' : Array.isArray(val) ? 'a list' : typeof val}`)
      continue
    }
    if (base64 && !decodeBase64(val)) {
      c.fail(`${path}.${k}`, 'is not valid base64 (use stringData for plain text)')
      continue
    }
    out[k] = base64 ? decodeBase64(val)!.toString('base64') : val
  }
  return out
}

function sizeCheck(c: Checker, bytes: number, kind: string): void {
  if (bytes > MAX_OBJECT_BYTES) c.fail('data', `a ${kind} must have at most ${MAX_OBJECT_BYTES} bytes, this one has ${bytes}`)
}

/** A ConfigMap object (kind checked by the caller); undefined with the problems in `c`. */
export function parseConfigMap(c: Checker, top: Obj): ConfigMapObject | undefined {
  c.fields(top, '', ['apiVersion', 'kind', 'metadata', 'data', 'binaryData', 'immutable'])
  if (top.apiVersion !== 'v1') c.fail('apiVersion', `must be "v1", not ${JSON.stringify(top.apiVersion)}`)
  const meta = parseMetadata(c, top.metadata)
  c.bool(top.immutable, 'immutable', false)
  const data = values(c, top.data, 'data', false)
  const binaryData = values(c, top.binaryData, 'binaryData', true)
  for (const k of Object.keys(binaryData)) if (k in data) c.fail(`binaryData.${k}`, 'duplicate of a key in data')
  const bytes =
    Object.entries(data).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v), 0) +
    Object.entries(binaryData).reduce((n, [k, v]) => n + k.length + Buffer.from(v, 'base64').length, 0)
  sizeCheck(c, bytes, 'ConfigMap')
  if (!meta.name) return undefined
  return { kind: 'ConfigMap', name: meta.name, namespace: meta.namespace, data, binaryData }
}

/** A Secret object: data (base64) with stringData merged over it, type's required keys checked. */
export function parseSecret(c: Checker, top: Obj): SecretObject | undefined {
  c.fields(top, '', ['apiVersion', 'kind', 'metadata', 'data', 'stringData', 'type', 'immutable'])
  if (top.apiVersion !== 'v1') c.fail('apiVersion', `must be "v1", not ${JSON.stringify(top.apiVersion)}`)
  const meta = parseMetadata(c, top.metadata)
  c.bool(top.immutable, 'immutable', false)
  const type = c.str(top.type, 'type') || 'Opaque'
  const data = values(c, top.data, 'data', true)
  const plain = values(c, top.stringData, 'stringData', false)
  for (const [k, v] of Object.entries(plain)) data[k] = Buffer.from(v, 'utf8').toString('base64')
  for (const any of REQUIRED_KEYS[type] ?? []) {
    if (!any.some(k => k in data)) c.fail(any.map(k => `data[${k}]`).join(' or '), `required for a Secret of type ${type}`)
  }
  sizeCheck(
    c,
    Object.entries(data).reduce((n, [k, v]) => n + k.length + Buffer.from(v, 'base64').length, 0),
    'Secret',
  )
  if (!meta.name) return undefined
  return { kind: 'Secret', name: meta.name, namespace: meta.namespace, type, data }
}

/** The ConfigMap or Secret `name` of `namespace`, if given. */
export function findObject<K extends ConfigObject['kind']>(
  objects: PodObjects,
  kind: K,
  namespace: string,
  name: string,
): Extract<ConfigObject, { kind: K }> | undefined {
  const list: ConfigObject[] = kind === 'ConfigMap' ? objects.configMaps : objects.secrets
  return list.find(o => o.namespace === namespace && o.name === name) as Extract<ConfigObject, { kind: K }> | undefined
}

/** The object's keys with their bytes, as a volume shows them (ConfigMap data and binaryData; a Secret's data). */
export function objectFiles(o: ConfigObject): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  if (o.kind === 'ConfigMap') {
    for (const [k, v] of Object.entries(o.data)) out.set(k, Buffer.from(v, 'utf8'))
    for (const [k, v] of Object.entries(o.binaryData)) out.set(k, Buffer.from(v, 'base64'))
  } else {
    for (const [k, v] of Object.entries(o.data)) out.set(k, Buffer.from(v, 'base64'))
  }
  return out
}

/** The object's keys as env values take them (ConfigMap data only; a Secret's data as UTF-8). */
export function objectStrings(o: ConfigObject): Map<string, string> {
  return o.kind === 'ConfigMap'
    ? new Map(Object.entries(o.data))
    : new Map(Object.entries(o.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
}
