// Where a registry name is served from: its endpoints (docker.io's mirrors
// first, then registry-1.docker.io), whether plain HTTP may be used, and the
// extra CA certificates to trust. Read from a small JSON file (default
// /etc/pod-launch/registries.json, or $POD_LAUNCH_REGISTRIES):
//   { "insecure": ["reg.lan:5000"], "mirrors": { "docker.io": ["https://mirror.example"] },
//     "certsDirs": ["/etc/docker/certs.d", "/etc/containerd/certs.d"] }
// CA files are found as Docker and containerd look for them:
// <certsDir>/<host[:port]>/*.crt (Docker's certs.d; containerd's ca.crt beside hosts.toml).
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
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
  /** `https://host[:port]` (or http:// for a mirror given so). */
  base: URL
  /** The registry name this endpoint serves (docker.io for a mirror). */
  registry: string
  /** Plain HTTP may be tried when HTTPS is not spoken there. */
  allowHttp: boolean
  ca: string[]
  mirror: boolean
}

const stringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(s => typeof s === 'string')

/** Throws `registry.config` (REGISTRY_CONFIG_INVALID) naming the file and field. */
export function readRegistriesConfig(file = process.env.POD_LAUNCH_REGISTRIES ?? DEFAULT_REGISTRIES_FILE): RegistriesConfig {
  const config: RegistriesConfig = { insecure: [], mirrors: {}, certsDirs: DEFAULT_CERTS_DIRS }
  if (!existsSync(file)) return config
  const bad = (field: string, why: string) =>
    new PodError(`registry.config: ${file}: ${field}: ${why}`, {
      step: 'registry.config',
      code: 'REGISTRY_CONFIG_INVALID',
      exitCode: 2,
      path: file,
      hint: 'see docs/images.md (registries.json)',
    })
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

/** Docker treats loopback registries as insecure without being told. */
export function isLoopback(host: string): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name)
}

/** PEM certificates in <dir>/<host>/*.crt for each certs dir. */
export function caFilesFor(host: string, certsDirs: string[]): string[] {
  const out: string[] = []
  for (const dir of certsDirs) {
    const d = join(dir, host)
    if (!existsSync(d)) continue
    for (const f of readdirSync(d).sort()) if (f.endsWith('.crt')) out.push(readFileSync(join(d, f), 'utf8'))
  }
  return out
}

/** The endpoints to try for `registry`, in order. */
export function endpointsFor(registry: string, config: RegistriesConfig): Endpoint[] {
  const out: Endpoint[] = []
  for (const m of config.mirrors[registry] ?? []) {
    const base = new URL(m)
    out.push({ base: new URL(base.origin), registry, allowHttp: base.protocol === 'http:', ca: caFilesFor(base.host, config.certsDirs), mirror: true })
  }
  const host = registry === DEFAULT_REGISTRY ? DOCKER_HUB_API : registry
  const allowHttp = isLoopback(host) || config.insecure.includes(host) || config.insecure.includes(registry)
  out.push({ base: new URL(`https://${host}`), registry, allowHttp, ca: caFilesFor(host, config.certsDirs), mirror: false })
  return out
}
