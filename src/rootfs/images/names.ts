// Image names as Kubernetes (and the docker reference grammar) resolve them:
// `busybox`, `busybox:latest`, `library/busybox` and
// `docker.io/library/busybox:latest` are one image. Pure.
import { PodError } from '../../errors.js'

export const DEFAULT_REGISTRY = 'docker.io'
export const DEFAULT_TAG = 'latest'

/** A parsed image reference; `canonical` is the one spelling the store records. */
export interface ImageRef {
  registry: string
  repository: string
  tag?: string
  digest?: string
  /** `registry/repository:tag`, or `registry/repository@sha256:...` when a digest is given. */
  canonical: string
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const TAG = /^[\w][\w.-]{0,127}$/
const DIGEST = /^sha256:[0-9a-f]{64}$/

function invalid(name: string, reason: string): PodError {
  return new PodError(`image.name: ${name}: ${reason}`, {
    step: 'image.name',
    code: 'IMAGE_NAME_INVALID',
    exitCode: 2,
    hint: 'an image name looks like busybox, busybox:1.36, docker.io/library/busybox:latest or name@sha256:<64 hex>',
  })
}

/** Parse and normalize an image reference; throws `image.name` (IMAGE_NAME_INVALID). */
export function parseImageName(name: string): ImageRef {
  let rest = name.trim()
  if (rest === '') throw invalid(name, 'empty')
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!DIGEST.test(digest)) throw invalid(name, 'a digest must be sha256: and 64 lower-case hex digits')
  }
  let tag: string | undefined
  const colon = rest.lastIndexOf(':')
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!TAG.test(tag)) throw invalid(name, `invalid tag "${tag}"`)
  }
  const parts = rest.split('/')
  let registry = DEFAULT_REGISTRY
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) {
    registry = parts.shift()!
    if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DEFAULT_REGISTRY
  }
  if (registry === DEFAULT_REGISTRY && parts.length === 1) parts.unshift('library')
  for (const p of parts) {
    if (!COMPONENT.test(p)) throw invalid(name, `invalid path component "${p}" (lower-case letters, digits, and . _ - between them)`)
  }
  const repository = parts.join('/')
  if (!digest && !tag) tag = DEFAULT_TAG
  const base = `${registry}/${repository}`
  return { registry, repository, tag, digest, canonical: digest ? `${base}@${digest}` : `${base}:${tag}` }
}

/** The canonical spelling of an image name (see parseImageName). */
export function normalizeImageName(name: string): string {
  return parseImageName(name).canonical
}

/** The short spelling for display: `busybox:latest` for docker.io/library images. */
export function familiarName(canonical: string): string {
  return canonical.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '')
}

/** True when `name` is an image id or a prefix of one (`sha256:` optional, 12+ hex digits). */
export function isIdLike(name: string): boolean {
  return /^(sha256:)?[0-9a-f]{12,64}$/.test(name)
}
