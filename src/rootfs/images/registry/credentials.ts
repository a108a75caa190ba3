// Registry credentials in the files users already have, read in podman's
// order: $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
// ~/.docker/config.json. All share Docker's shape
// { "auths": { "<host>": { "auth": base64("user:password") } } }; Docker Hub
// is keyed https://index.docker.io/v1/ by docker login. `image login` writes
// the first of those locations (mode 0600, directory 0700). Credentials are
// never printed or logged.
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { writeJsonAtomic } from '../../../atomic-file.js'
import { PodError } from '../../../errors.js'
import { DEFAULT_REGISTRY } from '../names.js'

export interface Credentials {
  username: string
  password: string
  /** An OAuth2 refresh token for the registry's token service (docker's `identitytoken`, CRI identity_token). */
  identityToken?: string
  /** A bearer token sent to the registry as it is (docker's `registrytoken`, CRI registry_token). */
  registryToken?: string
}

const HUB_KEYS = ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io']

/** The auth files to read, first match wins. */
export function authFiles(env = process.env): string[] {
  const out: string[] = []
  if (env.REGISTRY_AUTH_FILE) out.push(env.REGISTRY_AUTH_FILE)
  if (env.XDG_RUNTIME_DIR) out.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'))
  out.push(join(env.HOME ?? homedir(), '.docker', 'config.json'))
  return out
}

/** The file `image login` writes. */
export function loginFile(env = process.env): string {
  return authFiles(env)[0]
}

interface AuthFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>
  [k: string]: unknown
}

function readAuthFile(file: string): AuthFile {
  if (!existsSync(file)) return {}
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as AuthFile
    return typeof v === 'object' && v !== null ? v : {}
  } catch (e) {
    throw new PodError(`registry.auth: ${file}: not valid JSON (${(e as Error).message})`, {
      step: 'registry.auth',
      code: 'REGISTRY_AUTH_FILE_INVALID',
      path: file,
    })
  }
}

function keysFor(registry: string, repository?: string): string[] {
  const hosts = registry === DEFAULT_REGISTRY ? HUB_KEYS : [registry, `https://${registry}`, `http://${registry}`]
  // containers-auth.json(5): a key may name a repository (or a namespace of it), most specific first.
  const scoped: string[] = []
  if (repository) {
    const parts = repository.split('/')
    for (let i = parts.length; i > 0; i--) scoped.push(`${registry}/${parts.slice(0, i).join('/')}`)
  }
  return [...scoped, ...hosts]
}

function decode(entry: { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }): Credentials | undefined {
  if (entry.registrytoken) return { username: '', password: '', registryToken: entry.registrytoken }
  if (entry.identitytoken) return { username: entry.username ?? '', password: '', identityToken: entry.identitytoken }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password }
  if (!entry.auth) return undefined
  const text = Buffer.from(entry.auth, 'base64').toString('utf8')
  const colon = text.indexOf(':')
  if (colon <= 0) return undefined
  return { username: text.slice(0, colon), password: text.slice(colon + 1) }
}

/** Credentials for `registry` (and repository), or undefined for anonymous access. */
export function findCredentials(registry: string, repository?: string, env = process.env): Credentials | undefined {
  for (const file of authFiles(env)) {
    const auths = readAuthFile(file).auths ?? {}
    for (const key of keysFor(registry, repository)) {
      const c = auths[key] && decode(auths[key])
      if (c) return c
    }
  }
  return undefined
}

function writeAuthFile(file: string, content: AuthFile): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  writeJsonAtomic(file, content, 0o600, 'registry.auth')
  chmodSync(file, 0o600)
}

/** Store credentials for `registry` in the login file; returns that file. */
export function saveCredentials(registry: string, creds: Credentials, env = process.env): string {
  const file = loginFile(env)
  const content = readAuthFile(file)
  const key = registry === DEFAULT_REGISTRY ? HUB_KEYS[0] : registry
  content.auths = { ...content.auths, [key]: { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') } }
  writeAuthFile(file, content)
  return file
}

/** Remove `registry`'s credentials from every auth file; returns the files changed. */
export function removeCredentials(registry: string, env = process.env): string[] {
  const changed: string[] = []
  for (const file of authFiles(env)) {
    const content = readAuthFile(file)
    const keys = keysFor(registry).filter(k => content.auths?.[k])
    if (keys.length === 0) continue
    for (const k of keys) delete content.auths![k]
    writeAuthFile(file, content)
    changed.push(file)
  }
  return changed
}
