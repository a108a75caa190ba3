// The downward API's references (core/v1 ObjectFieldSelector and
// ResourceFieldSelector): which field paths env and downwardAPI volumes may
// name, resourceFieldRef validation and values as kubelet computes them
// (pkg/api/v1/resource ExtractContainerResourceValue: ceil(value / divisor),
// an unset limit read as the node's allocatable). Pure.
import type { Checker } from './checker.js'
import { parseQuantity } from './quantity.js'
import type { ContainerSpec, PodSpec, ResourceFieldRef } from './types.js'

/** Field paths an env var may name (validEnvDownwardAPIFieldPathExpressions, plus one label or annotation). */
export const ENV_FIELD_PATHS =
  /^(metadata\.(name|namespace|uid)|metadata\.(labels|annotations)\['[^']+'\]|status\.(podIP|podIPs|hostIP|hostIPs)|spec\.(nodeName|serviceAccountName))$/
/** Field paths a downwardAPI volume file may name (validVolumeDownwardAPIFieldPathExpressions). */
export const VOLUME_FIELD_PATHS = /^(metadata\.(name|namespace|uid|labels|annotations)|metadata\.(labels|annotations)\['[^']+'\])$/

const RESOURCES = ['limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage']
const HUGEPAGES = /^(limits|requests)\.hugepages-\d+(Ki|Mi|Gi)$/
const NANO = 1_000_000_000n
/** Divisors Kubernetes accepts for memory, ephemeral-storage and huge pages: 1, 1k..1E, 1Ki..1Ei. */
const BYTE_DIVISORS = new Set<bigint>([1n, ...[3n, 6n, 9n, 12n, 15n, 18n].map(e => 10n ** e), ...[10n, 20n, 30n, 40n, 50n, 60n].map(e => 1n << e)])

/** Check a `resourceFieldRef` object at `path`; `volume`: containerName is required there. */
export function parseResourceFieldRef(c: Checker, v: unknown, path: string, volume: boolean): ResourceFieldRef | undefined {
  const o = c.obj(v, path)
  if (!o) return undefined
  c.fields(o, path, ['containerName', 'resource', 'divisor'])
  const containerName = c.str(o.containerName, `${path}.containerName`, volume)
  const resource = c.str(o.resource, `${path}.resource`, true)
  if (resource && !RESOURCES.includes(resource) && !HUGEPAGES.test(resource)) {
    c.fail(`${path}.resource`, `"${resource}" is not supported: one of ${RESOURCES.join(', ')}, or limits.hugepages-<size> / requests.hugepages-<size>`)
    return undefined
  }
  let divisor = '1'
  if (o.divisor !== undefined && o.divisor !== null) {
    const q = c.quantity(o.divisor, `${path}.divisor`)
    if (!q) return undefined
    divisor = q.nanos === 0n ? '1' : String(o.divisor) // 0 means unset, as in Kubernetes
    if (resource && q.nanos !== 0n) {
      if (resource.endsWith('.cpu')) {
        if (q.nanos !== NANO / 1000n && q.nanos !== NANO)
          c.fail(`${path}.divisor`, `${JSON.stringify(o.divisor)}: only divisor's values 1m and 1 are supported with the cpu resource`)
      } else if (q.nanos % NANO !== 0n || !BYTE_DIVISORS.has(q.nanos / NANO)) {
        c.fail(
          `${path}.divisor`,
          `${JSON.stringify(o.divisor)}: only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei ` +
            `are supported with the ${resource.split('.')[1]} resource`,
        )
      }
    }
  }
  return resource && (containerName !== undefined || !volume) ? { ...(containerName ? { containerName } : {}), resource, divisor } : undefined
}

/** The node's allocatable: what a resourceFieldRef to an unset limit reports. */
export interface NodeAllocatable {
  cpuMilli: number
  memoryBytes: number
  ephemeralStorageBytes: number
}

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b

/**
 * A container's limit or request in `divisor` units, rounded up, as kubelet
 * gives it to env and downwardAPI files. `self` is the container a ref without
 * containerName means.
 */
export function resourceValue(pod: PodSpec, ref: ResourceFieldRef, self: ContainerSpec | undefined, allocatable: NodeAllocatable | undefined): string {
  const c = ref.containerName ? [...pod.containers, ...pod.initContainers].find(x => x.name === ref.containerName) : self
  if (!c) return ''
  const [kind, name] = ref.resource.split('.') as ['limits' | 'requests', string]
  const list = c.resources[kind]
  const divisor = parseQuantity(ref.divisor)?.nanos || NANO
  // Kubernetes fills an unset limit with the node's allocatable (cpu, memory, ephemeral-storage); an unset request is 0.
  const node = kind === 'limits' ? allocatable : undefined
  if (name === 'cpu') return String(ceilDiv(BigInt(list.cpuMilli ?? node?.cpuMilli ?? 0), divisor / 1_000_000n || 1n))
  const bytes =
    name === 'memory'
      ? (list.memoryBytes ?? node?.memoryBytes)
      : name === 'ephemeral-storage'
        ? (list.ephemeralStorageBytes ?? node?.ephemeralStorageBytes)
        : list.hugepages[name.slice('hugepages-'.length)]
  return String(ceilDiv(BigInt(bytes ?? 0), divisor / NANO))
}

/** Go's %q (strconv.Quote) for the label and annotation values of the downward API's map format. */
export function goQuote(s: string): string {
  const esc: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\', '"': '\\"' }
  let out = '"'
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    if (esc[ch]) out += esc[ch]
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`
    else if ((cp >= 0x80 && cp < 0xa0) || cp === 0xfeff) out += `\\u${cp.toString(16).padStart(4, '0')}`
    else out += ch
  }
  return out + '"'
}

/** A labels or annotations map as the downward API writes it: sorted `key="value"` lines (fieldpath.FormatMap). */
export function formatMap(map: Record<string, string>): string {
  return Object.keys(map)
    .sort()
    .map(k => `${k}=${goQuote(map[k])}`)
    .join('\n')
}
