// A client for one repository of an OCI distribution registry
// (distribution-spec): the first request (a manifest) finds the endpoint
// that answers, then manifests and blobs, authenticating as the registry
// asks when it answers 401 (as containerd, without a /v2/ ping): Bearer
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

  /** A path of the API (`/v2/...`) on endpoint `ep` reached at `base`. */
  private urlAt(ep: Endpoint, base: URL, path: string): URL {
    return new URL(ep.apiRoot + path.replace(/^\/v2/, ''), base)
  }

  /**
   * The first exchange: GET `path` on each endpoint in turn (HTTPS, then HTTP
   * where allowed) and keep the first that answers as a registry. As
   * containerd does, there is no `/v2/` ping first: a 401 to this request
   * carries the challenge. Only an answer other than 200 or 401 costs a
   * `/v2/` ping, to tell a registry's own answer (a 404 for an unknown tag)
   * from a server that is no registry; a 401 to the ping keeps its challenge
   * (for get). Network failures here are the step `registry.ping` (the
   * registry could not be reached).
   */
  private async discover(path: string, headers: Record<string, string>): Promise<IncomingMessage> {
    let last: unknown
    for (const ep of endpointsFor(this.o.registry, this.o.config).filter(e => e.resolve || this.o.byDigest)) {
      const o = this.http('registry.ping', ep)
      const httpsFirst = ep.base.protocol === 'https:' && ep.allowHttp
      const plain = httpsFirst ? new URL(ep.base.href.replace(/^https:/, 'http:')) : undefined
      // May it be plain HTTP? Then it is asked whether it speaks TLS at all, without the trust store,
      // and the plain-HTTP request goes out at the same time (it carries no credentials: those are
      // sent only after a challenge; nor is it sent when hosts.toml adds headers); its answer is used
      // only when the registry does not speak TLS.
      let early = plain && !ep.headers && !headers.Authorization ? fetchUrl(this.urlAt(ep, plain, path), o, headers) : undefined
      early?.catch(() => {}) // awaited below, or dropped
      const drop = () => {
        early?.then(
          r => r.res.destroy(),
          () => {},
        )
        early = undefined
      }
      try {
        for (const base of plain ? [ep.base, plain] : [ep.base]) {
          try {
            let res: IncomingMessage
            if (base === plain && early) {
              res = (await early).res
              early = undefined
            } else {
              if (base === ep.base && plain) {
                await tlsHandshake(base, o)
                drop() // it speaks TLS: the request goes over HTTPS
              }
              res = (await fetchUrl(this.urlAt(ep, base, path), o, headers)).res
            }
            let ping = res.statusCode
            if (ping !== 200 && ping !== 401) {
              try {
                const answer = await this.ping(ep, base, o)
                ping = answer.status
                this.challenge = answer.challenge ?? this.challenge
              } catch (e) {
                res.destroy() // the first answer is not read
                throw e
              }
            }
            if (ping === 200 || ping === 401) {
              this.endpoint = { ...ep, base }
              return res
            }
            res.resume()
            last = new PodError(`registry.ping: ${this.o.image}: ${base.host}/v2/ answered ${ping}: not an OCI distribution registry`, {
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
      } finally {
        drop()
      }
    }
    throw last
  }

  /** The status `base` answers `/v2/` with (a registry's is 200, or 401 with a challenge), and that challenge. */
  private async ping(ep: Endpoint, base: URL, o: ReturnType<RegistryClient['http']>): Promise<{ status?: number; challenge?: Challenge }> {
    const { res } = await fetchUrl(new URL(`${ep.apiRoot}/`, base), o)
    res.resume()
    return { status: res.statusCode, challenge: res.statusCode === 401 ? parseChallenge(res.headers['www-authenticate']) : undefined }
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

  /**
   * GET a registry path with auth, retrying once after a 401 challenge, or,
   * with credentials, after a 403 or 404 when the `/v2/` ping asked for them
   * (a registry that hides private repositories from anonymous requests).
   */
  async get(path: string, step: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
    for (let attempt = 0; ; attempt++) {
      const h = { ...headers, ...(this.authorization ? { Authorization: this.authorization } : {}) }
      const res = this.endpoint ? (await fetchUrl(this.urlOf(path), this.http(step), h)).res : await this.discover(path, h)
      if ((res.statusCode === 403 || res.statusCode === 404) && attempt === 0 && this.creds && !this.authorization && this.challenge) {
        res.resume()
        await this.authorize(this.challenge)
        continue
      }
      if (res.statusCode !== 401) return res
      res.resume()
      if (attempt > 0) throw this.unauthorized(`access denied (401)${this.creds ? '' : ' to anonymous users'}`, !!this.creds)
      this.challenge = parseChallenge(res.headers['www-authenticate']) ?? this.challenge
      await this.authorize(this.challenge)
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
