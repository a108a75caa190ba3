// Output formats, as kubectl's -o: json, yaml, wide (the table with more
// columns) and name (`kind/name` per line); no -o: the table. `--json` stays
// the short form of -o json.
import { createRequire } from 'node:module'
import type { Argv } from 'yargs'
import type { Io } from './output.js'

export type Format = 'table' | 'wide' | 'json' | 'yaml' | 'name'
const FORMATS = ['json', 'yaml', 'wide', 'name'] as const

/** `-o/--output` and `--json` on a command (`json`: what --json prints, if not -o json's). */
export function outputOptions(y: Argv, what: string, json = 'the same as -o json'): Argv {
  return y
    .option('output', { alias: 'o', type: 'string', choices: FORMATS, describe: `json, yaml, wide (more columns) or name: ${what}` })
    .option('json', { type: 'boolean', describe: json })
}

export function formatOf(a: Record<string, unknown>): Format {
  return (a.output as Format | undefined) ?? (a.json ? 'json' : 'table')
}

/** YAML as kubectl prints it (block style, keys in the object's order). Loaded only when asked for. */
export function toYaml(value: unknown): string {
  const { stringify } = createRequire(import.meta.url)('yaml') as typeof import('yaml')
  return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false })
}

/** Print `value` as JSON or YAML. */
export function printData(io: Io, format: 'json' | 'yaml', value: unknown): void {
  io.out(format === 'yaml' ? toYaml(value) : JSON.stringify(value, null, 2) + '\n')
}

/** Kubernetes objects as `kubectl get -o json|yaml` prints several: a List. */
export function kubeList(items: unknown[]): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } }
}

/** How long ago, as kubectl's HumanDuration prints it in describe (`45s`, `2m30s`, `3h10m`, `5d`). */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  const m = Math.floor(s / 60)
  const h = Math.floor(m / 60)
  const d = Math.floor(h / 24)
  if (s < 120) return `${s}s`
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`
  if (m < 180) return `${m}m`
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`
  if (h < 48) return `${h}h`
  if (h < 192) return h % 24 ? `${d}d${h % 24}h` : `${d}d`
  if (d < 365 * 2) return `${d}d`
  return `${Math.floor(d / 365)}y`
}

/** kubectl get's short age: `45s`, `3m`, `5h`, `2d`. */
export function shortAge(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '-'
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000))
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : s < 172800 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86400)}d`
}
