// Profile + the container's capabilities + this host's architecture -> the
// rule list libseccomp compiles (pure), and the per-pod cache that compiles
// each distinct rule list once (native/filter.c, in this process, never in
// the child).
import { release } from 'node:os'
import { PodError } from '../errors.js'
import { nodeCrypto } from '../node-crypto.js'
import { native, type NativeSeccompProfile } from '../spawn/index.js'
import type { SeccompFilter, SeccompProfile } from './profile.js'

export interface HostFacts {
  /** Go's name for this architecture (amd64, arm64, ...), as moby's includes.arches use. */
  goArch: string
  /** The native OCI architecture (SCMP_ARCH_X86_64, ...). */
  scmpArch: string
  /** Running kernel [major, minor]. */
  kernel: [number, number]
}

const ARCHES: Record<string, [string, string]> = {
  x64: ['amd64', 'SCMP_ARCH_X86_64'],
  ia32: ['x86', 'SCMP_ARCH_X86'],
  arm64: ['arm64', 'SCMP_ARCH_AARCH64'],
  arm: ['arm', 'SCMP_ARCH_ARM'],
  ppc64: ['ppc64le', 'SCMP_ARCH_PPC64LE'],
  s390x: ['s390x', 'SCMP_ARCH_S390X'],
  riscv64: ['riscv64', 'SCMP_ARCH_RISCV64'],
}

export function hostFacts(): HostFacts {
  const [goArch, scmpArch] = ARCHES[process.arch] ?? [process.arch, `SCMP_ARCH_${process.arch.toUpperCase()}`]
  const m = /^(\d+)\.(\d+)/.exec(release())
  return { goArch, scmpArch, kernel: m ? [Number(m[1]), Number(m[2])] : [0, 0] }
}

const atLeast = (k: [number, number], v: string) => {
  const [a, b] = v.split('.').map(Number)
  return k[0] > a || (k[0] === a && k[1] >= b)
}

function included(f: SeccompFilter | undefined, caps: Set<string>, host: HostFacts): boolean {
  if (!f) return true
  if (f.caps && !f.caps.every(c => caps.has(c))) return false
  if (f.arches && !f.arches.includes(host.goArch)) return false
  if (f.minKernel && !atLeast(host.kernel, f.minKernel)) return false
  return true
}

function excluded(f: SeccompFilter | undefined, caps: Set<string>, host: HostFacts): boolean {
  if (!f) return false
  if (f.caps?.some(c => caps.has(c))) return true
  if (f.arches?.includes(host.goArch)) return true
  if (f.minKernel && atLeast(host.kernel, f.minKernel)) return true
  return false
}

/**
 * The rules that apply to a container holding `caps` (names with CAP_, its
 * bounding set) on this host, one per syscall name. Rules whose action equals
 * the default are dropped (libseccomp refuses them, and they change nothing).
 */
export function resolveRules(profile: SeccompProfile, caps: string[], host: HostFacts = hostFacts()): NativeSeccompProfile {
  const held = new Set(caps.map(c => (c.startsWith('CAP_') ? c : `CAP_${c}`)))
  const defaultErrno = profile.defaultErrnoRet ?? 1
  const architectures =
    profile.architectures ??
    (() => {
      const m = profile.archMap?.find(a => a.architecture === host.scmpArch)
      return m ? [m.architecture, ...m.subArchitectures] : [host.scmpArch]
    })()
  const rules: NativeSeccompProfile['rules'] = []
  for (const s of profile.syscalls) {
    if (!included(s.includes, held, host) || excluded(s.excludes, held, host)) continue
    const errnoRet = s.action === 'SCMP_ACT_ERRNO' || s.action === 'SCMP_ACT_TRACE' ? (s.errnoRet ?? 1) : undefined
    if (s.action === profile.defaultAction && (errnoRet ?? defaultErrno) === defaultErrno) continue
    const args = s.args.map(a => ({ index: a.index, value: a.value.toString(), valueTwo: a.valueTwo.toString(), op: a.op }))
    for (const name of s.names) rules.push({ name, action: s.action, ...(errnoRet === undefined ? {} : { errnoRet }), ...(args.length ? { args } : {}) })
  }
  return { defaultAction: profile.defaultAction, defaultErrnoRet: defaultErrno, architectures, rules }
}

/** A compiled filter: struct sock_filter bytes, and the syscall names libseccomp skipped. */
export interface CompiledFilter {
  bpf: Buffer
  unknown: string[]
  /** sha256 of the resolved rule list: equal keys, equal filters. */
  key: string
}

const COMPILE_HINT = 'libseccomp (Debian libseccomp2) refused the profile: check the rule named above'

/** The addon's refusal worded: the rule (or the profile) and the libseccomp call that failed. */
function compileError(e: unknown, profile: NativeSeccompProfile): PodError {
  const err = e as NodeJS.ErrnoException & { rule?: number }
  if (typeof err.errno !== 'number') return PodError.system('seccomp.compile', e, undefined, { code: err.code, hint: COMPILE_HINT })
  const rule = err.rule ?? -1
  const where = rule >= 0 ? `rules[${rule}] (${profile.rules[rule]?.name ?? '?'})` : 'profile'
  return PodError.system('seccomp.compile', e, `${where}: ${err.syscall ?? 'libseccomp'}`, { hint: COMPILE_HINT })
}

// node:crypto loads with the first profile compiled, not with every pod's code.
const sha256 = (text: string): string => nodeCrypto().createHash('sha256').update(text).digest('hex')

/**
 * Compiles each distinct resolved profile once: a pod keeps one cache, so N
 * containers (and their restarts and execs) with the same profile and caps
 * share one compilation. `compiled` counts real compilations.
 */
export class SeccompCache {
  private readonly filters = new Map<string, CompiledFilter>()
  compiled = 0

  get(resolved: NativeSeccompProfile): CompiledFilter {
    const key = sha256(JSON.stringify(resolved))
    let f = this.filters.get(key)
    if (!f) {
      let out: { bpf: Buffer; unknown: string[] }
      try {
        out = native().compileSeccomp(resolved)
      } catch (e) {
        throw compileError(e, resolved)
      }
      f = { ...out, key }
      this.filters.set(key, f)
      this.compiled++
    }
    return f
  }
}
