// A seccomp profile in the OCI / Docker JSON format (runtime-spec
// config-linux.md#seccomp, moby profiles/seccomp): parse and validate it,
// listing every problem by its path inside the profile. Pure.

/** Actions a rule or the default may take (libseccomp names). */
export const SECCOMP_ACTIONS = [
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_LOG',
] as const
export type SeccompAction = (typeof SECCOMP_ACTIONS)[number]

export const SECCOMP_OPS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'] as const
export type SeccompOp = (typeof SECCOMP_OPS)[number]

/** Architectures libseccomp 2.5 knows (OCI names). */
export const SECCOMP_ARCHES = [
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64',
] as const

export interface SeccompArg {
  index: number
  /** 64-bit values: bigint, so masks above 2^53 stay exact. */
  value: bigint
  valueTwo: bigint
  op: SeccompOp
}

/** When a rule applies (Docker's extension to the OCI format). */
export interface SeccompFilter {
  /** Capability names (CAP_SYS_ADMIN): includes = all held, excludes = any held. */
  caps?: string[]
  /** Go architecture names (amd64, arm64, x86, ...), as moby matches them. */
  arches?: string[]
  /** "major.minor": the running kernel is at least this. */
  minKernel?: string
}

export interface SeccompSyscall {
  names: string[]
  action: SeccompAction
  errnoRet?: number
  args: SeccompArg[]
  includes?: SeccompFilter
  excludes?: SeccompFilter
}

export interface SeccompProfile {
  defaultAction: SeccompAction
  defaultErrnoRet?: number
  /** OCI `architectures`; when absent, Docker's archMap picks the native entry. */
  architectures?: string[]
  archMap?: { architecture: string; subArchitectures: string[] }[]
  syscalls: SeccompSyscall[]
}

