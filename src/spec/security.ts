// securityContext (pod and container level; the container's wins), as
// Kubernetes defines it. Validated here; applied by the engine.
import type { Checker, Obj } from './checker.js'

/** capabilities(7), by number (bit n of a mask). */
export const CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
] as const

/** The set containerd and Docker give a container that asks for nothing. */
export const DEFAULT_CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'MKNOD',
  'NET_RAW',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
]

export interface SecuritySettings {
  runAsUser?: number
  runAsGroup?: number
  runAsNonRoot?: boolean
  supplementalGroups: number[]
  allowPrivilegeEscalation?: boolean
  privileged: boolean
  readOnlyRootFilesystem: boolean
  capabilities: { add: string[]; drop: string[] }
  /** Pod level only: the group of emptyDir volumes, also in every process's groups. */
  fsGroup?: number
  /** seccompProfile as asked (container's over pod's), with the field it came from; undefined: the runtime's default. */
  seccompProfile?: SeccompProfileRef
  /** Container paths masked and made read-only (CRI: the request's lists); undefined: runc's defaults. */
  maskedPaths?: string[]
  readonlyPaths?: string[]
}

/** spec.securityContext also carries what applies to the pod as a whole. */
export interface PodSecurity extends Partial<SecuritySettings> {
  sysctls: Sysctl[]
}

export interface Sysctl {
  /** Dotted form (net.ipv4.ip_forward), as given or normalized from net/ipv4/ip_forward. */
  name: string
  value: string
  namespace: 'net' | 'ipc'
}

/** securityContext.seccompProfile. */
export interface SeccompProfileRef {
  type: 'RuntimeDefault' | 'Unconfined' | 'Localhost'
  /** Localhost only: absolute, or relative to /etc/pod-launch/seccomp. */
  localhostProfile?: string
  /** Field path of the seccompProfile this came from (for errors and explain). */
  field: string
}

const SECCOMP_TYPES = ['RuntimeDefault', 'Unconfined', 'Localhost']

/** securityContext.seccompProfile, validated as Kubernetes does (type, and localhostProfile iff Localhost). */
function seccompProfile(c: Checker, v: unknown, path: string): SeccompProfileRef | undefined {
  const o = c.obj(v, path)
  if (!o) return undefined
  c.fields(o, path, ['type', 'localhostProfile'])
  const type = c.str(o.type, `${path}.type`, true)
  if (type === undefined || type === '') return undefined
  if (!SECCOMP_TYPES.includes(type)) {
    c.fail(`${path}.type`, `"${type}" is not a seccomp profile type (RuntimeDefault, Unconfined or Localhost)`)
    return undefined
  }
  const local = c.str(o.localhostProfile, `${path}.localhostProfile`)
  if (type === 'Localhost') {
    if (!local) c.fail(`${path}.localhostProfile`, 'required when type is Localhost (a JSON profile: an absolute path, or relative to /etc/pod-launch/seccomp)')
    else if (!local.startsWith('/') && local.split('/').includes('..'))
      c.fail(`${path}.localhostProfile`, `"${local}" must not contain ".." (it is resolved below /etc/pod-launch/seccomp)`)
  } else if (local !== undefined) {
    c.fail(`${path}.localhostProfile`, `may only be set when type is Localhost, not ${type}`)
  }
  return { type: type as SeccompProfileRef['type'], localhostProfile: type === 'Localhost' ? local : undefined, field: path }
}

const CAP_NAME = (s: string) => s.toUpperCase().replace(/^CAP_/, '')
const NOT_YET: Record<string, string> = {
  seLinuxOptions: 'no SELinux here',
  appArmorProfile: 'no AppArmor here',
  windowsOptions: 'Linux only',
  supplementalGroupsPolicy: 'not supported',
}

function ids(c: Checker, o: Obj, path: string) {
  return {
    runAsUser: c.int(o.runAsUser, `${path}.runAsUser`, 0, 2 ** 31 - 1),
    runAsGroup: c.int(o.runAsGroup, `${path}.runAsGroup`, 0, 2 ** 31 - 1),
    runAsNonRoot: o.runAsNonRoot === undefined ? undefined : c.bool(o.runAsNonRoot, `${path}.runAsNonRoot`, false),
  }
}

