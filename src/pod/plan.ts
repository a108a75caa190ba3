// The process plans: what the child of each spawn executes (pause, a
// container, an exec in one: hooks, exec probes, `pod-launch exec`), built
// here and nowhere else. A plan is plain, versioned JSON: namespace fds are
// references to named paths (`/proc/<pause>/ns/net`, `/proc/<container>/ns/mnt`),
// bound to real fds only at spawn (bindPlan). A container's plan is built once,
// stored in the pod record, printed by explain and copied by exec.
import { hostname } from 'node:os'
import { PodError } from '../errors.js'
import { imageAdditionalGids, imageArgv, imageEnv, imageWorkingDir, resolveImageUser } from '../rootfs/images/run-config.js'
import { boundFile, rootfsMounts } from '../rootfs/plan.js'
import type { EtcFiles } from '../rootfs/etc-files.js'
import type { ImageSource } from '../rootfs/image.js'
import {
  CAPABILITIES,
  DEFAULT_PATH,
  capabilityMasks,
  containerArgv,
  DEFAULT_STOP_SIGNAL,
  parseStopSignal,
  resolveContainerEnv,
  type ContainerSpec,
  type PodSpec,
  type RuntimeFacts,
  type Sysctl,
} from '../spec/index.js'
import {
  native,
  pausePath,
  type NativeMount,
  type NativePlan,
  type NsType,
  nsRef,
  PLAN_VERSION,
  type PlanJoin,
  type SealedLists,
  type SpawnPlan,
} from '../spawn/index.js'
export {
  bindPlan,
  checkPlan,
  nsRef,
  parseNsRef,
  planPaths,
  PLAN_VERSION,
  unsealPlan,
  type SealedLists,
  type PlanBindings,
  type PlanJoin,
  type PlanPid,
  type SpawnPlan,
} from '../spawn/index.js'
import { rootfsDir, sealedFile, shmDir, terminationLogFile, upperDir, workDir } from '../state/index.js'

/** Namespaces pause makes (in join order). hostNetwork implies the host's uts too, as in Kubernetes. */
export function sandboxNamespaces(spec: PodSpec): NsType[] {
  const ns: NsType[] = []
  if (!spec.hostIPC) ns.push('ipc')
  if (!spec.hostNetwork) ns.push('uts', 'net')
  if (spec.shareProcessNamespace) ns.push('pid')
  return ns
}

/** /proc/sys path of a sysctl name (dots separate levels; a '/' inside a level, as in eth0/100, is a '.' in the file name). */
export const sysctlPath = (name: string) => `/proc/sys/${name.replace(/[./]/g, ch => (ch === '.' ? '/' : '.'))}`

/**
 * spec.securityContext.sysctls, written by pause's child right after it made
 * the pod's namespaces, before pause runs: /proc/sys/net and the ipc sysctls
 * resolve to the namespaces of the process that opens them, as runc relies on.
 */
export function sysctlWrites(sysctls: readonly Sysctl[]): NativeMount[] {
  return sysctls.map(s => ({ kind: 'write', source: s.value, target: sysctlPath(s.name) }))
}

/** pause: new uts/ipc/net (pid when shared), the pod's sysctls, the pause binary. */
export function planPause(spec: PodSpec, pauseFile: string = pausePath()): SpawnPlan {
  const unshare = sandboxNamespaces(spec)
  return {
    version: PLAN_VERSION,
    argv: [pauseFile],
    envp: [],
    cwd: '/',
    join: [],
    unshare,
    ...(unshare.includes('uts') ? { hostname: spec.hostname } : {}),
    loopback: unshare.includes('net'),
    newSession: true,
    mounts: sysctlWrites(spec.securityContext.sysctls),
  }
}

/**
 * A process of the host check (`pod-launch check`): `true` in our own
 * namespaces, to prove clone with a pidfd works, and that the kernel loads a
 * compiled seccomp filter (with no_new_privs, as a restricted container).
 */
