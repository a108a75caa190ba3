// The one translation from the CRI's configs to what the engine runs: a
// PodSandboxConfig becomes a PodSpec with no containers (the sandbox), each
// ContainerConfig a ContainerSpec the sandbox plans like any other
// (planContainer). kubelet has already applied the pod's defaults, merged
// pod-level security into each container and expanded env; here the CRI's
// numbers become ours. Pure; throws PodError `cri.<Method>` naming the field.
import { hostname } from 'node:os'
import { DEFAULT_STOP_SIGNAL, parseStopSignal, type ContainerSpec, type PodSpec, type Resources, type SecuritySettings, type Sysctl } from '../spec/index.js'
import type { PortMapping as NetPortMapping } from '../net/index.js'
import { criError } from './status.js'
import type {
  ContainerConfig,
  Int64,
  LinuxContainerResources,
  LinuxContainerSecurityContext,
  Mount,
  NamespaceOption,
  PodSandboxConfig,
  SecurityProfile,
} from './types.js'

const num = (v: Int64 | undefined | null): number => Number(v ?? 0)

/** The sandbox's namespace modes; an unset option is POD (the enum's zero), as containerd reads it. */
export function namespaceModes(o: NamespaceOption | null | undefined): { network: string; pid: string; ipc: string } {
  return { network: o?.network ?? 'POD', pid: o?.pid ?? 'POD', ipc: o?.ipc ?? 'POD' }
}

/** Which namespace a sysctl lives in (the ones a pod may set: net.*, and the IPC ones). */
function sysctlNamespace(name: string): Sysctl['namespace'] | undefined {
  if (name.startsWith('net.')) return 'net'
  if (/^kernel\.(shm|msg|sem)/.test(name) || name.startsWith('fs.mqueue.')) return 'ipc'
  return undefined
}

/** The sandbox as a PodSpec: `id` is its uid (the pod directory and cgroup name); no containers yet. */
export function sandboxSpec(id: string, c: PodSandboxConfig): PodSpec {
  const step = 'cri.RunPodSandbox'
  const meta = c.metadata
  if (!meta?.name) throw criError(step, 'config.metadata.name', 'a sandbox name is required', 'INVALID_ARGUMENT')
  const ns = namespaceModes(c.linux?.securityContext?.namespaceOptions)
  const sysctls: Sysctl[] = Object.entries(c.linux?.sysctls ?? {}).map(([name, value]) => {
    const namespace = sysctlNamespace(name)
    if (!namespace)
      throw criError(
        step,
        `config.linux.sysctls[${name}]`,
        'not a namespaced sysctl a pod may set (net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*)',
        'INVALID_ARGUMENT',
      )
    return { name, value, namespace }
  })
  const dns = c.dnsConfig
  const hasDns = !!dns && (dns.servers.length > 0 || dns.searches.length > 0 || dns.options.length > 0)
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    name: meta.name,
    namespace: meta.namespace || 'default',
    uid: id,
    labels: { ...c.labels },
    annotations: { ...c.annotations },
    // An unset hostname is the node's, as containerd gives it.
    hostname: c.hostname || hostname(),
    hostAliases: [],
    // kubelet resolves the pod's DNS policy into dns_config; none at all means the host's resolv.conf.
    dnsPolicy: hasDns ? 'None' : 'Default',
    dnsPolicyExplicit: false,
    ...(hasDns
      ? {
          dnsConfig: {
            nameservers: dns.servers,
            searches: dns.searches,
            options: dns.options.map(o => {
              const [name, value] = o.split(':', 2)
              return value === undefined ? { name } : { name, value }
            }),
          },
        }
      : {}),
    serviceAccountName: 'default',
    shareProcessNamespace: ns.pid === 'POD',
    hostNetwork: ns.network === 'NODE',
    hostIPC: ns.ipc === 'NODE',
    hostPID: ns.pid === 'NODE',
    // kubelet decides restarts.
    restartPolicy: 'Never',
    terminationGracePeriodSeconds: 30,
    initContainers: [],
    containers: [],
    volumes: [],
    securityContext: { sysctls },
  }
}

