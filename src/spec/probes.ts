// startupProbe, livenessProbe, readinessProbe (core/v1 Probe): validated and
// defaulted as the API server does, with named ports resolved against the
// container's own ports.
import type { Checker } from './checker.js'
import type { ContainerPort, Probe, ProbeHandler, ProbeKind } from './types.js'

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

export const PROBE_FIELDS = { startup: 'startupProbe', liveness: 'livenessProbe', readiness: 'readinessProbe' } as const

function nonNegative(c: Checker, v: unknown, path: string, dflt: number): number {
  // The API server defaults a zero (or unset) period, timeout and thresholds.
  const n = c.int(v, path, 0, 2 ** 31 - 1)
  return n === undefined || n === 0 ? dflt : n
}

function port(c: Checker, v: unknown, path: string, ports: ContainerPort[], namedOk: boolean): number | undefined {
  if (v === undefined || v === null) return (c.fail(path, 'required'), undefined)
  if (typeof v === 'string') {
    if (!namedOk) return (c.fail(path, `must be a number between 1 and 65535, not ${JSON.stringify(v)}`), undefined)
    const named = ports.find(p => p.name === v)
    if (!named) {
      const names = ports.filter(p => p.name).map(p => `"${p.name}"`)
      c.fail(path, `"${v}" is not the name of a port of this container (ports[].name: ${names.length ? names.join(', ') : 'none'})`)
      return undefined
    }
    return named.containerPort
  }
  return c.int(v, path, 1, 65535)
}

/** Where a network probe connects: the pod (undefined) or an address literal inside the pod's network namespace. */
function host(c: Checker, v: unknown, path: string): string | undefined {
  const h = c.str(v, path)
  if (h === undefined || h === '') return undefined
  const m = IPV4.exec(h)
  if (h === 'localhost') return '127.0.0.1'
  if ((m && m.slice(1).every(o => Number(o) <= 255)) || h === '::1') return h
  c.fail(path, `"${h}" must be an IP address: probes connect from inside the pod's network namespace and resolve no names (leave it unset for the pod)`)
  return undefined
}

function handler(c: Checker, o: Record<string, unknown>, path: string, ports: ContainerPort[]): ProbeHandler | undefined {
  const kinds = (['exec', 'httpGet', 'tcpSocket', 'grpc'] as const).filter(k => o[k] !== undefined && o[k] !== null)
  if (kinds.length === 0) return (c.fail(path, 'must specify a handler type: `exec`, `httpGet`, `tcpSocket` or `grpc`'), undefined)
  if (kinds.length > 1) return (c.fail(`${path}.${kinds[1]}`, `may not specify more than 1 handler type (also ${kinds[0]})`), undefined)
  const kind = kinds[0]
  const p = `${path}.${kind}`
  const h = c.obj(o[kind], p)
  if (!h) return undefined
  if (kind === 'exec') {
    c.fields(h, p, ['command'])
    const command = c.strArray(h.command, `${p}.command`)
    if (!command || command.length === 0) {
      c.fail(`${p}.command`, command ? 'must not be empty' : h.command === undefined ? 'required' : 'must be a list of strings')
      return undefined
    }
    return { kind, command }
  }
  if (kind === 'tcpSocket') {
    c.fields(h, p, ['port', 'host'])
    const n = port(c, h.port, `${p}.port`, ports, true)
    const addr = host(c, h.host, `${p}.host`)
    return n === undefined ? undefined : { kind, port: n, host: addr }
  }
  if (kind === 'grpc') {
    c.fields(h, p, ['port', 'service'])
    const n = port(c, h.port, `${p}.port`, ports, false)
    const service = c.str(h.service, `${p}.service`) ?? ''
    return n === undefined ? undefined : { kind, port: n, service }
  }
  c.fields(h, p, ['path', 'port', 'host', 'scheme', 'httpHeaders'])
  const n = port(c, h.port, `${p}.port`, ports, true)
  const addr = host(c, h.host, `${p}.host`)
  const urlPath = c.str(h.path, `${p}.path`) ?? '/'
  if (urlPath !== '' && !urlPath.startsWith('/')) c.fail(`${p}.path`, `"${urlPath}" must start with '/'`)
  const scheme = c.oneOf(h.scheme, `${p}.scheme`, ['HTTP', 'HTTPS'] as const, 'HTTP')
  const headers: { name: string; value: string }[] = []
  for (const [i, e] of c.list(h.httpHeaders, `${p}.httpHeaders`).entries()) {
    const hp = `${p}.httpHeaders[${i}]`
    const ho = c.obj(e, hp, true)
    if (!ho) continue
    c.fields(ho, hp, ['name', 'value'])
    const name = c.str(ho.name, `${hp}.name`, true)
    const value = c.str(ho.value, `${hp}.value`) ?? ''
    if (name && !HEADER_NAME.test(name)) c.fail(`${hp}.name`, `"${name}" is not a valid HTTP header name`)
    else if (/[\r\n]/.test(value)) c.fail(`${hp}.value`, 'must not contain a line break')
    else if (name) headers.push({ name, value })
  }
  return n === undefined ? undefined : { kind, path: urlPath || '/', port: n, host: addr, scheme, headers }
}