export function planHostCheck(opts: { seccomp?: Buffer } = {}): SpawnPlan {
  return {
    version: PLAN_VERSION,
    argv: ['true'],
    envp: [],
    searchPath: '/usr/bin:/bin',
    cwd: '/',
    join: [],
    unshare: [],
    newSession: false,
    mounts: [],
    ...(opts.seccomp ? { noNewPrivs: true, seccomp: opts.seccomp.toString('base64') } : {}),
  }
}

/** The `fdOf` of a plan that joins no namespace (pause, host checks): any path is a bug, named. */
export function joinsNothing(who: string): (path: string) => number {
  return path => {
    throw new PodError(`plan.path: ${path}: ${who} joins no namespace`, { step: 'plan.path', code: 'EINVAL' })
  }
}

/** Container environment as the CRI runtimes build it: PATH, HOSTNAME, HOME, the image's Env, then the spec's. */
export function containerEnv(pod: PodSpec, c: ContainerSpec, facts: RuntimeFacts, image?: ImageSource): Map<string, string> {
  return containerEnvSealed(pod, c, facts, image).env
}

/** containerEnv, and the stand-ins of the variables whose values come from Secrets. */
function containerEnvSealed(
  pod: PodSpec,
  c: ContainerSpec,
  facts: RuntimeFacts,
  image?: ImageSource,
): { env: Map<string, string>; sealed: Map<string, string> } {
  const env = new Map<string, string>([
    ['PATH', DEFAULT_PATH],
    // containerd: the sandbox's hostname; a hostNetwork pod has the host's.
    ['HOSTNAME', pod.hostNetwork ? hostname() : pod.hostname],
    ['HOME', '/root'],
  ])
  const config = image?.kind === 'layers' ? image.config : undefined
  const spec = resolveContainerEnv(pod, c, facts)
  for (const [k, v] of imageEnv(config ?? {}, spec.env)) env.set(k, v)
  return { env, sealed: spec.sealed }
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
  /** Variables whose values come from Secrets: name -> the stand-in plans show. */
  sealed: Map<string, string>
  /** argv with those variables unexpanded, as plans show it. */
  shownArgv: string[]
}

export function runConfig(pod: PodSpec, c: ContainerSpec, facts: RuntimeFacts, image: ImageSource = { kind: 'host' }): RunConfig {
  const { env, sealed } = containerEnvSealed(pod, c, facts, image)
  const config = image.kind === 'layers' ? image.config : undefined
  const fromImage = config && imageArgv(config, c.command, c.args)
  const argv = containerArgv(c, env, fromImage)
  if (argv.length === 0) {
    throw new PodError(`container.command: container ${c.name}: no command: neither the manifest nor image ${c.image} gives one`, {
      step: 'container.command',
      code: 'EINVAL',
      hint: 'set command (or args) in the manifest',
    })
  }
  const user = config?.user && image.kind === 'layers' ? resolveImageUser(image.layers, config.user) : undefined
  const imageGroups = image.kind === 'layers' ? imageAdditionalGids(image.layers, c.securityContext.runAsUser ?? user?.uid ?? 0) : undefined
  const shownArgv = sealed.size > 0 ? containerArgv(c, env, fromImage, sealed) : argv
  return { argv, env, workingDir: imageWorkingDir(config ?? {}, c.workingDir), user, imageGroups, sealed, shownArgv }
}

/**
 * The signal a graceful stop sends first, and where it comes from, as the
 * 1.33 order has it: lifecycle.stopSignal, else the image's StopSignal
 * (parsed as containerd does), else SIGTERM. `ignored`: an image StopSignal
 * that names no signal (SIGTERM is used).
 */
export function stopSignalOf(c: ContainerSpec, image: ImageSource = { kind: 'host' }): { signal: string; from: string; ignored?: string } {
  if (c.lifecycle.stopSignal) return { signal: c.lifecycle.stopSignal, from: 'lifecycle.stopSignal' }
  const raw = image.kind === 'layers' ? image.config?.stopSignal : undefined
  const parsed = raw === undefined ? undefined : parseStopSignal(raw)
  if (parsed) return { signal: parsed, from: `the image's StopSignal` }
  return { signal: DEFAULT_STOP_SIGNAL, from: 'the default', ...(raw !== undefined && { ignored: raw }) }
}