/** The sandbox's port mappings as the CNI portmap plugin takes them. */
export function portMappings(c: PodSandboxConfig): NetPortMapping[] {
  return c.portMappings
    .filter(p => p.hostPort > 0)
    .map(p => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol.toLowerCase(), ...(p.hostIp ? { hostIP: p.hostIp } : {}) }))
}

/** LinuxContainerResources as Kubernetes quantities (the inverse of kubelet's conversion). */
export function criResources(r: LinuxContainerResources | null | undefined): Resources {
  const out: Resources = { limits: { hugepages: {} }, requests: { hugepages: {} } }
  if (!r) return out
  const quota = num(r.cpuQuota)
  const period = num(r.cpuPeriod) || 100_000
  if (quota > 0) out.limits.cpuMilli = Math.ceil((quota * 1000) / period)
  const shares = num(r.cpuShares)
  if (shares > 2) out.requests.cpuMilli = Math.round((shares * 1000) / 1024)
  const memory = num(r.memoryLimitInBytes)
  if (memory > 0) out.limits.memoryBytes = memory
  return out
}

/** SecurityProfile (or the deprecated path form) as our seccompProfile; undefined: the runtime's default. */
function seccomp(p: SecurityProfile | null, path: string, field: string): SecuritySettings['seccompProfile'] {
  if (p) {
    if (p.profileType === 'Localhost') return { type: 'Localhost', localhostProfile: p.localhostRef, field }
    return { type: p.profileType, field }
  }
  if (path === 'runtime/default' || path === 'docker/default') return { type: 'RuntimeDefault', field }
  if (path === 'unconfined') return { type: 'Unconfined', field }
  if (path.startsWith('localhost/')) return { type: 'Localhost', localhostProfile: path.slice('localhost/'.length), field }
  return undefined
}

const capName = (s: string) => s.toUpperCase().replace(/^CAP_/, '')

export function criSecurity(s: LinuxContainerSecurityContext | null | undefined): SecuritySettings {
  const out: SecuritySettings = {
    supplementalGroups: (s?.supplementalGroups ?? []).map(num),
    privileged: !!s?.privileged,
    readOnlyRootFilesystem: !!s?.readonlyRootfs,
    capabilities: { add: (s?.capabilities?.addCapabilities ?? []).map(capName), drop: (s?.capabilities?.dropCapabilities ?? []).map(capName) },
  }
  // As containerd: the request's lists, none when it sends none (kubelet sends runc's defaults, or none for procMount Unmasked).
  out.maskedPaths = [...(s?.maskedPaths ?? [])]
  out.readonlyPaths = [...(s?.readonlyPaths ?? [])]
  if (s?.runAsUser) out.runAsUser = num(s.runAsUser.value)
  if (s?.runAsGroup) out.runAsGroup = num(s.runAsGroup.value)
  if (s?.noNewPrivs) out.allowPrivilegeEscalation = false
  const profile = seccomp(s?.seccomp ?? null, s?.seccompProfilePath ?? '', 'config.linux.security_context.seccomp')
  if (profile) out.seccompProfile = profile
  return out
}

/**
 * A ContainerConfig as a ContainerSpec named `name` (unique in its sandbox:
 * kubelet makes a new container of the same name for each attempt). Its
 * mounts become volume mounts of volumes `<name>-m<i>` (see mountSources).
 */