export interface ProfileProblem {
  path: string
  message: string
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const CAP = /^CAP_[A-Z_]+$/
const KERNEL = /^\d+\.\d+$/

/**
 * Validate a parsed JSON profile. Returns the profile, or the problems (each
 * with its path in the profile, e.g. `syscalls[2].action`).
 */
export function validateProfile(v: unknown): { profile?: SeccompProfile; problems: ProfileProblem[] } {
  const problems: ProfileProblem[] = []
  const fail = (path: string, message: string) => void problems.push({ path, message })
  const known = (o: Obj, path: string, keys: string[]) => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) fail(path ? `${path}.${k}` : k, 'unknown field')
  }
  const strings = (x: unknown, path: string, ok?: (s: string) => boolean, what = 'a string'): string[] => {
    if (x === undefined || x === null) return []
    if (!Array.isArray(x)) return (fail(path, 'must be a list of strings'), [])
    return x.filter((s, i) => {
      const good = typeof s === 'string' && (!ok || ok(s))
      if (!good) fail(`${path}[${i}]`, `${JSON.stringify(s)} is not ${what}`)
      return good
    }) as string[]
  }
  const errnoRet = (x: unknown, path: string): number | undefined => {
    if (x === undefined || x === null) return undefined
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 4095)
      return (fail(path, `${JSON.stringify(x)} is not an errno (an integer 0-4095)`), undefined)
    return x
  }
  const action = (x: unknown, path: string): SeccompAction | undefined => {
    if (x === 'SCMP_ACT_NOTIFY') return (fail(path, 'SCMP_ACT_NOTIFY needs a seccomp agent (listenerPath): not supported'), undefined)
    if (typeof x !== 'string' || !(SECCOMP_ACTIONS as readonly string[]).includes(x))
      return (fail(path, `${JSON.stringify(x)} is not an action (${SECCOMP_ACTIONS.join(', ')})`), undefined)
    return x as SeccompAction
  }
  const u64 = (x: unknown, path: string): bigint => {
    if (x === undefined || x === null) return 0n
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) return (fail(path, `${JSON.stringify(x)} is not an unsigned 64-bit integer`), 0n)
    return BigInt(x)
  }
  const filter = (x: unknown, path: string): SeccompFilter | undefined => {
    if (x === undefined || x === null) return undefined
    if (!isObj(x)) return (fail(path, 'must be an object'), undefined)
    known(x, path, ['caps', 'arches', 'minKernel'])
    const out: SeccompFilter = {}
    if (x.caps != null) out.caps = strings(x.caps, `${path}.caps`, s => CAP.test(s), 'a capability (CAP_SYS_ADMIN)')
    if (x.arches != null) out.arches = strings(x.arches, `${path}.arches`)
    if (x.minKernel != null) {
      if (typeof x.minKernel !== 'string' || !KERNEL.test(x.minKernel))
        fail(`${path}.minKernel`, `${JSON.stringify(x.minKernel)} is not a kernel version (e.g. "4.8")`)
      else out.minKernel = x.minKernel
    }
    return out
  }

  if (!isObj(v)) return { problems: [{ path: '(profile)', message: 'must be a JSON object with defaultAction and syscalls' }] }
  known(v, '', ['defaultAction', 'defaultErrnoRet', 'architectures', 'archMap', 'syscalls', 'flags', 'listenerPath', 'listenerMetadata', 'comment'])
  if (v.listenerPath != null) fail('listenerPath', 'a seccomp agent (SCMP_ACT_NOTIFY) is not supported')
  if (Array.isArray(v.flags) ? v.flags.length > 0 : v.flags != null) fail('flags', 'filter flags (SECCOMP_FILTER_FLAG_*) are not supported: remove them')
  if (v.defaultAction === undefined) fail('defaultAction', 'required')
  const defaultAction = v.defaultAction === undefined ? undefined : action(v.defaultAction, 'defaultAction')
  const defaultErrnoRet = errnoRet(v.defaultErrnoRet, 'defaultErrnoRet')
  const architectures =
    v.architectures == null
      ? undefined
      : strings(v.architectures, 'architectures', s => (SECCOMP_ARCHES as readonly string[]).includes(s), 'an architecture (SCMP_ARCH_X86_64, ...)')
  let archMap: SeccompProfile['archMap']
  if (v.archMap != null) {
    if (!Array.isArray(v.archMap)) fail('archMap', 'must be a list')
    else {
      archMap = v.archMap.map((m, i) => {
        const p = `archMap[${i}]`
        if (!isObj(m)) return (fail(p, 'must be an object'), { architecture: '', subArchitectures: [] })
        known(m, p, ['architecture', 'subArchitectures'])
        const isArch = (s: string) => (SECCOMP_ARCHES as readonly string[]).includes(s)
        if (typeof m.architecture !== 'string' || !isArch(m.architecture))
          fail(`${p}.architecture`, `${JSON.stringify(m.architecture)} is not an architecture (SCMP_ARCH_X86_64, ...)`)
        return { architecture: String(m.architecture), subArchitectures: strings(m.subArchitectures, `${p}.subArchitectures`, isArch, 'an architecture') }
      })
    }
  }
  const syscalls: SeccompSyscall[] = []
  if (v.syscalls != null && !Array.isArray(v.syscalls)) fail('syscalls', 'must be a list')
  for (const [i, s] of (Array.isArray(v.syscalls) ? v.syscalls : []).entries()) {
    const p = `syscalls[${i}]`
    if (!isObj(s)) {
      fail(p, 'must be an object')
      continue
    }
    known(s, p, ['names', 'name', 'action', 'errnoRet', 'args', 'includes', 'excludes', 'comment'])
    const names =
      s.name !== undefined
        ? strings([s.name], `${p}.name`, n => n !== '', 'a syscall name')
        : strings(s.names, `${p}.names`, n => /^[a-z0-9_]+$/.test(n), 'a syscall name')
    if (names.length === 0 && s.name === undefined && (s.names === undefined || (Array.isArray(s.names) && s.names.length === 0)))
      fail(`${p}.names`, 'required: at least one syscall name')
    if (s.action === undefined) fail(`${p}.action`, 'required')
    const act = s.action === undefined ? undefined : action(s.action, `${p}.action`)
    const ret = errnoRet(s.errnoRet, `${p}.errnoRet`)
    if (ret !== undefined && act && act !== 'SCMP_ACT_ERRNO' && act !== 'SCMP_ACT_TRACE')
      fail(`${p}.errnoRet`, `only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errnoRet, not ${act}`)
    const args: SeccompArg[] = []
    if (s.args != null && !Array.isArray(s.args)) fail(`${p}.args`, 'must be a list')
    for (const [k, a] of (Array.isArray(s.args) ? s.args : []).entries()) {
      const ap = `${p}.args[${k}]`
      if (!isObj(a)) {
        fail(ap, 'must be an object')
        continue
      }
      known(a, ap, ['index', 'value', 'valueTwo', 'op'])
      if (typeof a.index !== 'number' || !Number.isInteger(a.index) || a.index < 0 || a.index > 5)
        fail(`${ap}.index`, `${JSON.stringify(a.index)} is not a syscall argument index (0-5)`)
      if (typeof a.op !== 'string' || !(SECCOMP_OPS as readonly string[]).includes(a.op))
        fail(`${ap}.op`, `${JSON.stringify(a.op)} is not a comparison (${SECCOMP_OPS.join(', ')})`)
      args.push({ index: Number(a.index), value: u64(a.value, `${ap}.value`), valueTwo: u64(a.valueTwo, `${ap}.valueTwo`), op: a.op as SeccompOp })
    }
    if (args.length > 6) fail(`${p}.args`, 'at most 6 conditions (one per syscall argument)')
    const includes = filter(s.includes, `${p}.includes`)
    const excludes = filter(s.excludes, `${p}.excludes`)
    if (act) syscalls.push({ names, action: act, errnoRet: ret, args, includes, excludes })
  }
  if (problems.length > 0 || !defaultAction) return { problems }
  return { profile: { defaultAction, defaultErrnoRet, architectures, archMap, syscalls }, problems }
}

/** Parse JSON text, then validate; a JSON syntax error is one problem at `(json)`. */
export function parseProfile(text: string): { profile?: SeccompProfile; problems: ProfileProblem[] } {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (e) {
    // Never V8's message: it quotes the text, and the file may be a secret (/etc/shadow).
    const at = /position (\d+)/.exec((e as Error).message)?.[1]
    return { problems: [{ path: '(json)', message: `not valid JSON${at ? ` (at byte ${at})` : ''}` }] }
  }
  return validateProfile(v)
}