/** One probe of a container; undefined when absent or invalid (problems are in `c`). */
export function parseProbe(c: Checker, v: unknown, path: string, kind: ProbeKind, ports: ContainerPort[]): Probe | undefined {
  const o = c.obj(v, path)
  if (!o) return undefined
  c.fields(o, path, [
    'exec',
    'httpGet',
    'tcpSocket',
    'grpc',
    'initialDelaySeconds',
    'periodSeconds',
    'timeoutSeconds',
    'successThreshold',
    'failureThreshold',
    'terminationGracePeriodSeconds',
  ])
  const h = handler(c, o, path, ports)
  const successThreshold = nonNegative(c, o.successThreshold, `${path}.successThreshold`, 1)
  if (kind !== 'readiness' && successThreshold !== 1) c.fail(`${path}.successThreshold`, `must be 1 for ${PROBE_FIELDS[kind]}, not ${successThreshold}`)
  let terminationGracePeriodSeconds: number | undefined
  if (o.terminationGracePeriodSeconds !== undefined && o.terminationGracePeriodSeconds !== null) {
    if (kind === 'readiness') c.fail(`${path}.terminationGracePeriodSeconds`, 'must not be set for readinessProbes')
    else terminationGracePeriodSeconds = c.int(o.terminationGracePeriodSeconds, `${path}.terminationGracePeriodSeconds`, 1, 2 ** 31 - 1)
  }
  const probe: Probe = {
    handler: h!,
    initialDelaySeconds: c.int(o.initialDelaySeconds, `${path}.initialDelaySeconds`, 0, 2 ** 31 - 1) ?? 0,
    periodSeconds: nonNegative(c, o.periodSeconds, `${path}.periodSeconds`, 10),
    timeoutSeconds: nonNegative(c, o.timeoutSeconds, `${path}.timeoutSeconds`, 1),
    successThreshold,
    failureThreshold: nonNegative(c, o.failureThreshold, `${path}.failureThreshold`, 3),
    terminationGracePeriodSeconds,
  }
  return h ? probe : undefined
}

/** The three probes of a container. Init containers may have them only as sidecars (restartPolicy Always). */
export function parseProbes(
  c: Checker,
  o: Record<string, unknown>,
  path: string,
  ports: ContainerPort[],
  plainInit: boolean,
): Partial<Record<ProbeKind, Probe>> {
  const out: Partial<Record<ProbeKind, Probe>> = {}
  for (const kind of ['startup', 'liveness', 'readiness'] as const) {
    const field = PROBE_FIELDS[kind]
    if (o[field] === undefined || o[field] === null) continue
    if (plainInit) {
      // parseContainer has said so (kubelet's words); nothing more to parse.
      continue
    }
    const probe = parseProbe(c, o[field], `${path}.${field}`, kind, ports)
    if (probe) out[kind] = probe
  }
  return out
}
