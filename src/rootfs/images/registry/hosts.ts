// Where a registry name is served from: its endpoints (mirrors first, then
// the registry itself; docker.io is served by registry-1.docker.io), whether
// plain HTTP may be used, and the certificates to trust or present. Read
// from a small JSON file (default /etc/pod-launch/registries.json, or
// $POD_LAUNCH_REGISTRIES):
//   { "insecure": ["reg.lan:5000"], "mirrors": { "docker.io": ["https://mirror.example"] },
//     "certsDirs": ["/etc/docker/certs.d", "/etc/containerd/certs.d"] }
// and from the files Docker and containerd read in each certs dir:
//   <dir>/<host[:port]>/*.crt               CAs (Docker's certs.d; containerd's ca.crt)
//   <dir>/<host[:port]>/<name>.cert + .key  a client certificate (Docker)
//   <dir>/<host[:port]>/hosts.toml          containerd's hosts file (docs/hosts.md in
//   <dir>/_default/hosts.toml               containerd): server, [host."URL"] with
//                                           capabilities, ca, client, skip_verify, header,
//                                           override_path
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, join } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { PodError } from '../../../errors.js'
import { DEFAULT_REGISTRY } from '../names.js'

export const DEFAULT_REGISTRIES_FILE = '/etc/pod-launch/registries.json'
export const DEFAULT_CERTS_DIRS = ['/etc/docker/certs.d', '/etc/containerd/certs.d']
export const DOCKER_HUB_API = 'registry-1.docker.io'

export interface RegistriesConfig {
  insecure: string[]
  mirrors: Record<string, string[]>
  certsDirs: string[]
}

export interface Endpoint {
  /** `https://host[:port]` (or http:// for a host given so): the origin requests go to. */
  base: URL
  /** The path the distribution API is under: `/v2`, or a mirror's own (`/mirror/v2`, override_path). */
  apiRoot: string
  /** The registry name this endpoint serves (docker.io for a mirror). */
  registry: string
  /** Plain HTTP may be tried when HTTPS is not spoken there. */
  allowHttp: boolean
  ca: string[]
  /** A client certificate and its key (PEM), when the host asks for one. */
  cert?: { cert: string; key: string }
  /** hosts.toml skip_verify: the server's certificate is not checked. */
  skipVerify?: boolean
  /** Extra request headers (hosts.toml `header`). */
  headers?: Record<string, string>
  mirror: boolean
  /** False for a hosts.toml host without the "resolve" capability: used for pulls by digest only. */
  resolve: boolean
}

const stringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(s => typeof s === 'string')

/** The registries.json in use: POD_LAUNCH_REGISTRIES, else /etc/pod-launch/registries.json. */
export function registriesFile(): string {
  return process.env.POD_LAUNCH_REGISTRIES ?? DEFAULT_REGISTRIES_FILE
}

/** Throws `registry.config` (REGISTRY_CONFIG_INVALID) naming the file and field. */
export function readRegistriesConfig(file = registriesFile()): RegistriesConfig {
  const config: RegistriesConfig = { insecure: [], mirrors: {}, certsDirs: DEFAULT_CERTS_DIRS }
  if (!existsSync(file)) return config
  const bad = badConfig(file, 'see docs/images.md (registries.json)')
  let raw: Record<string, unknown>
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
  } catch (e) {
    throw bad('(file)', (e as Error).message)
  }
  if (raw.insecure !== undefined) {
    if (!stringList(raw.insecure)) throw bad('insecure', 'must be a list of host[:port]')
    config.insecure = raw.insecure
  }
  if (raw.certsDirs !== undefined) {
    if (!stringList(raw.certsDirs)) throw bad('certsDirs', 'must be a list of directories')
    config.certsDirs = raw.certsDirs
  }
  if (raw.mirrors !== undefined) {
    if (typeof raw.mirrors !== 'object' || raw.mirrors === null) throw bad('mirrors', 'must map a registry name to a list of URLs')
    for (const [name, urls] of Object.entries(raw.mirrors)) {
      if (!stringList(urls)) throw bad(`mirrors.${name}`, 'must be a list of URLs')
      for (const u of urls) if (!URL.canParse(u)) throw bad(`mirrors.${name}`, `"${u}" is not a URL`)
      config.mirrors[name] = urls
    }
  }
  return config
}

function badConfig(file: string, hint: string) {
  return (field: string, why: string) =>
    new PodError(`registry.config: ${file}: ${field}: ${why}`, { step: 'registry.config', code: 'REGISTRY_CONFIG_INVALID', exitCode: 2, path: file, hint })
}

/** Docker treats loopback registries as insecure without being told. */
export function isLoopback(host: string): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name)
}

/** The PEM files Docker reads in <dir>/<host>: every *.crt (CAs) and the first <name>.cert with its <name>.key. */
function certsIn(d: string): { ca: string[]; cert?: { cert: string; key: string } } {
  const ca: string[] = []
  let cert: { cert: string; key: string } | undefined
  if (!existsSync(d)) return { ca }
  for (const f of readdirSync(d).sort()) {
    if (f.endsWith('.crt')) ca.push(readFileSync(join(d, f), 'utf8'))
    const key = join(d, f.replace(/\.cert$/, '.key'))
    if (!cert && f.endsWith('.cert') && existsSync(key)) cert = { cert: readFileSync(join(d, f), 'utf8'), key: readFileSync(key, 'utf8') }
  }
  return cert ? { ca, cert } : { ca }
}

