// A client for one repository of an OCI distribution registry
// (distribution-spec): /v2/ ping on the first endpoint that answers,
// then manifests and blobs, authenticating as the registry asks: Bearer
// (token from the realm, anonymous or with credentials) or Basic.
import type { IncomingMessage } from 'node:http'
import { PodError } from '../../../errors.js'
import { parseChallenge, type Challenge } from './challenge.js'
import { type Credentials, findCredentials } from './credentials.js'
import { endpointsFor, registriesFile, type Endpoint, type RegistriesConfig } from './hosts.js'
import { fetchUrl, readBody, tlsHandshake, UNREACHABLE } from './http.js'

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024
const MAX_TOKEN_BYTES = 1024 * 1024

export interface ClientOptions {
  registry: string
  repository: string
  /** The image as the user named it, for messages. */
  image: string
  config: RegistriesConfig
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
  /** Credentials given on the command line (login), instead of the auth files. */
  credentials?: Credentials
  /** A pull by digest: hosts.toml hosts without the "resolve" capability may serve it. */
  byDigest?: boolean
}

interface RegistryErrorBody {
  errors?: { code?: string; message?: string }[]
}

/** `manifest unknown` etc. from a distribution error body, else the HTTP status. */
async function reasonOf(res: IncomingMessage): Promise<{ code?: string; text: string }> {
  let body: RegistryErrorBody = {}
  try {
    body = JSON.parse((await readBody(res, 64 * 1024, { step: 'registry', object: '', what: 'error' })).toString('utf8')) as RegistryErrorBody
  } catch {}
  const first = body.errors?.[0]
  const status = `${res.statusCode} ${res.statusMessage ?? ''}`.trim()
  return first?.message ? { code: first.code, text: `${first.message} (${status})` } : { text: status }
}

export class RegistryClient {
  private endpoint?: Endpoint
  private challenge?: Challenge
  private authorization?: string
  private readonly creds?: Credentials

  constructor(private readonly o: ClientOptions) {
    this.creds = o.credentials ?? findCredentials(o.registry, o.repository, o.env)
  }

  private http(step: string, ep = this.endpoint) {
    return { step, object: this.o.image, ca: ep?.ca, cert: ep?.cert, skipVerify: ep?.skipVerify, headers: ep?.headers, timeoutMs: this.o.timeoutMs }
  }

  /** GET /v2/ on each endpoint in turn (HTTPS, then HTTP where allowed); remembers the challenge. */
  async ping(): Promise<Endpoint> {
    if (this.endpoint) return this.endpoint
    let last: unknown
    for (const ep of endpointsFor(this.o.registry, this.o.config).filter(e => e.resolve || this.o.byDigest)) {
      const bases = ep.base.protocol === 'https:' && ep.allowHttp ? [ep.base, new URL(ep.base.href.replace(/^https:/, 'http:'))] : [ep.base]
      for (const base of bases) {
        try {
          const o = this.http('registry.ping', ep)
          // May it be plain HTTP? Then ask first whether it speaks TLS at all, without the trust store.
          if (base.protocol === 'https:' && ep.allowHttp) await tlsHandshake(base, o)
          const { res } = await fetchUrl(new URL(`${ep.apiRoot}/`, base), o)
          res.resume()
          if (res.statusCode === 200 || res.statusCode === 401) {
            this.endpoint = { ...ep, base }
            if (res.statusCode === 401) this.challenge = parseChallenge(res.headers['www-authenticate'])
            return this.endpoint
          }
          last = new PodError(`registry.ping: ${this.o.image}: ${base.host}/v2/ answered ${res.statusCode}: not an OCI distribution registry`, {
            step: 'registry.ping',
            code: 'REGISTRY_NOT_V2',
          })
        } catch (e) {
          last = e
          // HTTPS refused by a plain-HTTP registry (EPROTO): try HTTP where that is allowed; a bad certificate is reported.
          const code = (e as PodError).code ?? ''
          if (code === 'EPROTO' && /wrong version number/.test((e as Error).message) && base.protocol === 'https:' && !ep.allowHttp)
            last = this.plainHttpRefused(base, e)
          if (code !== 'EPROTO' && code !== 'ECONNRESET' && !UNREACHABLE.has(code)) throw e
        }
      }
    }
    throw last
  }

  /**
   * Get a token (Bearer) or build the Basic header, for pulling this
   * repository. A registry token is sent as it is; an identity token is
   * exchanged at the token service for an access token (OAuth2 refresh_token
   * grant, as docker does).
   */
  private async authorize(challenge: Challenge | undefined): Promise<void> {
    const c = challenge ?? this.challenge
    if (!c) return
    if (this.creds?.registryToken) {
      this.authorization = `Bearer ${this.creds.registryToken}`
      return
    }
    if (this.creds?.identityToken && c.scheme !== 'bearer')
      throw this.unauthorized(`an identity token needs token authentication, and the registry asks for "${c.scheme}"`, true)
    const basic = this.creds ? `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64')}` : undefined
    if (c.scheme === 'basic') {
      if (!basic) throw this.unauthorized('the registry wants a user name and password', false)
      this.authorization = basic
      return
    }
    if (c.scheme !== 'bearer' || !c.params.realm) throw this.unauthorized(`unsupported authentication scheme "${c.scheme}"`, false)
    const url = new URL(c.params.realm)
    if (c.params.service) url.searchParams.set('service', c.params.service)
    const scope = c.params.scope ?? (this.o.repository ? `repository:${this.o.repository}:pull` : undefined)
    if (scope) url.searchParams.set('scope', scope)
    const { res } = await this.tokenRequest(url, basic)
    if (res.statusCode === 401 || res.statusCode === 403) {
      res.resume()
      throw this.unauthorized(`the token service ${url.host} refused ${this.creds ? 'the credentials' : 'anonymous access'} (${res.statusCode})`, !!this.creds)
    }
    if (res.statusCode !== 200) throw this.unauthorized(`the token service ${url.host} answered ${(await reasonOf(res)).text}`, false)
    const body = await readBody(res, MAX_TOKEN_BYTES, { step: 'registry.auth', object: this.o.image, what: 'token response' })
    let token: string | undefined
    try {
      const j = JSON.parse(body.toString('utf8')) as { token?: string; access_token?: string }
      token = j.token ?? j.access_token
    } catch {}
    if (!token) throw this.unauthorized(`the token service ${url.host} sent no token`, false)
    this.authorization = `Bearer ${token}`
  }

