// kubelet's restart backoff: 10 s, doubling, capped at 5 min; reset once a
// container ran for 10 min (2 x the cap) without exiting.

export interface BackoffOptions {
  initialMs: number
  maxMs: number
  /** A run at least this long resets the delay to `initialMs`. */
  resetAfterMs: number
}

export const KUBELET_BACKOFF: BackoffOptions = { initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 }

/** `--backoff 100ms` or `--backoff 1s,5s` (initial[,max]); the reset is 2 x max as in kubelet. */
export function parseBackoff(text: string): BackoffOptions | undefined {
  const parts = text.split(',').map(parseDurationMs)
  if (parts.length > 2 || parts.some(p => p === undefined)) return undefined
  const [initialMs, maxMs = Math.max(initialMs, KUBELET_BACKOFF.maxMs * (initialMs / KUBELET_BACKOFF.initialMs))] = parts as number[]
  if (maxMs < initialMs) return undefined
  return { initialMs, maxMs, resetAfterMs: 2 * maxMs }
}

export function parseDurationMs(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim())
  if (!m) return undefined
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm'])
}

export class Backoff {
  private delayMs = 0
  constructor(private readonly opts: BackoffOptions) {}

  /** Delay before the next restart, given how long the last run lasted. */
  next(ranForMs: number): number {
    if (ranForMs >= this.opts.resetAfterMs || this.delayMs === 0) this.delayMs = this.opts.initialMs
    else this.delayMs = Math.min(this.delayMs * 2, this.opts.maxMs)
    return this.delayMs
  }
}
