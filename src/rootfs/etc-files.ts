// /etc/hosts, /etc/hostname, /etc/resolv.conf written once per pod (as kubelet
// and the CRI runtime do) and bound into every container.
//  - hosts: kubelet's managed file (pkg/kubelet/kubelet_pods.go
//    managedHostsFileContent): header, localhost and IPv6 lines, the pod's own
//    line per pod IP (the FQDN first with a subdomain), then spec.hostAliases.
//    hostNetwork pods: the host's file under kubelet's "(host network)" header,
//    plus the aliases (nodeHostsFileContent).
//  - resolv.conf: kubelet's dnsPolicy rules (pkg/kubelet/network/dns): the
//    host's servers/searches/options (Default; ClusterFirst falls back to it
//    here, there is no cluster DNS), none (None), dnsConfig merged in, limits
//    applied; written as containerd does (search, nameserver, options lines).
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { etcDir } from '../state/index.js'
import type { PodSpec } from '../spec/index.js'

export interface EtcFiles {
  hosts: string
  hostname: string
  resolvConf: string
}

export interface EtcFilesOptions {
  /** Said once per pod: ClusterFirst without cluster DNS, resolver limits exceeded. */
  warn?: (m: string) => void
  /** The node's files (tests point these elsewhere). */
  hostHostsFile?: string
  hostResolvConf?: string
}

export const CLUSTER_DOMAIN = 'cluster.local'
const MANAGED_HOSTS_HEADER = '# Kubernetes-managed hosts file.\n'
const MANAGED_HOSTS_HEADER_HOST_NETWORK = '# Kubernetes-managed hosts file (host network).\n'

function aliasLines(spec: PodSpec): string {
  if (spec.hostAliases.length === 0) return ''
  return '\n# Entries added by HostAliases.\n' + spec.hostAliases.map(a => `${a.ip}\t${a.hostnames.join('\t')}\n`).join('')
}

/** The pod's /etc/hosts. `hostHosts`: the node's file, for hostNetwork pods. */
export function hostsContent(spec: PodSpec, podIPs: readonly string[], hostHosts = ''): string {
  if (spec.hostNetwork) return MANAGED_HOSTS_HEADER_HOST_NETWORK + hostHosts + aliasLines(spec)
  const domain = spec.subdomain ? `${spec.subdomain}.${spec.namespace}.svc.${CLUSTER_DOMAIN}` : ''
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    ...podIPs.map(ip => (domain ? `${ip}\t${spec.hostname}.${domain}\t${spec.hostname}` : `${ip}\t${spec.hostname}`)),
  ]
  return MANAGED_HOSTS_HEADER + lines.map(l => `${l}\n`).join('') + aliasLines(spec)
}

export interface ResolverConfig {
  nameservers: string[]
  searches: string[]
  /** `name` or `name:value`, in order. */
  options: string[]
}

/** A resolv.conf read as kubelet's parseResolvConf does: nameservers add up, the last search and options lines win. */
export function parseResolvConf(text: string): ResolverConfig {
  const r: ResolverConfig = { nameservers: [], searches: [], options: [] }
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/).filter(Boolean)
    if (f.length === 0 || f[0].startsWith('#') || f[0].startsWith(';')) continue
    if (f[0] === 'nameserver' && f[1]) r.nameservers.push(f[1])
    if (f[0] === 'search')
      r.searches = f
        .slice(1)
        .filter(s => s !== '.')
        .map(s => s.replace(/\.$/, ''))
    if (f[0] === 'options') r.options = mergeOptions(r.options, f.slice(1))
  }
  return r
}

/** Options by name, a later one replacing an earlier of the same name (kubelet's mergeDNSOptions), order kept. */
function mergeOptions(existing: string[], added: string[]): string[] {
  const m = new Map<string, string>()
  for (const o of [...existing, ...added]) {
    const i = o.indexOf(':')
    m.set(i < 0 ? o : o.slice(0, i), i < 0 ? '' : o.slice(i + 1))
  }
  return [...m].map(([k, v]) => (v ? `${k}:${v}` : k))
}

const unique = (xs: string[]) => [...new Set(xs)]

