// Durations as kubectl takes them (Go's time.ParseDuration: `300ms`, `30s`,
// `5m`, `1h30m`, `1.5h`); a bare number is seconds. Pure.
import { PodError } from '../errors.js'

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Milliseconds of a duration; throws `<option>: ...` (exit 2) for anything else. */
export function parseDuration(s: string, option: string): number {
  const text = s.trim()
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text) * 1000
  const sign = text.startsWith('-') ? -1 : 1
  const body = text.replace(/^[-+]/, '')
  const parts = [...body.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)]
  if (body === '' || parts.map(p => p[0]).join('') !== body) {
    throw new PodError(`${option}: ${JSON.stringify(s)}: not a duration`, {
      step: option.replace(/^--/, 'cli.'),
      code: 'EINVAL',
      exitCode: 2,
      hint: 'a number with a unit: 300ms, 30s, 5m, 1h30m',
    })
  }
  return sign * parts.reduce((ms, p) => ms + Number(p[1]) * UNITS[p[2]], 0)
}