  /** GET the realm (anonymous or Basic), or POST a refresh_token grant for an identity token. */
  private tokenRequest(url: URL, basic: string | undefined) {
    // The token service is another host: the registry's headers and client certificate are not for it.
    const o = { ...this.http('registry.auth'), headers: undefined, cert: undefined }
    const refresh = this.creds?.identityToken
    if (!refresh) return fetchUrl(url, o, basic ? { Authorization: basic } : {})
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh, client_id: 'pod-launch' })
    for (const k of ['service', 'scope']) if (url.searchParams.has(k)) form.set(k, url.searchParams.get(k)!)
    const body = Buffer.from(form.toString())
    return fetchUrl(
      new URL(url.origin + url.pathname),
      { ...o, method: 'POST', body },
      {
        'Content-Type': 'application/x-www-form-urlencoded',
        'Content-Length': String(body.length),
      },
    )
  }

  /** Docker's rule: plain HTTP only for loopback registries and those the user marks insecure. */
  private plainHttpRefused(base: URL, cause: unknown): PodError {
    const why = `${base.host} does not speak HTTPS (TLS handshake: wrong version number)`
    return new PodError(`registry.ping: ${this.o.image}: ${why}, and plain HTTP is used only for loopback registries and those marked insecure`, {
      step: 'registry.ping',
      code: 'REGISTRY_PLAIN_HTTP',
      cause,
      hint: `if you trust the network to it, list "${base.host}" under "insecure" in ${registriesFile()} (docs/images.md)`,
    })
  }

  private unauthorized(reason: string, badCreds: boolean): PodError {
    const host = this.endpoint?.base.host ?? this.o.registry
    return new PodError(`registry.auth: ${this.o.image}: ${reason}`, {
      step: 'registry.auth',
      code: 'REGISTRY_UNAUTHORIZED',
      hint:
        badCreds || this.creds
          ? `the stored credentials for ${this.o.registry} were refused: pod-launch image login ${this.o.registry} again`
          : `log in first: pod-launch image login ${host === this.o.registry ? host : this.o.registry}`,
    })
  }

  /** GET a registry path with auth, retrying once after a 401 challenge. */
  async get(path: string, step: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
    const ep = await this.ping()
    if (!this.authorization && this.challenge) await this.authorize(undefined)
    for (let attempt = 0; ; attempt++) {
      const { res } = await fetchUrl(this.urlOf(path), this.http(step, ep), {
        ...headers,
        ...(this.authorization ? { Authorization: this.authorization } : {}),
      })
      if (res.statusCode !== 401) return res
      res.resume()
      if (attempt > 0) throw this.unauthorized(`access denied (401)${this.creds ? '' : ' to anonymous users'}`, !!this.creds)
      await this.authorize(parseChallenge(res.headers['www-authenticate']) ?? this.challenge)
    }
  }

  /** Throw for a response that is not 200, with the registry's reason. */
  async expectOk(res: IncomingMessage, step: string, what: string): Promise<void> {
    if (res.statusCode === 200) return
    const r = await reasonOf(res)
    const code = res.statusCode === 404 ? (r.code ?? 'NOT_FOUND') : `HTTP_${res.statusCode}`
    throw new PodError(`${step}: ${this.o.image}: ${what}: ${r.text}`, {
      step,
      code,
      hint:
        res.statusCode === 404
          ? 'check the repository and tag (or digest) exist on that registry'
          : res.statusCode === 403
            ? `log in with an account that may pull it: pod-launch image login ${this.o.registry}`
            : undefined,
    })
  }

  /** For login: authenticate against /v2/ itself (no repository scope); throws REGISTRY_UNAUTHORIZED. */
  async checkLogin(): Promise<void> {
    const res = await this.get('/v2/', 'registry.auth')
    res.resume()
    if (res.statusCode !== 200) throw this.unauthorized(`/v2/ answered ${res.statusCode}`, true)
  }

  /** The absolute URL of an API path (`/v2/...`) on the endpoint in use (after ping). */
  urlOf(path: string): URL {
    const ep = this.endpoint
    return ep ? new URL(ep.apiRoot + path.replace(/^\/v2/, ''), ep.base) : new URL(path, `https://${this.o.registry}`)
  }

  get repositoryPath(): string {
    return `/v2/${this.o.repository}`
  }
}
