// Which seccomp profile each container of a pod gets, as kubelet decides it,
// and the pod's compiled filters (made before anything else of the pod).
import { isAbsolute, join } from 'node:path'
import { readBounded } from '../bounded-read.js'
import { PodError } from '../errors.js'
import { CAPABILITIES, capabilityMasks, type ContainerSpec, type PodSpec } from '../spec/index.js'
import { resolveRules, SeccompCache, type CompiledFilter, type HostFacts } from './compile.js'
import { parseProfile, type SeccompProfile } from './profile.js'
import { RUNTIME_DEFAULT } from './runtime-default.js'

/**
 * Where a relative `localhostProfile` is found. Kubernetes resolves it below
 * kubelet's seccomp directory (/var/lib/kubelet/seccomp); we have no kubelet,
 * so below our own configuration directory. An absolute path is used as is.
 */
export const LOCALHOST_PROFILE_DIR = '/etc/pod-launch/seccomp'

export interface SeccompOptions {
  /** RuntimeDefault for containers that ask for nothing (kubelet's --seccomp-default). */
  seccompDefault?: boolean
  /** Base of relative localhostProfile paths (default LOCALHOST_PROFILE_DIR). */
  profileDir?: string
}

export interface SeccompChoice {
  type: 'Unconfined' | 'RuntimeDefault' | 'Localhost'
  /** Localhost: the resolved file. */
  path?: string
  /** Why, in words (for explain and check). */
  why: string
  /** The manifest field the choice came from, when it came from one. */
  field?: string
}

/** The profile a container gets: privileged = none; then container, pod, then the runtime default. */
export function chooseProfile(c: ContainerSpec, opts: SeccompOptions = {}): SeccompChoice {
  const s = c.securityContext
  if (s.privileged) return { type: 'Unconfined', why: 'privileged containers run without seccomp' }
  const ref = s.seccompProfile
  if (ref) {
    const path = ref.type === 'Localhost' ? localhostPath(ref.localhostProfile!, opts.profileDir) : undefined
    return { type: ref.type, path, field: ref.field, why: `from ${ref.field}` }
  }
  return opts.seccompDefault
    ? { type: 'RuntimeDefault', why: 'nothing asked; --seccomp-default gives RuntimeDefault' }
    : { type: 'Unconfined', why: 'nothing asked: the Kubernetes default (--seccomp-default gives RuntimeDefault)' }
}

export function localhostPath(p: string, dir = LOCALHOST_PROFILE_DIR): string {
  return isAbsolute(p) ? p : join(dir, p)
}

/** One line for explain and ps-like output: `RuntimeDefault (from ...)`. */
export function describeChoice(ch: SeccompChoice): string {
  return `${ch.type}${ch.path ? ` ${ch.path}` : ''} (${ch.why})`
}

/** A profile is a few KiB (Docker's default is 20); a cap keeps /dev/zero or a huge file out. */
export const PROFILE_MAX_BYTES = 1 << 20

/** Read and validate a Localhost profile; throws `seccomp.profile` (exit 2) naming the field and every problem. */
export function loadLocalhostProfile(path: string, field: string): SeccompProfile {
  const at = `${field}.localhostProfile`
  let text: string
  try {
    text = readBounded(path, PROFILE_MAX_BYTES).toString('utf8')
  } catch (e) {
    throw PodError.system('seccomp.profile', e, `${at}: ${path}`, {
      exitCode: 2,
      code: (e as { code?: string }).code,
      hint:
        `write the profile there (a relative localhostProfile is resolved below ${LOCALHOST_PROFILE_DIR}, ` +
        "as Kubernetes resolves it below kubelet's seccomp directory)",
    })
  }
  const { profile, problems } = parseProfile(text)
  if (!profile) {
    throw new PodError(`seccomp.profile: ${at}: ${path}: ${problems.map(p => `${p.path}: ${p.message}`).join('; ')}`, {
      step: 'seccomp.profile',
      code: 'SPEC_INVALID',
      path,
      exitCode: 2,
      hint: 'a profile in the OCI/Docker seccomp format: {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": [...], "action": "SCMP_ACT_ALLOW"}]}',
    })
  }
  return profile
}

/** One warning per Localhost profile naming syscalls libseccomp does not know (skipped, as runc skips them). */
export function seccompWarnings(prepared: Map<string, ContainerSeccomp>): string[] {
  const seen = new Map<string, string[]>()
  for (const { choice, filter } of prepared.values()) if (choice.type === 'Localhost' && filter?.unknown.length) seen.set(choice.path!, filter.unknown)
  return [...seen].map(([path, names]) => `seccomp: ${path}: syscalls unknown to libseccomp, skipped: ${names.join(', ')}`)
}

/** Capability names (CAP_*) of a container's bounding set. */
export function boundingCaps(c: ContainerSpec): string[] {
  const { bounding } = capabilityMasks(c.securityContext)
  return CAPABILITIES.filter((_, i) => bounding & (1n << BigInt(i))).map(n => `CAP_${n}`)
}

export interface ContainerSeccomp {
  choice: SeccompChoice
  /** Undefined when Unconfined. */
  filter?: CompiledFilter
}

/**
 * Every container's (and init container's) profile, read, validated and
 * compiled once per distinct (profile, caps): call it before the pod makes
 * anything. Throws `seccomp.profile` (exit 2) or `seccomp.compile`.
 */
export function preparePodSeccomp(spec: PodSpec, opts: SeccompOptions = {}, cache = new SeccompCache(), host?: HostFacts): Map<string, ContainerSeccomp> {
  const files = new Map<string, SeccompProfile>()
  const out = new Map<string, ContainerSeccomp>()
  for (const c of [...spec.initContainers, ...spec.containers]) {
    const choice = chooseProfile(c, opts)
    let profile: SeccompProfile | undefined
    if (choice.type === 'RuntimeDefault') profile = RUNTIME_DEFAULT
    else if (choice.type === 'Localhost') {
      profile = files.get(choice.path!) ?? loadLocalhostProfile(choice.path!, choice.field!)
      files.set(choice.path!, profile)
    }
    out.set(c.name, { choice, filter: profile && cache.get(resolveRules(profile, boundingCaps(c), host)) })
  }
  return out
}
