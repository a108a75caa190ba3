// Pod fields for name resolution: hostAliases, dnsPolicy, dnsConfig, with
// Kubernetes' validation rules (ValidateHostAliases, validateDNSPolicy,
// validatePodDNSConfig). Pure.
import { isIP } from 'node:net'
import { DNS1123_SUBDOMAIN, type Checker, type Obj } from './checker.js'
import type { DNSPolicy, HostAlias, PodDNSConfig } from './types.js'

/** Kubernetes' limits (pkg/apis/core/validation): resolver limits of glibc and of the search line. */
export const MAX_DNS_NAMESERVERS = 3
export const MAX_DNS_SEARCH_PATHS = 32
export const MAX_DNS_SEARCH_LIST_CHARS = 2048

const isSubdomain = (s: string) => s.length <= 253 && DNS1123_SUBDOMAIN.test(s)

export function parseHostAliases(c: Checker, v: unknown): HostAlias[] {
  const out: HostAlias[] = []
  c.list(v, 'spec.hostAliases').forEach((e, i) => {
    const p = `spec.hostAliases[${i}]`
    const o = c.obj(e, p, true)
    if (!o) return
    c.fields(o, p, ['ip', 'hostnames'])
    const ip = c.str(o.ip, `${p}.ip`, true)
    if (ip && !isIP(ip)) c.fail(`${p}.ip`, `"${ip}" must be a valid IP address (e.g. 127.0.0.1 or ::1)`)
    const hostnames = c.strArray(o.hostnames, `${p}.hostnames`) ?? []
    hostnames.forEach((h, j) => {
      if (!isSubdomain(h)) c.fail(`${p}.hostnames[${j}]`, `"${h}" must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.', not empty`)
    })
    if (ip) out.push({ ip, hostnames })
  })
  return out
}

export function parseDNS(c: Checker, spec: Obj): { dnsPolicy: DNSPolicy; dnsPolicyExplicit: boolean; dnsConfig?: PodDNSConfig } {
  const dnsPolicy = c.oneOf(spec.dnsPolicy, 'spec.dnsPolicy', ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'] as const, 'ClusterFirst')
  const dnsPolicyExplicit = spec.dnsPolicy !== undefined && spec.dnsPolicy !== null
  const o = c.obj(spec.dnsConfig, 'spec.dnsConfig')
  if (dnsPolicy === 'None' && !o) {
    c.fail('spec.dnsConfig', 'required: must provide `dnsConfig` when `dnsPolicy` is None')
    return { dnsPolicy, dnsPolicyExplicit }
  }
  if (!o) return { dnsPolicy, dnsPolicyExplicit }
  c.fields(o, 'spec.dnsConfig', ['nameservers', 'searches', 'options'])
  const nameservers = c.strArray(o.nameservers, 'spec.dnsConfig.nameservers') ?? []
  if (dnsPolicy === 'None' && nameservers.length === 0)
    c.fail('spec.dnsConfig.nameservers', 'required: must provide at least one DNS nameserver when `dnsPolicy` is None')
  if (nameservers.length > MAX_DNS_NAMESERVERS)
    c.fail('spec.dnsConfig.nameservers', `must not have more than ${MAX_DNS_NAMESERVERS} nameservers, found ${nameservers.length}`)
  nameservers.forEach((ns, i) => {
    if (!isIP(ns)) c.fail(`spec.dnsConfig.nameservers[${i}]`, `"${ns}" must be a valid IP address`)
  })
  const searches = c.strArray(o.searches, 'spec.dnsConfig.searches') ?? []
  if (searches.length > MAX_DNS_SEARCH_PATHS)
    c.fail('spec.dnsConfig.searches', `must not have more than ${MAX_DNS_SEARCH_PATHS} search paths, found ${searches.length}`)
  if (searches.join(' ').length > MAX_DNS_SEARCH_LIST_CHARS)
    c.fail('spec.dnsConfig.searches', `must not have more than ${MAX_DNS_SEARCH_LIST_CHARS} characters (including spaces) in the search list`)
  searches.forEach((s, i) => {
    // A trailing dot (an absolute name) is allowed, as in Kubernetes.
    if (!isSubdomain(s.endsWith('.') ? s.slice(0, -1) : s)) c.fail(`spec.dnsConfig.searches[${i}]`, `"${s}" must be a DNS-1123 subdomain`)
  })
  const options: PodDNSConfig['options'] = []
  c.list(o.options, 'spec.dnsConfig.options').forEach((e, i) => {
    const p = `spec.dnsConfig.options[${i}]`
    const oo = c.obj(e, p, true)
    if (!oo) return
    c.fields(oo, p, ['name', 'value'])
    const name = c.str(oo.name, `${p}.name`, true)
    const value = c.str(oo.value, `${p}.value`)
    if (name) options.push(value === undefined ? { name } : { name, value })
  })
  return { dnsPolicy, dnsPolicyExplicit, dnsConfig: { nameservers, searches, options } }
}