export const envList = (env: Map<string, string>): string[] => [...env].map(([k, v]) => `${k}=${v}`)

/** setns(2) entries in the addon's join order (pid is never setns'd: the parent places it). */
function joinList(refs: Map<NsType, string>): PlanJoin[] {
  return native()
    .namespaces.filter(t => t !== 'pid' && refs.has(t))
    .map(type => ({ type, path: refs.get(type)! }))
}

/** Who the container runs as, with which capabilities: securityContext by the Kubernetes rules. */
export function containerIdentity(
  c: ContainerSpec,
  imageUser?: { uid: number; gid: number },
  imageGroups: readonly number[] = [],
): { identity: NonNullable<NativePlan['identity']>; noNewPrivs: boolean } {
  const s = c.securityContext
  const n = native()
  const masks = capabilityMasks(s, Math.min(n.capLast(), CAPABILITIES.length - 1))
  const bounding = masks.bounding & n.permittedCaps()
  const effective = masks.effective & n.permittedCaps()
  const uid = s.runAsUser ?? imageUser?.uid ?? 0
  if (s.runAsNonRoot && uid === 0) {
    throw new PodError(`security.run-as-non-root: container ${c.name}: container has runAsNonRoot and image will run as root`, {
      step: 'security.run-as-non-root',
      code: 'EPERM',
      hint: 'set securityContext.runAsUser to a non-zero uid',
    })
  }
  return {
    identity: {
      uid,
      gid: s.runAsGroup ?? (s.runAsUser === undefined ? imageUser?.gid : undefined) ?? 0,
      groups: processGroups(s, imageGroups),
      capBounding: bounding.toString(),
      capEffective: (uid === 0 ? effective : 0n).toString(),
    },
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

export interface ContainerPlanInputs {
  /** The pod's directory (`<pod dir>` in explain): the container's root, layers and termination-log below it. */
  podDir: string
  image: ImageSource
  facts: RuntimeFacts
  etc: EtcFiles
  /** Host path of each volume, by name. */
  volumes: Map<string, string>
  /** The container's compiled seccomp filter (preparePodSeccomp); undefined = Unconfined. */
  seccomp?: Buffer
  /** Store the real envp and argv of a container that reads Secrets at `file` (the plan itself shows stand-ins); unset: nothing is written (explain). */
  seal?: (file: string, lists: SealedLists) => void
}

/**
 * A container: joins pause's namespaces (uts/ipc/net; pid when shared), makes
 * its own mnt (and pid) namespace, builds its root, becomes its user, runs
 * argv. Throws `container.command`, `security.run-as-non-root`.
 */
export function planContainer(pod: PodSpec, c: ContainerSpec, inp: ContainerPlanInputs): SpawnPlan {
  const run = runConfig(pod, c, inp.facts, inp.image)
  const { env, sealed } = run
  const argv = run.shownArgv
  const shownEnv = new Map([...env].map(([k, v]) => [k, sealed.get(k) ?? v]))
  const sealedAt = sealed.size > 0 ? { file: sealedFile(inp.podDir, c.name), argv: argv.some((a, i) => a !== run.argv[i]) } : undefined
  if (sealedAt) inp.seal?.(sealedAt.file, { envp: envList(env), argv: run.argv })
  const image = inp.image
  const mounts = rootfsMounts({
    root: rootfsDir(inp.podDir),
    source: image.kind === 'host' ? image : { kind: 'overlay', lower: image.layers, upper: upperDir(inp.podDir, c.name), work: workDir(inp.podDir, c.name) },
    shmDir: pod.hostIPC ? '/dev/shm' : shmDir(inp.podDir),
    ownIpc: !pod.hostIPC,
    etc: inp.etc,
    terminationLog: { source: terminationLogFile(inp.podDir, c.name), target: c.terminationMessagePath },
    volumes: { mounts: c.volumeMounts, sources: inp.volumes },
    workingDir: run.workingDir,
    readOnlyRoot: c.securityContext.readOnlyRootFilesystem,
    privileged: c.securityContext.privileged,
    devices: c.devices,
    maskedPaths: c.securityContext.maskedPaths,
    readonlyPaths: c.securityContext.readonlyPaths,
  })
  const shared = sandboxNamespaces(pod)
  // A new pid namespace unless the pod shares pause's or the host's.
  const ownPid = !pod.shareProcessNamespace && !pod.hostPID
  return {
    version: PLAN_VERSION,
    file: argv[0],
    argv,
    envp: envList(shownEnv),
    ...(sealed.has('PATH') ? {} : { searchPath: env.get('PATH') }),
    cwd: run.workingDir,
    join: joinList(new Map(shared.filter(t => t !== 'pid').map(t => [t, nsRef('pause', t)]))),
    ...(shared.includes('pid') ? { pidns: nsRef('pause', 'pid') } : {}),
    unshare: ownPid ? ['mnt', 'pid'] : ['mnt'],
    newSession: true,
    mounts,
    nofileSoft: CONTAINER_NOFILE_SOFT,
    ...containerIdentity(c, run.user, run.imageGroups),
    ...(inp.seccomp ? { seccomp: inp.seccomp.toString('base64') } : {}),
    ...(sealedAt ? { sealed: sealedAt } : {}),
    stopSignal: stopSignalOf(c, image).signal,
  }
}

/**
 * The file in the pod's directory that a container's plan binds at its
 * terminationMessagePath (a file outside it bound there too, as a kubelet's
 * own termination-log by a CRI mount, is never made, emptied or removed
 * here), read from the plan (pod.json stores it) so that a container planned by a
 * pod-launch of another state layout (an adopted detached pod) keeps its
 * messages; the layout's file when there is no plan, when a stored one
 * holds no mounts (pod-launch always stores them; a record made by other
 * means may not), or when it binds none there.
 */
export const terminationLogOf = (plan: SpawnPlan | undefined, c: ContainerSpec, podDir: string): string =>
  (plan?.mounts && boundFile(plan.mounts, c.terminationMessagePath, podDir)) ?? terminationLogFile(podDir, c.name)

/**
 * A process run inside a running container (hooks, exec probes, `pod-launch
 * exec`), copied from the container's stored plan as containerd copies
 * spec.Process: its env, cwd, user, capabilities, seccomp; joins the
 * container's mnt and pid namespaces besides pause's; no mounts, nothing new.
 */
export function planExec(container: SpawnPlan, argv: string[], opts: { newSession?: boolean } = {}): SpawnPlan {
  const refs = new Map(container.join.map(j => [j.type, j.path]))
  refs.set('mnt', nsRef('container', 'mnt'))
  const searchPath = container.searchPath
  return {
    version: PLAN_VERSION,
    file: argv[0],
    argv,
    envp: container.envp,
    ...(searchPath !== undefined ? { searchPath } : {}),
    cwd: container.cwd,
    join: joinList(refs),
    // Its root, entered after the joins (nsenter --root), not the mount namespace's root.
    root: 'container',
    // The container's pid namespace (the one its main process is in).
    pidns: nsRef('container', 'pid'),
    unshare: [],
    newSession: opts.newSession ?? true,
    mounts: [],
    ...(container.nofileSoft !== undefined ? { nofileSoft: container.nofileSoft } : {}),
    ...(container.identity ? { identity: container.identity } : {}),
    ...(container.noNewPrivs !== undefined ? { noNewPrivs: container.noNewPrivs } : {}),
    ...(container.seccomp ? { seccomp: container.seccomp } : {}),
    // The container's real env (its argv is not the exec's).
    ...(container.sealed ? { sealed: { file: container.sealed.file, argv: false } } : {}),
  }
}
