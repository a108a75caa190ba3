// Which pods `ps` lists: kubectl's label selectors (-l: `a=b,c!=d,e in (x,y),
// f notin (z),g,!h`) and podman's --filter (name=, id=, label=, phase= /
// status=, namespace=; one key given twice matches either, different keys
// must all match). Pure.
import { PodError } from '../errors.js'
import { closestName } from '../spec/suggest.js'
import { isAlive } from '../state/proc.js'
import { displayPhase } from '../state/record.js'
import { type PodRef } from '../state/resolve.js'

type Requirement =
  { key: string; op: 'exists' | '!exists' } | { key: string; op: 'in' | 'notin'; values: string[] } | { key: string; op: '=' | '!='; value: string }

export type Selector = Requirement[]

const bad = (what: string, s: string, why: string, hint: string) =>
  new PodError(`select.${what}: ${JSON.stringify(s)}: ${why}`, { step: `select.${what}`, code: 'EINVAL', exitCode: 2, hint })

const SELECTOR_HINT = 'kubectl label selectors: key=value, key!=value, key in (a,b), key notin (a,b), key, !key; joined by commas'
const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/

/** Split at commas outside parentheses. */
function terms(s: string): string[] {
  const out: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of s) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      out.push(cur)
      cur = ''
    } else cur += ch
  }
  out.push(cur)
  return out.map(t => t.trim())
}

/** Parse a label selector; throws `select.selector` (exit 2) naming the term. */
export function parseSelector(s: string): Selector {
  const out: Selector = []
  for (const t of terms(s)) {
    if (t === '') continue
    let m: RegExpExecArray | null
    let req: Requirement
    if ((m = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(t))) {
      const values = m[3].split(',').map(v => v.trim())
      if (values.some(v => v === '')) throw bad('selector', t, 'an empty value in the set', SELECTOR_HINT)
      req = { key: m[1], op: m[2] as 'in' | 'notin', values }
    } else if ((m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(t))) req = { key: m[1], op: m[2] === '!=' ? '!=' : '=', value: m[3] }
    else if ((m = /^!\s*(\S+)$/.exec(t))) req = { key: m[1], op: '!exists' }
    else if (/^\S+$/.test(t)) req = { key: t, op: 'exists' }
    else throw bad('selector', t, 'not a requirement', SELECTOR_HINT)
    if (!KEY.test(req.key)) throw bad('selector', t, `${JSON.stringify(req.key)} is not a label key`, SELECTOR_HINT)
    out.push(req)
  }
  return out
}

export function matchesSelector(labels: Record<string, string>, sel: Selector): boolean {
  return sel.every(r => {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key)
    const v = labels[r.key]
    switch (r.op) {
      case 'exists':
        return has
      case '!exists':
        return !has
      case '=':
        return has && v === r.value
      case '!=':
        return !has || v !== r.value
      case 'in':
        return has && r.values.includes(v)
      case 'notin':
        return !has || !r.values.includes(v)
    }
  })
}

const FILTER_KEYS = ['name', 'id', 'label', 'phase', 'status', 'namespace'] as const
const FILTER_HINT =
  `filters: ${FILTER_KEYS.map(k => `${k}=...`).join(', ')} ` + '(label=KEY or label=KEY=VALUE; phase: Pending, Running, Succeeded, Failed, Unknown)'

/** One --filter: a predicate on a pod. */
function filterOf(f: string): [string, (p: PodRef) => boolean] {
  const i = f.indexOf('=')
  const key = i < 0 ? f : f.slice(0, i)
  const value = i < 0 ? '' : f.slice(i + 1)
  if (!(FILTER_KEYS as readonly string[]).includes(key)) {
    const near = closestName(key, [...FILTER_KEYS])
    throw bad('filter', f, `unknown filter${near ? ` (did you mean "${near}"?)` : ''}`, FILTER_HINT)
  }
  if (i < 0 || value === '') throw bad('filter', f, 'a value is required', FILTER_HINT)
  const r = (p: PodRef) => p.record
  switch (key) {
    case 'name': {
      // podman matches names as a regular expression.
      let re: RegExp
      try {
        re = new RegExp(value)
      } catch (e) {
        throw bad('filter', f, (e as Error).message, FILTER_HINT)
      }
      return [key, p => re.test(r(p)?.name ?? '')]
    }
    case 'id':
      return [key, p => p.id.startsWith(value)]
    case 'namespace':
      return [key, p => r(p)?.namespace === value]
    case 'label': {
      const sel = parseSelector(value)
      return [key, p => matchesSelector(r(p)?.spec.labels ?? {}, sel)]
    }
    default: {
      const want = value.toLowerCase()
      return [key === 'status' ? 'phase' : key, p => (r(p) ? displayPhase(r(p)!, isAlive(r(p)!.supervisor)) : 'Unknown').toLowerCase() === want]
    }
  }
}

/** The pods that match the selector and every filter key (a key given twice: either value). */
export function selectPods(pods: PodRef[], opts: { selector?: string; filters?: string[] }): PodRef[] {
  const sel = opts.selector !== undefined ? parseSelector(opts.selector) : undefined
  const byKey = new Map<string, ((p: PodRef) => boolean)[]>()
  for (const f of opts.filters ?? []) {
    const [key, pred] = filterOf(f)
    byKey.set(key, [...(byKey.get(key) ?? []), pred])
  }
  return pods.filter(p => (!sel || matchesSelector(p.record?.spec.labels ?? {}, sel)) && [...byKey.values()].every(preds => preds.some(pred => pred(p))))
}