/** The pod's resolver configuration by kubelet's rules; `warnings` are kubelet's events for it. */
export function podResolverConfig(spec: PodSpec, host: ResolverConfig): { config: ResolverConfig; warnings: string[] } {
  const warnings: string[] = []
  const cluster = spec.dnsPolicy === 'ClusterFirstWithHostNet' || (spec.dnsPolicy === 'ClusterFirst' && !spec.hostNetwork)
  if (cluster && spec.dnsPolicyExplicit) {
    // kubelet's MissingClusterDNS event: no --cluster-dns, so the pod falls back to Default.
    warnings.push(
      `pod ${spec.name}: spec.dnsPolicy ${spec.dnsPolicy}: there is no cluster DNS here; using the host's resolver configuration, as dnsPolicy Default`,
    )
  }
  let config: ResolverConfig = spec.dnsPolicy === 'None' ? { nameservers: [], searches: [], options: [] } : { ...host }
  const extra = spec.dnsConfig
  if (extra) {
    config = {
      nameservers: unique([...config.nameservers, ...extra.nameservers]),
      searches: unique([...config.searches, ...extra.searches]),
      options: mergeOptions(
        config.options,
        extra.options.map(o => (o.value ? `${o.name}:${o.value}` : o.name)),
      ),
    }
  }
  // formDNSConfigFitsLimits: at most 3 nameservers, 32 search paths of at most 253 characters, 2048 characters in all.
  if (config.nameservers.length > 3) {
    config.nameservers = config.nameservers.slice(0, 3)
    warnings.push(
      `pod ${spec.name}: Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${config.nameservers.join(' ')}`,
    )
  }
  let searches = config.searches.slice(0, 32).filter(s => s.length <= 253)
  let exceeded = searches.length !== config.searches.length
  while (searches.join(' ').length > 2048) {
    searches = searches.slice(0, -1)
    exceeded = true
  }
  if (exceeded)
    warnings.push(`pod ${spec.name}: Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${searches.join(' ')}`)
  config.searches = searches
  return { config, warnings }
}

/** resolv.conf text as containerd writes a sandbox's DNS config. */
export function formatResolvConf(r: ResolverConfig): string {
  let s = ''
  if (r.searches.length > 0) s += `search ${r.searches.join(' ')}\n`
  if (r.nameservers.length > 0) s += `nameserver ${r.nameservers.join('\nnameserver ')}\n`
  if (r.options.length > 0) s += `options ${r.options.join(' ')}\n`
  return s
}

const readOr = (file: string, dflt: string) => {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return dflt
  }
}

/** The node's resolver file; behind systemd-resolved's stub (127.0.0.53) the real upstream list, as kubeadm picks for kubelet. */
function hostResolvText(file: string | undefined): string {
  const text = readOr(file ?? '/etc/resolv.conf', '')
  if (file) return text
  const ns = parseResolvConf(text).nameservers
  const upstream = '/run/systemd/resolve/resolv.conf'
  return ns.length > 0 && ns.every(n => n === '127.0.0.53') && existsSync(upstream) ? readOr(upstream, text) : text
}

/** Where the pod's three files are (pure: an adopted pod's are already written). */
export function etcFilePaths(podRoot: string): EtcFiles {
  const dir = etcDir(podRoot)
  return { hosts: join(dir, 'hosts'), hostname: join(dir, 'hostname'), resolvConf: join(dir, 'resolv.conf') }
}

/** Write the pod's three files under `<podRoot>/etc`; `podIP` may be '' (loopback only: no own line). */
export function writeEtcFiles(spec: PodSpec, podRoot: string, podIP: string | readonly string[] = '', opts: EtcFilesOptions = {}): EtcFiles {
  mkdirSync(etcDir(podRoot), { recursive: true, mode: 0o755 })
  const files = etcFilePaths(podRoot)
  const ips = (typeof podIP === 'string' ? [podIP] : [...podIP]).filter(Boolean)
  const write = (file: string, text: string) => {
    writeFileSync(file, text, { mode: 0o644 })
    chmodSync(file, 0o644)
  }
  write(files.hosts, hostsContent(spec, ips, spec.hostNetwork ? readOr(opts.hostHostsFile ?? '/etc/hosts', '') : ''))
  // hostNetwork: the UTS namespace is the host's, and so is the name.
  write(files.hostname, `${spec.hostNetwork ? hostname() : spec.hostname}\n`)
  const { config, warnings } = podResolverConfig(spec, parseResolvConf(hostResolvText(opts.hostResolvConf)))
  write(files.resolvConf, formatResolvConf(config))
  for (const w of warnings) opts.warn?.(w)
  return files
}
