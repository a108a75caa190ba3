// Parse the JSON of an OCI image layout (index.json, image index, image
// manifest) and of a docker-archive (manifest.json), and the image config
// both share. Pure: bytes in, plain data out; every malformed field is an
// `image.manifest` error naming the file and field.
// Specs: opencontainers/image-spec image-layout.md, image-index.md,
// manifest.md, config.md; moby image/spec (docker save format).
import { PodError } from '../../errors.js'
import type { Compression } from './extract.js'
import { normalizeImageName } from './names.js'

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const

/** Layer media types we unpack, and how they are compressed. */
const LAYER_TYPES: Record<string, Compression> = {
  'application/vnd.oci.image.layer.v1.tar+zstd': 'zstd',
  'application/vnd.oci.image.layer.v1.tar': 'tar',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar': 'tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip': 'gzip',
  'application/vnd.docker.image.rootfs.diff.tar': 'tar',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'gzip',
}

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  annotations?: Record<string, string>
  platform?: { os?: string; architecture?: string; variant?: string }
}

export interface ImageConfig {
  entrypoint?: string[]
  cmd?: string[]
  env?: string[]
  workingDir?: string
  user?: string
  stopSignal?: string
}

export interface ParsedConfig {
  config: ImageConfig
  /** sha256 of each uncompressed layer tar, bottom to top. */
  diffIds: string[]
  created?: string
  os?: string
  architecture?: string
}

export function manifestError(
  file: string,
  reason: string,
  hint = 'the archive is not an OCI image layout or a docker-archive (docker save, podman save, skopeo copy ... oci-archive: or docker-archive:)',
): PodError {
  return new PodError(`image.manifest: ${file}: ${reason}`, { step: 'image.manifest', code: 'IMAGE_INVALID', path: file, hint })
}

const SEVERAL_HINT = 'import without a name to import every image the archive holds, or give one of the names shown'

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text)
  } catch (e) {
    throw manifestError(file, `not JSON (${(e as Error).message})`)
  }
}

function strings(v: unknown, file: string, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v) || v.some(s => typeof s !== 'string')) throw manifestError(file, `${field} must be an array of strings`)
  return v as string[]
}

function optString(v: unknown, file: string, field: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined
  if (typeof v !== 'string') throw manifestError(file, `${field} must be a string`)
  return v
}

export function parseDescriptor(v: unknown, file: string, field: string): Descriptor {
  if (!isObj(v)) throw manifestError(file, `${field} must be a descriptor object`)
  const { mediaType, digest, size } = v
  if (typeof mediaType !== 'string') throw manifestError(file, `${field}.mediaType must be a string`)
  if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest))
    throw manifestError(file, `${field}.digest must be sha256:<64 hex> (got ${JSON.stringify(digest)})`)
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw manifestError(file, `${field}.size must be a non-negative integer`)
  const d: Descriptor = { mediaType, digest, size }
  if (isObj(v.annotations)) d.annotations = v.annotations as Record<string, string>
  if (isObj(v.platform)) d.platform = v.platform
  return d
}

/** The entries of an OCI index (index.json or a nested image index). */
export function parseOciIndex(json: unknown, file: string): Descriptor[] {
  if (!isObj(json) || json.schemaVersion !== 2 || !Array.isArray(json.manifests))
    throw manifestError(file, 'not an OCI image index (schemaVersion 2 with manifests[])')
  return json.manifests.map((m, i) => parseDescriptor(m, file, `manifests[${i}]`))
}

export function isIndex(d: Descriptor): boolean {
  return d.mediaType === MEDIA.ociIndex || d.mediaType === MEDIA.dockerList
}

/** The name an index entry carries: containerd's full name, else ref.name (a tag alone gives none). */
export function refNameOf(d: Descriptor): string | undefined {
  const a = d.annotations ?? {}
  const full = a['io.containerd.image.name']
  const ref = a['org.opencontainers.image.ref.name']
  for (const n of [full, ref]) {
    if (!n || !/[/:@]/.test(n)) continue
    try {
      return normalizeImageName(n)
    } catch {}
  }
  return undefined
}

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' }
export const hostArch = (): string => GO_ARCH[process.arch] ?? process.arch

/**
 * Pick one entry of an index: the one named `name` when given and present,
 * else the only entry for linux/<host arch> (entries without a platform count).
 */
export function selectEntry(entries: Descriptor[], file: string, name?: string, arch = hostArch()): Descriptor {
  if (name) {
    const want = normalizeImageName(name)
    const named = entries.filter(e => refNameOf(e) === want)
    if (named.length > 0) entries = named
  }
  const fits = entries.filter(e => !e.platform || ((e.platform.os ?? 'linux') === 'linux' && (e.platform.architecture ?? arch) === arch))
  if (fits.length === 1) return fits[0]
  if (fits.length === 0) {
    const seen = entries.map(e => `${e.platform?.os ?? '?'}/${e.platform?.architecture ?? '?'}`).join(', ') || 'none'
    throw manifestError(file, `no image for linux/${arch} (found: ${seen})`)
  }
  const names = fits.map(e => refNameOf(e) ?? e.digest).join(', ')
  throw manifestError(file, `holds several images (${names}): name the one to import`, SEVERAL_HINT)
}

