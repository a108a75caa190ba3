// The CRI ImageService on our registry client and image store. Images are
// named as kubelet names them (fully qualified, or an id); an image's CRI id
// is its config digest, as containerd's, and PullImage answers with it.
import { lstatSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { PodError } from '../errors.js'
import {
  DEFAULT_REGISTRY,
  ensureStore,
  listImages,
  parseImageName,
  pullImage,
  removeImage,
  lookupImage,
  storePaths,
  type Credentials,
  type ImageRecord,
} from '../rootfs/images/index.js'
import { criError } from './status.js'
import type { AuthConfig, FilesystemUsage, Image, ImageSpec } from './types.js'

/** The image `name` names, or undefined when the store has none (a malformed name throws `image.name`). */
export function findImage(root: string, name: string): ImageRecord | undefined {
  try {
    return lookupImage(root, name)
  } catch (e) {
    if (e instanceof PodError && e.code === 'IMAGE_NOT_FOUND') return undefined
    throw e
  }
}

/** uid when the image's USER is numeric (`1002`, `1003:1004`), else the user name, as the CRI reports it. */
export function imageUser(user: string | undefined): { uid?: { value: string }; username: string } {
  const name = (user ?? '').split(':')[0]
  if (name === '') return { username: '' }
  return /^\d+$/.test(name) ? { uid: { value: name }, username: '' } : { username: name }
}

/** A store record as a CRI Image. */
export function criImage(r: ImageRecord): Image {
  return {
    id: r.id,
    repoTags: r.names.filter(n => !n.includes('@')),
    repoDigests: r.names.filter(n => n.includes('@')),
    size: r.size,
    ...imageUser(r.config.user),
    spec: { image: r.id },
    pinned: false,
  }
}

/**
 * Credentials of a PullImageRequest's auth: username/password, `auth`
 * (base64 of user:password), identity_token (an OAuth2 refresh token for the
 * registry's token service) or registry_token (a bearer token sent to the
 * registry as it is). With server_address set they are for that registry
 * only, as containerd reads them.
 */
export function pullCredentials(auth: AuthConfig | null, registry?: string): Credentials | undefined {
  if (!auth) return undefined
  if (auth.serverAddress && registry && serverHost(auth.serverAddress) !== registry) return undefined
  if (auth.username || auth.password) return { username: auth.username, password: auth.password }
  if (auth.identityToken) return { username: '', password: '', identityToken: auth.identityToken }
  if (auth.auth) {
    const text = Buffer.from(auth.auth, 'base64').toString('utf8')
    const colon = text.indexOf(':')
    if (colon <= 0) throw criError('cri.PullImage', 'auth.auth', 'not base64 of user:password', 'INVALID_ARGUMENT')
    return { username: text.slice(0, colon), password: text.slice(colon + 1) }
  }
  if (auth.registryToken) return { username: '', password: '', registryToken: auth.registryToken }
  return undefined
}

/** The registry a server_address names (`https://index.docker.io/v1/` is docker.io), as image names spell it. */
function serverHost(address: string): string {
  const host = new URL(/^[a-z]+:\/\//.test(address) ? address : `https://${address}`).host
  return ['index.docker.io', 'registry-1.docker.io'].includes(host) ? DEFAULT_REGISTRY : host
}

function specName(step: string, spec: ImageSpec | null): string {
  const name = spec?.image ?? ''
  if (name === '') throw criError(step, 'image.image', 'an image name is required', 'INVALID_ARGUMENT')
  return name
}

interface Usage {
  at: number
  bytes: number
  inodes: number
}

function walk(dir: string, u: { bytes: number; inodes: number }): void {
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return
  }
  for (const e of entries) {
    const path = join(dir, e.name)
    u.inodes++
    if (e.isDirectory()) walk(path, u)
    else
      try {
        u.bytes += lstatSync(path).blocks * 512
      } catch {}
  }
}

/** The ImageService over the store under `root`. */
export class CriImages {
  private usage?: Usage

  constructor(
    private readonly root: string,
    private readonly onWarning: (m: string) => void = () => {},
  ) {}

  async pull(spec: ImageSpec | null, auth: AuthConfig | null): Promise<string> {
    const name = specName('cri.PullImage', spec)
    const r = await pullImage(name, { root: this.root, credentials: pullCredentials(auth, parseImageName(name).registry), onWarning: this.onWarning })
    this.usage = undefined
    return r.id
  }

  status(spec: ImageSpec | null, verbose: boolean): { image: Image | null; info: Record<string, string> } {
    const r = findImage(this.root, specName('cri.ImageStatus', spec))
    if (!r) return { image: null, info: {} }
    const info: Record<string, string> = verbose
      ? { info: JSON.stringify({ id: r.id, names: r.names, manifestDigest: r.manifestDigest, config: r.config, layers: r.layers, diffIds: r.diffIds }) }
      : {}
    return { image: criImage(r), info }
  }

  list(filter: { image: ImageSpec | null } | null): Image[] {
    const name = filter?.image?.image ?? ''
    if (name !== '') {
      const r = findImage(this.root, name)
      return r ? [criImage(r)] : []
    }
    return listImages(this.root).map(criImage)
  }

  /** Idempotent: an image that is not there is already removed. */
  async remove(spec: ImageSpec | null): Promise<void> {
    const name = specName('cri.RemoveImage', spec)
    if (!findImage(this.root, name)) return
    // As containerd: the name goes even while a container uses the image; its layers stay until gc.
    await removeImage(this.root, name, { force: true })
    this.usage = undefined
  }

  /**
   * Bytes and inodes under the store (cached for 10 s: kubelet asks every few
   * seconds). kubelet asks before any pull and stats the mountpoint named, so
   * the store is made first, as containerd makes its content store at start.
   */
  fsInfo(): FilesystemUsage[] {
    const paths = storePaths(this.root)
    const store = paths.store
    const now = Date.now()
    if (!this.usage || now - this.usage.at > 10_000) {
      ensureStore(paths)
      const u = { bytes: 0, inodes: 0 }
      walk(store, u)
      this.usage = { at: now, ...u }
    }
    return [
      {
        timestamp: String(BigInt(this.usage.at) * 1_000_000n),
        fsId: { mountpoint: store },
        usedBytes: { value: this.usage.bytes },
        inodesUsed: { value: this.usage.inodes },
      },
    ]
  }
}