export function containerSpec(name: string, c: ContainerConfig): ContainerSpec {
  const step = 'cri.CreateContainer'
  if (!c.metadata?.name) throw criError(step, 'config.metadata.name', 'a container name is required', 'INVALID_ARGUMENT')
  if (!c.image?.image) throw criError(step, 'config.image.image', 'an image is required', 'INVALID_ARGUMENT')
  c.mounts.forEach((m, i) => {
    // Image volumes: UNIMPLEMENTED is how a runtime says it has none (critest skips their specs then).
    if (m.image?.image) throw criError(step, `config.mounts[${i}].image`, 'image volumes are not supported', 'UNIMPLEMENTED')
    if (!m.containerPath.startsWith('/'))
      throw criError(step, `config.mounts[${i}].container_path`, `"${m.containerPath}" must be absolute`, 'INVALID_ARGUMENT')
    if (!m.hostPath.startsWith('/')) throw criError(step, `config.mounts[${i}].host_path`, `"${m.hostPath}" must be absolute`, 'INVALID_ARGUMENT')
  })
  const sc = c.linux?.securityContext
  // As containerd: a group without a user to apply it to is refused.
  if (sc?.runAsGroup && !sc.runAsUser && !sc.runAsUsername) {
    throw criError(step, 'config.linux.security_context.run_as_group', 'set without run_as_user or run_as_username', 'INVALID_ARGUMENT')
  }
  const resources = criResources(c.linux?.resources)
  return {
    name,
    image: c.image.image,
    imagePullPolicy: 'Never',
    ...(c.command.length > 0 ? { command: c.command } : {}),
    ...(c.args.length > 0 ? { args: c.args } : {}),
    env: c.envs.map(e => ({ name: e.key, value: Buffer.from(e.value).toString('utf8') })),
    ...(c.workingDir ? { workingDir: c.workingDir } : {}),
    ports: [],
    resources,
    volumeMounts: c.mounts.map((m, i) => ({ name: `${name}-m${i}`, mountPath: m.containerPath, readOnly: m.readonly, ...propagation(m.propagation) })),
    lifecycle: {},
    securityContext: criSecurity(c.linux?.securityContext),
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    stdin: c.stdin,
    stdinOnce: c.stdinOnce,
    tty: c.tty,
  }
}

const PROPAGATION = { PROPAGATION_HOST_TO_CONTAINER: 'HostToContainer', PROPAGATION_BIDIRECTIONAL: 'Bidirectional' } as const

/** A CRI mount's propagation as a volume mount's (PROPAGATION_PRIVATE, the zero value: none). */
function propagation(p: Mount['propagation'] | undefined): { propagation?: 'HostToContainer' | 'Bidirectional' } {
  return p === 'PROPAGATION_HOST_TO_CONTAINER' || p === 'PROPAGATION_BIDIRECTIONAL' ? { propagation: PROPAGATION[p] } : {}
}

/** Volume name -> host path of a container's CRI mounts (containerSpec's volume mounts). */
export function mountSources(name: string, c: ContainerConfig): [string, string][] {
  return c.mounts.map((m, i) => [`${name}-m${i}`, m.hostPath])
}

/**
 * The canonical stop signal name (SIGQUIT, SIGRTMIN+1): SIGNAL_SIGRTMINPLUS1 -> SIGRTMIN+1; SIGNAL_RUNTIME_DEFAULT
 * (or unset) -> the image's StopSignal as containerd parses it (parseStopSignal), else SIGTERM.
 */
export function stopSignal(criSignal: string, imageStopSignal?: string): string {
  if (criSignal && criSignal !== 'SIGNAL_RUNTIME_DEFAULT')
    return criSignal
      .replace(/^SIGNAL_/, '')
      .replace('PLUS', '+')
      .replace('MINUS', '-')
  return (imageStopSignal === undefined ? undefined : parseStopSignal(imageStopSignal)) ?? DEFAULT_STOP_SIGNAL
}

/** SIGRTMIN+1 -> SIGNAL_SIGRTMINPLUS1 (the CRI's enum name). */
export function criSignalName(signal: string): string {
  return `SIGNAL_${signal.replace('+', 'PLUS').replace('-', 'MINUS')}`
}