/** The CAs in <dir>/<host>/*.crt of every certs dir, and the first client certificate found there. */
export function hostCerts(host: string, certsDirs: string[]): { ca: string[]; cert?: { cert: string; key: string } } {
  const all = certsDirs.map(d => certsIn(join(d, host)))
  const cert = all.find(c => c.cert)?.cert
  return { ca: all.flatMap(c => c.ca), ...(cert && { cert }) }
}

/** The first hosts.toml for `registry` (or `_default`) in the certs dirs. */
function hostsFileFor(registry: string, certsDirs: string[]): string | undefined {
  for (const name of [registry, '_default'])
    for (const dir of certsDirs) {
      const f = join(dir, name, 'hosts.toml')
      if (existsSync(f)) return f
    }
  return undefined
}

/** A path in hosts.toml: relative to its directory. */
const readRel = (file: string, p: string) => readFileSync(isAbsolute(p) ? p : join(dirname(file), p), 'utf8')

/** containerd's hosts.toml -> endpoints, mirrors in file order, then `server`. Throws `registry.config` naming the field. */
export function readHostsToml(file: string, registry: string, defaultServer: string, fallbackCerts: string[]): Endpoint[] {
  const bad = badConfig(file, "see containerd's docs/hosts.md; pod-launch reads server, capabilities, ca, client, skip_verify, header, override_path")
  let raw: Record<string, unknown>
  try {
    raw = parseToml(readFileSync(file, 'utf8'))
  } catch (e) {
    throw bad('(file)', (e as Error).message.split('\n')[0])
  }
  const endpoint = (url: string, t: Record<string, unknown>, field: string, mirror: boolean): Endpoint => {
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw bad(field, `"${url}" is not an http(s) URL`)
    const u = new URL(url)
    const caps = t.capabilities ?? ['pull', 'resolve', 'push']
    if (!stringList(caps)) throw bad(`${field}.capabilities`, 'must be a list of pull, resolve, push')
    const ca = t.ca === undefined ? [] : typeof t.ca === 'string' ? [t.ca] : t.ca
    if (!stringList(ca)) throw bad(`${field}.ca`, 'must be a path or a list of paths')
    let cert: Endpoint['cert']
    const client = typeof t.client === 'string' ? [[t.client, '']] : t.client
    if (client !== undefined) {
      if (!Array.isArray(client) || !client.every(p => stringList(p) && p.length === 2))
        throw bad(`${field}.client`, 'must be a path or a list of [cert, key] pairs')
      const [c, k] = client[0] as string[]
      cert = { cert: readRel(file, c), key: readRel(file, k || c) }
    }
    if (t.skip_verify !== undefined && typeof t.skip_verify !== 'boolean') throw bad(`${field}.skip_verify`, 'must be true or false')
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries((t.header ?? {}) as Record<string, unknown>)) {
      const vs = typeof v === 'string' ? [v] : v
      if (!stringList(vs)) throw bad(`${field}.header.${k}`, 'must be a string or a list of strings')
      headers[k] = vs.join(', ')
    }
    const path = u.pathname.replace(/\/+$/, '')
    return {
      base: new URL(u.origin),
      apiRoot: t.override_path === true ? path : `${path}/v2`,
      registry,
      allowHttp: u.protocol === 'http:',
      ca: [...ca.map(p => readRel(file, p)), ...hostCerts(u.host, fallbackCerts).ca],
      ...(cert && { cert }),
      ...(t.skip_verify === true && { skipVerify: true }),
      ...(Object.keys(headers).length > 0 && { headers }),
      mirror,
      resolve: caps.includes('resolve'),
    }
  }
  const hosts = (raw.host ?? {}) as Record<string, Record<string, unknown>>
  if (typeof hosts !== 'object') throw bad('host', 'must be tables [host."URL"]')
  const out = Object.entries(hosts).map(([url, t]) => endpoint(url, t, `host."${url}"`, true))
  const server = raw.server ?? defaultServer
  if (typeof server !== 'string') throw bad('server', 'must be a URL')
  out.push(endpoint(server, raw, 'server', false))
  return out
}

/** The endpoints to try for `registry`, in order. Throws `registry.config` for a bad hosts.toml. */
export function endpointsFor(registry: string, config: RegistriesConfig): Endpoint[] {
  const out: Endpoint[] = []
  for (const m of config.mirrors[registry] ?? []) {
    const u = new URL(m)
    const base = new URL(u.origin)
    out.push({
      base,
      apiRoot: `${u.pathname.replace(/\/+$/, '')}/v2`,
      registry,
      allowHttp: u.protocol === 'http:',
      ...hostCerts(u.host, config.certsDirs),
      mirror: true,
      resolve: true,
    })
  }
  const host = registry === DEFAULT_REGISTRY ? DOCKER_HUB_API : registry
  const allowHttp = isLoopback(host) || config.insecure.includes(host) || config.insecure.includes(registry)
  const hostsFile = hostsFileFor(registry, config.certsDirs)
  if (hostsFile) {
    const eps = readHostsToml(hostsFile, registry, `https://${host}`, config.certsDirs)
    // The server itself keeps Docker's rules for plain HTTP (loopback, or listed as insecure).
    eps[eps.length - 1].allowHttp ||= allowHttp
    return [...out, ...eps]
  }
  out.push({ base: new URL(`https://${host}`), apiRoot: '/v2', registry, allowHttp, ...hostCerts(host, config.certsDirs), mirror: false, resolve: true })
  return out
}