/**
 * The images an index.json holds, as `docker load` takes them: entries
 * grouped by the name they carry, one per group (a group of platforms gives
 * the host's). With `name`, only the image of that name (or the only one).
 */
export function selectImages(entries: Descriptor[], file: string, name?: string, arch = hostArch()): Descriptor[] {
  if (name) return [selectEntry(entries, file, name, arch)]
  const groups = new Map<string, Descriptor[]>()
  for (const e of entries) {
    const a = e.annotations ?? {}
    const key = a['io.containerd.image.name'] ?? a['org.opencontainers.image.ref.name'] ?? ''
    groups.set(key, [...(groups.get(key) ?? []), e])
  }
  return [...groups.values()].map(g => selectEntry(g, file, undefined, arch))
}

export interface OciManifest {
  config: Descriptor
  layers: (Descriptor & { compression: Compression })[]
}

export function parseOciManifest(json: unknown, file: string): OciManifest {
  if (!isObj(json) || json.schemaVersion !== 2) throw manifestError(file, 'not an image manifest (schemaVersion 2)')
  if (json.mediaType !== undefined && json.mediaType !== MEDIA.ociManifest && json.mediaType !== MEDIA.dockerManifest) {
    throw manifestError(file, `unsupported manifest media type ${json.mediaType}`)
  }
  if (!Array.isArray(json.layers)) throw manifestError(file, 'layers must be an array')
  const config = parseDescriptor(json.config, file, 'config')
  const layers = json.layers.map((l, i) => {
    const d = parseDescriptor(l, file, `layers[${i}]`)
    const compression = LAYER_TYPES[d.mediaType]
    if (!compression) throw manifestError(file, `layers[${i}]: unsupported layer media type ${d.mediaType} (tar, tar+gzip and tar+zstd are supported)`)
    return { ...d, compression }
  })
  return { config, layers }
}

export interface DockerEntry {
  /** Path of the config JSON inside the archive. */
  config: string
  repoTags: string[]
  /** Paths of the layer tars inside the archive, bottom to top. */
  layers: string[]
}

/** Every entry of a docker-archive's manifest.json (one per image, each with its RepoTags). */
export function parseDockerEntries(json: unknown, file: string): DockerEntry[] {
  if (!Array.isArray(json) || json.length === 0) throw manifestError(file, 'must be a non-empty array of {Config, RepoTags, Layers}')
  return json.map((e, i): DockerEntry => {
    if (!isObj(e) || typeof e.Config !== 'string') throw manifestError(file, `[${i}].Config must be a string`)
    const layers = strings(e.Layers, file, `[${i}].Layers`)
    if (!layers) throw manifestError(file, `[${i}].Layers is missing`)
    return { config: e.Config, repoTags: strings(e.RepoTags, file, `[${i}].RepoTags`) ?? [], layers }
  })
}

/** manifest.json of a docker-archive: pick the entry named `name`, or the only one. */
export function parseDockerManifest(json: unknown, file: string, name?: string): DockerEntry {
  const entries = parseDockerEntries(json, file)
  if (entries.length === 1) return entries[0]
  const want = name ? normalizeImageName(name) : undefined
  const named = entries.filter(e => e.repoTags.some(t => want && safeNormalize(t) === want))
  if (named.length === 1) return named[0]
  throw manifestError(
    file,
    `holds ${entries.length} images (${entries.map(e => e.repoTags.join(' ') || e.config).join(', ')}): name the one to import`,
    SEVERAL_HINT,
  )
}

export function safeNormalize(name: string): string | undefined {
  try {
    return normalizeImageName(name)
  } catch {
    return undefined
  }
}

/** The image config (OCI config.md / docker image JSON): the run defaults and rootfs.diff_ids. */
export function parseImageConfig(json: unknown, file: string): ParsedConfig {
  if (!isObj(json)) throw manifestError(file, 'the image config must be an object')
  const rootfs = json.rootfs
  if (!isObj(rootfs) || rootfs.type !== 'layers') throw manifestError(file, 'rootfs.type must be "layers"')
  const diffIds = strings(rootfs.diff_ids, file, 'rootfs.diff_ids') ?? []
  for (const d of diffIds) if (!/^sha256:[0-9a-f]{64}$/.test(d)) throw manifestError(file, `rootfs.diff_ids: ${d}: must be sha256:<64 hex>`)
  const c = isObj(json.config) ? json.config : {}
  const config: ImageConfig = {}
  const set = <K extends keyof ImageConfig>(k: K, v: ImageConfig[K] | undefined) => {
    if (v !== undefined) config[k] = v
  }
  set('entrypoint', strings(c.Entrypoint, file, 'config.Entrypoint'))
  set('cmd', strings(c.Cmd, file, 'config.Cmd'))
  set('env', strings(c.Env, file, 'config.Env'))
  set('workingDir', optString(c.WorkingDir, file, 'config.WorkingDir'))
  set('user', optString(c.User, file, 'config.User'))
  set('stopSignal', optString(c.StopSignal, file, 'config.StopSignal'))
  return {
    config,
    diffIds,
    created: optString(json.created, file, 'created'),
    os: optString(json.os, file, 'os'),
    architecture: optString(json.architecture, file, 'architecture'),
  }
}
