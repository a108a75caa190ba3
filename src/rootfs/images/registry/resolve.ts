// From a reference to one image manifest: fetch the manifest by tag or
// digest (OCI and Docker schema2 media types), check its digest, refuse
// schema1, and follow an index / manifest list to this host's platform.
import { createHash } from 'node:crypto'
import { PodError } from '../../../errors.js'
import { MEDIA, parseJson, parseOciIndex, parseOciManifest, type OciManifest } from '../manifest.js'
import { MAX_MANIFEST_BYTES, type RegistryClient } from './client.js'
import { readBody } from './http.js'
import { formatPlatform, type Platform, selectPlatform } from './platform.js'

const SCHEMA1 = ['application/vnd.docker.distribution.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v1+prettyjws']
const ACCEPT = [MEDIA.ociIndex, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.dockerManifest, ...SCHEMA1].join(', ')

export interface Resolved {
  /** Digest of what the reference names (the index, for a multi-platform image). */
  digest: string
  /** Digest of the platform's image manifest. */
  manifestDigest: string
  manifest: OciManifest
  platform?: Platform
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`

function invalid(image: string, reason: string, code = 'IMAGE_INVALID', hint?: string): PodError {
  return new PodError(`registry.manifest: ${image}: ${reason}`, { step: 'registry.manifest', code, hint })
}

async function fetchManifest(client: RegistryClient, image: string, reference: string): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
  const res = await client.get(`${client.repositoryPath}/manifests/${reference}`, 'registry.manifest', { Accept: ACCEPT })
  await client.expectOk(res, 'registry.manifest', reference.startsWith('sha256:') ? `manifest ${reference}` : `tag "${reference}"`)
  const bytes = await readBody(res, MAX_MANIFEST_BYTES, { step: 'registry.manifest', object: image, what: 'manifest' })
  const digest = sha256(bytes)
  if (reference.startsWith('sha256:') && digest !== reference) {
    throw new PodError(`image.verify: ${image}: the manifest's digest is ${digest}, not the ${reference} asked for`, {
      step: 'image.verify',
      code: 'IMAGE_DIGEST_MISMATCH',
      hint: 'the registry (or something between) served other content: nothing was stored',
    })
  }
  const json = parseJson(bytes.toString('utf8'), `${image} manifest`) as { mediaType?: string; schemaVersion?: number }
  const header = String(res.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
  const mediaType = typeof json?.mediaType === 'string' ? json.mediaType : header
  if (json?.schemaVersion === 1 || SCHEMA1.includes(mediaType)) {
    throw invalid(
      image,
      'Docker image manifest schema 1 is not supported (deprecated since 2017)',
      'IMAGE_SCHEMA1',
      'push the image again with a current docker/buildah/skopeo (they write schema 2 or OCI)',
    )
  }
  return { bytes, mediaType, digest }
}

/** Throws `registry.*`, `image.verify` (IMAGE_DIGEST_MISMATCH), `image.platform` (IMAGE_NO_PLATFORM), `image.manifest`. */
export async function resolveManifest(client: RegistryClient, image: string, reference: string, platform: Platform): Promise<Resolved> {
  const top = await fetchManifest(client, image, reference)
  let m = top
  let picked: Platform | undefined
  if (top.mediaType === MEDIA.ociIndex || top.mediaType === MEDIA.dockerList) {
    const entries = parseOciIndex(parseJson(top.bytes.toString('utf8'), `${image} index`), `${image} index`)
    const entry = selectPlatform(entries, platform, image)
    picked = { os: entry.platform!.os!, architecture: entry.platform!.architecture!, ...(entry.platform?.variant ? { variant: entry.platform.variant } : {}) }
    m = await fetchManifest(client, image, entry.digest)
    if (m.mediaType === MEDIA.ociIndex || m.mediaType === MEDIA.dockerList)
      throw invalid(image, `the index entry for ${formatPlatform(picked)} is another index (nested indexes are not followed)`)
  } else if (top.mediaType !== MEDIA.ociManifest && top.mediaType !== MEDIA.dockerManifest) {
    throw invalid(image, `unsupported manifest media type "${top.mediaType}" (not an image)`, 'IMAGE_UNSUPPORTED')
  }
  const manifest = parseOciManifest(parseJson(m.bytes.toString('utf8'), `${image} manifest`), `${image} manifest`)
  return { digest: top.digest, manifestDigest: m.digest, manifest, ...(picked ? { platform: picked } : {}) }
}