/** spec.securityContext: what containers inherit. */
export function parsePodSecurity(c: Checker, v: unknown, path: string): PodSecurity {
  const o = c.obj(v, path)
  if (!o) return { sysctls: [] }
  c.fields(o, path, ['runAsUser', 'runAsGroup', 'runAsNonRoot', 'supplementalGroups', 'fsGroup', 'fsGroupChangePolicy', 'sysctls', 'seccompProfile'], NOT_YET)
  const groups = c.list(o.supplementalGroups, `${path}.supplementalGroups`).map((g, i) => c.int(g, `${path}.supplementalGroups[${i}]`, 0, 2 ** 31 - 1) ?? 0)
  // Every emptyDir is new, so OnRootMismatch and Always both change it.
  c.oneOf(o.fsGroupChangePolicy, `${path}.fsGroupChangePolicy`, ['OnRootMismatch', 'Always'] as const, 'Always')
  const seccomp = seccompProfile(c, o.seccompProfile, `${path}.seccompProfile`)
  return {
    ...ids(c, o, path),
    supplementalGroups: groups,
    fsGroup: c.int(o.fsGroup, `${path}.fsGroup`, 0, 2 ** 31 - 1),
    sysctls: parseSysctls(c, o.sysctls, `${path}.sysctls`),
    ...(seccomp ? { seccompProfile: seccomp } : {}),
  }
}

// Kubernetes' sysctl name pattern (apis/core/validation) and its namespaced set
// (component-helpers/node/util/sysctl): only these can be set per pod.
const SYSCTL_NAME = /^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$/
const SYSCTL_NAMESPACE: [prefix: string, exact: boolean, ns: Sysctl['namespace']][] = [
  ['kernel.sem', true, 'ipc'],
  ['kernel.shm', false, 'ipc'],
  ['kernel.msg', false, 'ipc'],
  ['fs.mqueue.', false, 'ipc'],
  ['net.', false, 'net'],
]

/** net/ipv4/conf/eth0.100/x -> net.ipv4.conf.eth0/100.x, as Kubernetes normalizes (a '/' form swaps '.' and '/'). */
export function normalizeSysctlName(name: string): string {
  const first = name.search(/[./]/)
  if (first < 0 || name[first] === '.') return name
  return name.replace(/[./]/g, ch => (ch === '.' ? '/' : '.'))
}

function parseSysctls(c: Checker, v: unknown, path: string): Sysctl[] {
  const out: Sysctl[] = []
  c.list(v, path).forEach((e, i) => {
    const p = `${path}[${i}]`
    const o = c.obj(e, p, true)
    if (!o) return
    c.fields(o, p, ['name', 'value'])
    const raw = c.str(o.name, `${p}.name`, true)
    const value = c.str(o.value, `${p}.value`) ?? ''
    if (raw === undefined) return
    const name = normalizeSysctlName(raw)
    if (raw.length > 253 || !SYSCTL_NAME.test(raw))
      return c.fail(`${p}.name`, `"${raw}" must have at most 253 characters and match the regex ${SYSCTL_NAME.source}`)
    if (out.some(s => s.name === name)) return c.fail(`${p}.name`, `"${raw}" is a duplicate`)
    if (/[\n\0]/.test(value)) return c.fail(`${p}.value`, 'may not contain a newline or NUL')
    const ns = SYSCTL_NAMESPACE.find(([prefix, exact]) => (exact ? name === prefix : name.startsWith(prefix)))
    // kubelet's SysctlForbidden: only namespaced sysctls can be set for one pod.
    if (!ns)
      return c.fail(
        `${p}.name`,
        `forbidden sysctl: "${name}" not allowlisted: it is not namespaced, so setting it would change the whole host ` +
          '(namespaced: net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*)',
      )
    out.push({ name, value, namespace: ns[2] })
  })
  return out
}

/** kubelet's check: a sysctl of a namespace the pod shares with the host is refused. */
export function checkSysctlHosts(c: Checker, sysctls: readonly Sysctl[], path: string, host: { net: boolean; ipc: boolean }): void {
  sysctls.forEach((s, i) => {
    if (host[s.namespace])
      c.fail(
        `${path}[${i}].name`,
        `forbidden sysctl: "${s.name}" not allowed with host ${s.namespace} enabled (spec.host${s.namespace === 'net' ? 'Network' : 'IPC'})`,
      )
  })
}

