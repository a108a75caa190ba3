// CNI results (SPEC.md "Result" for 0.4.0, 1.0.0 and 1.1.0): parse what a
// plugin printed on success, convert between the 0.4.0 and 1.x shapes, and
// turn an error result `{code, msg, details}` into a PodError.
import { PodError } from '../errors.js'

export const SUPPORTED_VERSIONS = ['0.4.0', '1.0.0', '1.1.0'] as const
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number]

export interface CniInterface {
  name: string
  mac?: string
  sandbox?: string
  mtu?: number
  socketPath?: string
  pciID?: string
}

export interface CniIP {
  /** CIDR, e.g. `198.18.0.5/24`. */
  address: string
  gateway?: string
  /** Index into `interfaces`. */
  interface?: number
}

export interface CniResult {
  cniVersion: string
  interfaces: CniInterface[]
  ips: CniIP[]
  routes: Record<string, unknown>[]
  dns: Record<string, unknown>
  /** The JSON object as the plugin printed it (passed on as prevResult, cached for DEL). */
  raw: Record<string, unknown>
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/
const IPV6_CIDR = /^[0-9a-fA-F:.]+\/\d{1,3}$/

export function isSupportedVersion(v: unknown): v is CniVersion {
  return typeof v === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(v)
}

/** Compare two `x.y.z` versions: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0)
  return 0
}

function bad(plugin: string, reason: string): PodError {
  return new PodError(`cni.result: ${plugin}: ${reason}`, {
    step: 'cni.result',
    code: 'CNI_BAD_RESULT',
    hint: 'the plugin printed a result this CNI version does not allow: check the plugin and the conflist cniVersion',
  })
}

/**
 * Parse a plugin's success output. `plugin` names it in errors. Accepts the
 * shapes of 0.4.0 (and 0.3.x: `ips[].version` required) and 1.x
 * (`ips[].version` absent). Throws PodError `cni.result`.
 */
export function parseResult(stdout: string, plugin: string): CniResult {
  let raw: unknown
  try {
    raw = JSON.parse(stdout)
  } catch {
    throw bad(plugin, `not JSON: ${JSON.stringify(stdout.slice(0, 200))}`)
  }
  if (!isObj(raw)) throw bad(plugin, 'not a JSON object')
  const version = raw.cniVersion
  if (typeof version !== 'string' || !/^\d+\.\d+\.\d+$/.test(version)) throw bad(plugin, `cniVersion: ${JSON.stringify(version)} is not a version`)
  const old = compareVersions(version, '1.0.0') < 0
  if (old && compareVersions(version, '0.3.0') < 0) throw bad(plugin, `cniVersion ${version} is not supported (${SUPPORTED_VERSIONS.join(', ')})`)
  const list = (k: string): unknown[] => {
    const v = raw[k]
    if (v === undefined || v === null) return []
    if (!Array.isArray(v)) throw bad(plugin, `${k}: must be an array`)
    return v
  }
  const interfaces = list('interfaces').map((v, i): CniInterface => {
    if (!isObj(v) || typeof v.name !== 'string' || v.name === '') throw bad(plugin, `interfaces[${i}].name: required`)
    return v as unknown as CniInterface
  })
  const ips = list('ips').map((v, i): CniIP => {
    const p = `ips[${i}]`
    if (!isObj(v)) throw bad(plugin, `${p}: must be an object`)
    if (typeof v.address !== 'string' || !(IPV4_CIDR.test(v.address) || IPV6_CIDR.test(v.address)))
      throw bad(plugin, `${p}.address: ${JSON.stringify(v.address)} is not an address in CIDR form`)
    if (old) {
      const want = v.address.includes(':') ? '6' : '4'
      if (v.version !== want) throw bad(plugin, `${p}.version: must be "${want}" in a ${version} result`)
    }
    if (v.gateway !== undefined && typeof v.gateway !== 'string') throw bad(plugin, `${p}.gateway: must be a string`)
    if (v.interface !== undefined && (!Number.isInteger(v.interface) || (v.interface as number) < 0 || (v.interface as number) >= interfaces.length)) {
      throw bad(plugin, `${p}.interface: ${JSON.stringify(v.interface)} is not an index into interfaces`)
    }
    return { address: v.address, gateway: v.gateway, interface: v.interface as number | undefined }
  })
  const routes = list('routes').map((v, i) => {
    if (!isObj(v) || typeof v.dst !== 'string') throw bad(plugin, `routes[${i}].dst: required`)
    return v
  })
  if (raw.dns !== undefined && !isObj(raw.dns)) throw bad(plugin, 'dns: must be an object')
  return { cniVersion: version, interfaces, ips, routes, dns: (raw.dns as Record<string, unknown>) ?? {}, raw }
}

/**
 * The result in another version's shape, as libcni converts a prevResult:
 * 0.4.0 carries `ips[].version`, 1.x does not; 1.1.0-only fields are dropped
 * going down. Everything else is the same JSON.
 */
export function convertResult(r: CniResult, to: string): Record<string, unknown> {
  const old = compareVersions(to, '1.0.0') < 0
  const ips = r.ips.map(ip => {
    const out: Record<string, unknown> = {}
    if (old) out.version = ip.address.includes(':') ? '6' : '4'
    out.address = ip.address
    if (ip.gateway !== undefined) out.gateway = ip.gateway
    if (ip.interface !== undefined) out.interface = ip.interface
    return out
  })
  const keep11 = compareVersions(to, '1.1.0') >= 0
  const interfaces = r.interfaces.map(({ name, mac, sandbox, ...v11 }) => ({
    name,
    ...(mac === undefined ? {} : { mac }),
    ...(sandbox === undefined ? {} : { sandbox }),
    ...(keep11 ? v11 : {}),
  }))
  const routes = r.routes.map(({ dst, gw, ...v11 }) => ({ dst, ...(gw === undefined ? {} : { gw }), ...(keep11 ? v11 : {}) }))
  return { ...r.raw, cniVersion: to, interfaces, ips, routes, dns: r.dns }
}

/** The pod IPs of a result: addresses of the container-side interface (sandbox set), else all, without the prefix length. */
export function podIPs(r: CniResult): string[] {
  const inSandbox = (ip: CniIP) => ip.interface === undefined || !!r.interfaces[ip.interface]?.sandbox
  const chosen = r.ips.filter(inSandbox)
  return (chosen.length > 0 ? chosen : r.ips).map(ip => ip.address.split('/')[0]).sort((a, b) => Number(a.includes(':')) - Number(b.includes(':')))
}

/** Well-known CNI error codes (SPEC.md "Error"). */
const CODES: Record<number, [string, string]> = {
  1: ['incompatible CNI version', 'the plugin does not support the conflist cniVersion: lower cniVersion (Debian plugins support up to 1.0.0)'],
  2: ['unsupported field in network configuration', 'remove the field the plugin names from the conflist'],
  3: ['container unknown or does not exist', 'the pod sandbox is gone'],
  4: ['invalid necessary environment variables', 'a CNI_* variable is wrong: report a bug in pod-launch'],
  5: ['I/O failure', 'the plugin could not read its config or write its result'],
  6: ['failed to decode content', 'the conflist or prevResult is not what the plugin expects'],
  7: ['invalid network config', 'fix the conflist the error names'],
  11: ['try again later', 'a transient failure: retry'],
}

export interface CniErrorResult {
  code: number
  msg: string
  details?: string
}

/** Parse an error result (stdout of a failed plugin); undefined when it is not one. */
export function parseErrorResult(stdout: string): CniErrorResult | undefined {
  try {
    const v = JSON.parse(stdout) as unknown
    if (isObj(v) && Number.isInteger(v.code) && typeof v.msg === 'string')
      return { code: v.code as number, msg: v.msg, details: typeof v.details === 'string' && v.details ? v.details : undefined }
  } catch {
    // not JSON: the caller uses stderr
  }
  return undefined
}

/** A failed plugin call as a PodError: `cni.<command>: <plugin>: <msg>: <details> (CNI error <code>)`. */
export function pluginError(command: string, plugin: string, e: CniErrorResult, object = plugin): PodError {
  const step = `cni.${command.toLowerCase()}`
  const known = CODES[e.code]
  const reason = `${e.msg}${e.details ? `: ${e.details}` : ''} (CNI error ${e.code}${known ? `, ${known[0]}` : ''})`
  return new PodError(`${step}: ${object}: ${reason}`, {
    step,
    code: `CNI_${e.code}`,
    hint: known?.[1] ?? `the ${plugin} plugin failed: see its message; pod-launch check shows the network setup`,
  })
}
