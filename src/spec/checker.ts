// Collects every problem of a manifest by field path, and every field present
// that pod-launch does not honour (reported in one warning, never dropped).
import { parseQuantity, type Quantity } from './quantity.js'
import { closestName } from './suggest.js'
import type { SpecProblem } from './types.js'

export type Obj = Record<string, unknown>
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
/** An env var name (the API server's IsEnvVarName). */
export const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/
/** A key of a ConfigMap or Secret (IsConfigMapKey): also the default file name in a volume. */
export const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/

export class Checker {
  problems: SpecProblem[] = []
  unsupported: string[] = []
  /** Strict (kubectl's default): an unknown field is a problem, with the nearest known one; else a warning. */
  constructor(readonly strict = false) {}

  fail(path: string, message: string): void {
    this.problems.push({ path, message })
  }

  /** Report fields of `o` outside `known`; `later` maps fields we know but do not honour yet to why. */
  fields(o: Obj, path: string, known: string[], later: Record<string, string> = {}): void {
    for (const k of Object.keys(o)) {
      const p = path ? `${path}.${k}` : k
      if (k in later) this.unsupported.push(`${p} (${later[k]})`)
      else if (known.includes(k)) continue
      else if (!this.strict) this.unsupported.push(`${p} (unknown field)`)
      else {
        const near = closestName(k, [...known, ...Object.keys(later)])
        this.fail(p, `unknown field${near ? ` (did you mean "${near}"?)` : ''}`)
      }
    }
  }

  obj(v: unknown, path: string, required = false): Obj | undefined {
    if (v === undefined || v === null) {
      if (required) this.fail(path, 'required')
      return undefined
    }
    if (!isObj(v)) this.fail(path, 'must be an object')
    return isObj(v) ? v : undefined
  }

  list(v: unknown, path: string): unknown[] {
    if (v === undefined || v === null) return []
    if (!Array.isArray(v)) {
      this.fail(path, 'must be a list')
      return []
    }
    return v
  }

  str(v: unknown, path: string, required = false): string | undefined {
    if (v === undefined || v === null) {
      if (required) this.fail(path, 'required')
      return undefined
    }
    if (typeof v !== 'string') {
      this.fail(path, `must be a string, not ${JSON.stringify(v)}`)
      return undefined
    }
    if (required && v === '') this.fail(path, 'required (empty)')
    return v
  }

  bool(v: unknown, path: string, dflt: boolean): boolean {
    if (v === undefined || v === null) return dflt
    if (typeof v !== 'boolean') {
      this.fail(path, `must be true or false, not ${JSON.stringify(v)}`)
      return dflt
    }
    return v
  }

  int(v: unknown, path: string, min: number, max: number): number | undefined {
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(path, `must be an integer between ${min} and ${max}, not ${JSON.stringify(v)}`)
      return undefined
    }
    return v
  }

  oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[], dflt: T): T {
    if (v === undefined || v === null) return dflt
    if (!allowed.includes(v as T)) {
      this.fail(path, `must be one of ${allowed.map(a => `"${a}"`).join(', ')}, not ${JSON.stringify(v)}`)
      return dflt
    }
    return v as T
  }

  strArray(v: unknown, path: string): string[] | undefined {
    if (v === undefined || v === null) return undefined
    if (!Array.isArray(v) || v.some(s => typeof s !== 'string')) {
      this.fail(path, 'must be a list of strings')
      return undefined
    }
    return v as string[]
  }

  strMap(v: unknown, path: string): Record<string, string> {
    const o = this.obj(v, path)
    if (!o) return {}
    // No prototype: a key such as `__proto__` or `constructor` is data like any other.
    const out: Record<string, string> = Object.create(null)
    for (const [k, val] of Object.entries(o)) {
      if (typeof val !== 'string') this.fail(`${path}.${k}`, `must be a string, not ${JSON.stringify(val)}`)
      else out[k] = val
    }
    return out
  }

  dnsLabel(v: string, path: string): void {
    if (v.length > 63) this.fail(path, `"${v}" must be no more than 63 characters`)
    else if (!DNS1123_LABEL.test(v)) {
      this.fail(path, `"${v}" must be a DNS-1123 label: lower case letters, digits and '-', starting and ending with a letter or digit`)
    }
  }

  /** An object name (metadata.name, a reference to a ConfigMap or Secret): a DNS-1123 subdomain. */
  subdomain(v: string, path: string): void {
    if (v.length > 253) this.fail(path, 'must be no more than 253 characters')
    else if (!DNS1123_SUBDOMAIN.test(v)) this.fail(path, `"${v}" must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.'`)
  }

  /** A ConfigMap or Secret key, as IsConfigMapKey checks it. */
  configKey(v: string, path: string): void {
    if (v.length > 253) this.fail(path, 'must be no more than 253 characters')
    else if (!CONFIG_KEY.test(v)) this.fail(path, `"${v}" must consist of alphanumeric characters, '-', '_' or '.'`)
    else if (v === '.' || v === '..' || v.startsWith('..')) this.fail(path, `"${v}" must not be '.' or '..', nor start with '..'`)
  }

  /** A file mode of a volume (defaultMode, items[].mode): 0 to 0777, as octal 0644 or decimal 420. */
  mode(v: unknown, path: string): number | undefined {
    return this.int(v, path, 0, 0o777)
  }

  /** A file path inside a volume (items[].path): relative, no '..' element, not starting with '..'. */
  relPath(v: string, path: string): void {
    if (v.startsWith('/') || v.split('/').includes('..') || v.startsWith('..'))
      this.fail(path, `"${v}" must be a relative path without '..' and must not start with '..'`)
  }

  absPath(v: string | undefined, path: string): void {
    if (v !== undefined && !v.startsWith('/')) this.fail(path, `"${v}" must be an absolute path`)
  }

  quantity(v: unknown, path: string): Quantity | undefined {
    if (v === undefined || v === null) return undefined
    const q = parseQuantity(v)
    if (!q) this.fail(path, `${JSON.stringify(v)} is not a quantity (e.g. 512Mi, 1G, 250m, 0.5)`)
    else if (q.nanos < 0n) this.fail(path, `${JSON.stringify(v)} must not be negative`)
    return q && q.nanos >= 0n ? q : undefined
  }
}