/** A container's securityContext merged over the pod's. */
export function parseContainerSecurity(c: Checker, v: unknown, path: string, pod: Partial<SecuritySettings>): SecuritySettings {
  const o = c.obj(v, path) ?? {}
  c.fields(
    o,
    path,
    [
      'runAsUser',
      'runAsGroup',
      'runAsNonRoot',
      'allowPrivilegeEscalation',
      'privileged',
      'readOnlyRootFilesystem',
      'capabilities',
      'procMount',
      'seccompProfile',
    ],
    NOT_YET,
  )
  // Unmasked needs a user namespace (hostUsers: false), which pods here do not have.
  if (c.oneOf(o.procMount, `${path}.procMount`, ['Default', 'Unmasked'] as const, 'Default') === 'Unmasked')
    c.fail(`${path}.procMount`, 'Unmasked requires spec.hostUsers: false (a user namespace), which pod-launch does not support: use Default')
  const own = ids(c, o, path)
  const caps = c.obj(o.capabilities, `${path}.capabilities`) ?? {}
  c.fields(caps, `${path}.capabilities`, ['add', 'drop'])
  const names = (field: 'add' | 'drop') =>
    (c.strArray(caps[field], `${path}.capabilities.${field}`) ?? []).map((n, i) => {
      const name = CAP_NAME(n)
      if (name !== 'ALL' && !(CAPABILITIES as readonly string[]).includes(name))
        c.fail(`${path}.capabilities.${field}[${i}]`, `"${n}" is not a capability (capabilities(7), e.g. NET_ADMIN or CAP_NET_ADMIN)`)
      return name
    })
  const s: SecuritySettings = {
    runAsUser: own.runAsUser ?? pod.runAsUser,
    runAsGroup: own.runAsGroup ?? pod.runAsGroup,
    runAsNonRoot: own.runAsNonRoot ?? pod.runAsNonRoot,
    supplementalGroups: pod.supplementalGroups ?? [],
    fsGroup: pod.fsGroup,
    allowPrivilegeEscalation:
      o.allowPrivilegeEscalation === undefined ? undefined : c.bool(o.allowPrivilegeEscalation, `${path}.allowPrivilegeEscalation`, true),
    privileged: c.bool(o.privileged, `${path}.privileged`, false),
    readOnlyRootFilesystem: c.bool(o.readOnlyRootFilesystem, `${path}.readOnlyRootFilesystem`, false),
    capabilities: { add: names('add'), drop: names('drop') },
    seccompProfile: seccompProfile(c, o.seccompProfile, `${path}.seccompProfile`) ?? pod.seccompProfile,
  }
  if (s.runAsNonRoot && s.runAsUser === 0) c.fail(`${path}.runAsNonRoot`, 'conflicts with runAsUser 0: the container would run as root')
  if (s.privileged && s.allowPrivilegeEscalation === false) c.fail(`${path}.allowPrivilegeEscalation`, 'cannot be false when privileged is true')
  return s
}

/** Bounding and (for root) effective capability masks, by the Kubernetes rules. */
export function capabilityMasks(s: SecuritySettings, lastCap = CAPABILITIES.length - 1): { bounding: bigint; effective: bigint } {
  const bit = (name: string) => 1n << BigInt(CAPABILITIES.indexOf(name as (typeof CAPABILITIES)[number]))
  const all = (1n << BigInt(lastCap + 1)) - 1n
  let set = s.privileged ? all : DEFAULT_CAPABILITIES.reduce((m, n) => m | bit(n), 0n)
  if (!s.privileged) {
    // containerd: drop first (ALL empties the set), then add (ALL adds every one).
    if (s.capabilities.drop.includes('ALL')) set = 0n
    for (const n of s.capabilities.drop) if (n !== 'ALL') set &= ~bit(n)
    if (s.capabilities.add.includes('ALL')) set = all
    for (const n of s.capabilities.add) if (n !== 'ALL') set |= bit(n)
  }
  return { bounding: set & all, effective: set & all }
}
