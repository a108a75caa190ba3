// A container's spawn plan: joins pause's namespaces (uts/ipc/net, pid when
// shared), makes its own mnt (and pid) namespace, runs argv. Pure apart from
// the fds it is given.
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { PodError } from '../errors.js'
import { imageAdditionalGids, imageArgv, imageEnv, imageWorkingDir, resolveImageUser } from '../rootfs/images/index.js'
import type { ImageSource } from '../rootfs/index.js'
import { CAPABILITIES, DEFAULT_PATH, capabilityMasks, containerArgv, resolveEnv, type ContainerSpec, type PodSpec, type RuntimeFacts } from '../spec/index.js'
import { native, type NativeMount, type NativePlan, type NsType } from '../spawn/native.js'

/** Container environment as the CRI runtimes build it: PATH, HOSTNAME, HOME, the image's Env, then the spec's. */
export function containerEnv(pod: PodSpec, c: ContainerSpec, facts: RuntimeFacts, image?: ImageSource): Map<string, string> {
  const env = new Map<string, string>([
    ['PATH', DEFAULT_PATH],
    // containerd: the sandbox's hostname; a hostNetwork pod has the host's.
    ['HOSTNAME', pod.hostNetwork ? hostname() : pod.hostname],
    ['HOME', '/root'],
  ])
  const config = image?.kind === 'layers' ? image.config : undefined
  for (const [k, v] of imageEnv(config ?? {}, resolveEnv(pod, c, facts))) env.set(k, v)
  return env
}

/** What a container runs, as kubelet decides it from the manifest and the image config. */
export interface RunConfig {
  argv: string[]
  env: Map<string, string>
  workingDir: string
  /** The image's USER, resolved in its /etc/passwd (runAsUser wins). */
  user?: { uid: number; gid: number }
  /** Groups the image's /etc/group gives the user (containerd adds them). */
  imageGroups?: number[]
}

export function runConfig(pod: PodSpec, c: ContainerSpec, facts: RuntimeFacts, image: ImageSource = { kind: 'host' }): RunConfig {
  const env = containerEnv(pod, c, facts, image)
  const config = image.kind === 'layers' ? image.config : undefined
  const argv = containerArgv(c, env, config && imageArgv(config, c.command, c.args))
  if (argv.length === 0) {
    throw new PodError(`container.command: container ${c.name}: no command: neither the manifest nor image ${c.image} gives one`, { step: 'container.command', code: 'EINVAL', hint: 'set command (or args) in the manifest' })
  }
  const user = config?.user && image.kind === 'layers' ? resolveImageUser(image.layers, config.user) : undefined
  const imageGroups = image.kind === 'layers' ? imageAdditionalGids(image.layers, c.securityContext.runAsUser ?? user?.uid ?? 0) : undefined
  return { argv, env, workingDir: imageWorkingDir(config ?? {}, c.workingDir), user, imageGroups }
}

export const envList = (env: Map<string, string>): string[] => [...env].map(([k, v]) => `${k}=${v}`)

/** The namespaces a container joins, from the fds pause's were opened into. */
export function joinList(shared: Map<NsType, number>, extra: Map<NsType, number> = new Map()): { type: NsType; fd: number }[] {
  const all = new Map([...shared, ...extra])
  return native()
    .namespaces.filter(t => t !== 'pid' && all.has(t))
    .map(type => ({ type, fd: all.get(type)! }))
}

export interface ContainerPlanInputs {
  shared: Map<NsType, number>
  stdio: [number, number, number]
  mounts: NativeMount[]
  run: RunConfig
  /** The container's compiled seccomp filter (preparePodSeccomp); undefined = Unconfined. */
  seccomp?: Buffer
}

/** The kernel's highest capability number (/proc/sys/kernel/cap_last_cap). */
let lastCap: number | undefined
function capLast(): number {
  if (lastCap === undefined) {
    try {
      lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim())
    } catch {
      lastCap = CAPABILITIES.length - 1
    }
  }
  return lastCap
}

/** Our own permitted set: a child can keep no capability we do not hold (capset(2) EPERM). */
let ownPermitted: bigint | undefined
function permitted(): bigint {
  if (ownPermitted === undefined) {
    const m = /^CapPrm:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))
    ownPermitted = m ? BigInt(`0x${m[1]}`) : 0n
  }
  return ownPermitted
}

/** Who the container runs as, with which capabilities: securityContext by the Kubernetes rules. */
export function containerIdentity(c: ContainerSpec, imageUser?: { uid: number; gid: number }, imageGroups: readonly number[] = []): { identity: NonNullable<NativePlan['identity']>; noNewPrivs: boolean } {
  const s = c.securityContext
  const masks = capabilityMasks(s, Math.min(capLast(), CAPABILITIES.length - 1))
  const bounding = masks.bounding & permitted()
  const effective = masks.effective & permitted()
  const uid = s.runAsUser ?? imageUser?.uid ?? 0
  if (s.runAsNonRoot && uid === 0) {
    throw new PodError(`security.run-as-non-root: container ${c.name}: container has runAsNonRoot and image will run as root`, {
      step: 'security.run-as-non-root',
      code: 'EPERM',
      hint: 'set securityContext.runAsUser to a non-zero uid',
    })
  }
  return {
    identity: { uid, gid: s.runAsGroup ?? (s.runAsUser === undefined ? imageUser?.gid : undefined) ?? 0, groups: processGroups(s, imageGroups), capBounding: bounding.toString(), capEffective: (uid === 0 ? effective : 0n).toString() },
    noNewPrivs: s.allowPrivilegeEscalation === false,
  }
}

/** Supplementary groups as containerd sets them: the image's for the user, supplementalGroups, then fsGroup. */
export function processGroups(s: ContainerSpec['securityContext'], imageGroups: readonly number[] = []): number[] {
  return [...new Set([...imageGroups, ...s.supplementalGroups, ...(s.fsGroup === undefined ? [] : [s.fsGroup])])]
}

/**
 * Soft RLIMIT_NOFILE of container processes: CRI containers inherit
 * containerd's limits, and containerd 2.x under systemd has 1024 soft, the
 * hard limit unchanged. Node raised our own soft limit to the hard one.
 */
export const CONTAINER_NOFILE_SOFT = 1024

export function containerPlan(pod: PodSpec, c: ContainerSpec, inp: ContainerPlanInputs): NativePlan {
  const { env, argv } = inp.run
  // A new pid namespace unless the pod shares pause's or the host's.
  const ownPid = !pod.shareProcessNamespace && !pod.hostPID
  return {
    file: argv[0],
    argv,
    envp: envList(env),
    searchPath: env.get('PATH'),
    cwd: inp.run.workingDir,
    join: joinList(inp.shared),
    unshare: ownPid ? ['mnt', 'pid'] : ['mnt'],
    pidns: inp.shared.get('pid'),
    newSession: true,
    dieWithParent: true,
    mounts: inp.mounts,
    stdio: inp.stdio,
    nofileSoft: CONTAINER_NOFILE_SOFT,
    ...containerIdentity(c, inp.run.user, inp.run.imageGroups),
    ...(inp.seccomp ? { seccomp: inp.seccomp } : {}),
  }
}
