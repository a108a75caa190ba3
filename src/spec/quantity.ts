// Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource):
// <sign><digits>[.<digits>]<suffix>, suffix one of the binary SI (Ki Mi Gi Ti
// Pi Ei), decimal SI (n u m "" k M G T P E) or a decimal exponent (e3, E-2).
// Values are kept exact as a bigint numerator over 10^9 (nano units) so
// `0.1` cpu is exactly 100m and `512Mi` exactly 536870912.

const BINARY: Record<string, bigint> = { Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n }
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 }
const NANO = 1_000_000_000n
const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/

/** A parsed quantity: exact value in nano units (value * 10^9). */
export interface Quantity {
  text: string
  nanos: bigint
}

/** Parse a quantity string (or a number, as YAML gives for `cpu: 2`); undefined when invalid. */
export function parseQuantity(input: unknown): Quantity | undefined {
  const text = typeof input === 'number' && Number.isFinite(input) ? String(input) : input
  if (typeof text !== 'string') return undefined
  const m = QUANTITY.exec(text.trim())
  if (!m || text.trim() !== text) return undefined
  const [, sign, num, suffix = ''] = m
  const [intPart, fracPart = ''] = num.split('.')
  // value = (int.frac) * multiplier; keep everything as integers over 10^(frac digits)
  const digits = BigInt((intPart || '0') + fracPart)
  const fracDigits = fracPart.length
  let nanos: bigint
  if (suffix in BINARY) {
    nanos = (digits * BINARY[suffix] * NANO) / 10n ** BigInt(fracDigits)
  } else {
    const exp = suffix in DECIMAL ? DECIMAL[suffix] : Number(suffix.slice(1))
    if (!Number.isSafeInteger(exp) || Math.abs(exp) > 60) return undefined
    const shift = exp + 9 - fracDigits
    // Kubernetes rounds sub-nano precision up (away from zero): ceil.
    nanos = shift >= 0 ? digits * 10n ** BigInt(shift) : ceilDiv(digits, 10n ** BigInt(-shift))
  }
  return { text, nanos: sign === '-' ? -nanos : nanos }
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b
}

/** Whole units, rounded up as Kubernetes' Value() does (bytes for memory). */
export function quantityValue(q: Quantity): number {
  return Number(ceilDiv(q.nanos, NANO))
}

/** Milli-units, rounded up as Kubernetes' MilliValue() does (millicores for cpu). */
export function quantityMilli(q: Quantity): number {
  return Number(ceilDiv(q.nanos, 1_000_000n))
}

/** Bytes as Kubernetes would write them back: the largest binary suffix that divides them (`64Mi`, `600Ki`), else a plain number. */
export function formatBytes(bytes: number): string {
  for (const [suffix, n] of [
    ['Ti', 2 ** 40],
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const)
    if (bytes >= n && bytes % n === 0) return `${bytes / n}${suffix}`
  return String(bytes)
}
