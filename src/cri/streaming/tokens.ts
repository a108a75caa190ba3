// One-shot URLs: GetExec/GetAttach/GetPortForward park the request under a
// random token that the first request to its URL consumes, within a minute
// (kubelet's and containerd's streaming servers do the same).
import { randomBytes } from 'node:crypto'
import { PodError } from '../../errors.js'
import type { AttachRequest, ExecRequest, PortForwardRequest } from './types.js'

export type Parked = { kind: 'exec'; req: ExecRequest } | { kind: 'attach'; req: AttachRequest } | { kind: 'portforward'; req: PortForwardRequest }

export const TOKEN_TTL_MS = 60_000
export const MAX_IN_FLIGHT = 1000

export class RequestCache {
  private readonly entries = new Map<string, { parked: Parked; expires: number }>()

  constructor(
    private readonly ttlMs = TOKEN_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Park a request; throws `streaming.token` when too many wait. */
  insert(parked: Parked): string {
    this.gc()
    if (this.entries.size >= MAX_IN_FLIGHT) {
      throw new PodError(`streaming.token: ${MAX_IN_FLIGHT} streaming requests wait already`, {
        step: 'streaming.token',
        code: 'EAGAIN',
        hint: 'connect to the URLs handed out, or wait a minute for them to expire',
      })
    }
    let token: string
    do token = randomBytes(6).toString('base64url')
    while (this.entries.has(token))
    this.entries.set(token, { parked, expires: this.now() + this.ttlMs })
    return token
  }

  /** The request behind `token`, once: undefined when unknown, used or expired. */
  consume(token: string): Parked | undefined {
    const e = this.entries.get(token)
    if (!e) return undefined
    this.entries.delete(token)
    return this.now() > e.expires ? undefined : e.parked
  }

  get size(): number {
    this.gc()
    return this.entries.size
  }

  private gc(): void {
    const now = this.now()
    for (const [token, e] of this.entries) if (now > e.expires) this.entries.delete(token)
  }
}
