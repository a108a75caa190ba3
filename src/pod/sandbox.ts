// The sandbox and container primitives (what the CRI's RunPodSandbox,
// CreateContainer, StartContainer, StopContainer, RemoveContainer,
// StopPodSandbox and RemovePodSandbox map onto, and what the lifecycle engine
// in pod.ts / runner.ts drives): the pod's directory, cgroups, volumes, pause
// in new uts, ipc and net namespaces (and pid when the pod shares its process
// namespace; hostNetwork / hostIPC / hostPID keep the host's), the network,
// the /etc files; then containers created from their plans and started,
// stopped and removed through the sandbox's ProcessHost. Every step registers
// its undo; `stop` and `remove` run them.
import { closeSync, openSync, renameSync, unlinkSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { createPodCgroups, detectCgroups, planPodCgroups, PodCgroups, realFs, type CgroupPlan } from '../cgroups/index.js'
import { crashPoint } from '../crash-point.js'
import { ignoreEnoent, PodError } from '../errors.js'
import { planLocalNetwork, type NetworkOptions, type NetworkPlan } from '../net/settings.js'
import { etcFilePaths, writeEtcFiles, type EtcFiles } from '../rootfs/etc-files.js'
import { resolveImages, type ImageSource } from '../rootfs/image.js'
import { prepareVolumes, volumeSources } from '../rootfs/volumes.js'
import { preparePodSeccomp, seccompWarnings, type ContainerSeccomp } from '../seccomp/index.js'
import { formatBytes, readsSecrets, type ContainerSpec, type PodObjects, type PodSpec, type RuntimeFacts } from '../spec/index.js'
import { checkPodConfig } from './config.js'
import { stopProcess, type NsType } from '../spawn/index.js'
import { containerDir, DEFAULT_STATE_ROOT, unmountBelow, volumesDir } from '../state/index.js'
import { DirectHost } from './direct-host.js'
import { closeAll, namespaceInodes, openNamespaces } from './namespaces.js'
import { nodeFacts, type NodeFacts } from './node.js'
import { parseNsRef, planContainer, planPause, stopSignalOf, sysctlPath, terminationLogOf, type SpawnPlan } from './plan.js'
import { PodDir } from './poddir.js'
import type { HostedProcess, ProcessExit, ProcessHost, ProcessIo } from './process-host.js'
import { UndoStack, type Warn } from './undo.js'

/** The CNI code (pod-network.ts): loaded for a pod with CNI, or a sandbox adopted; never for --network none or hostNetwork. */
const cni = () => import('../net/pod-network.js')

export type SandboxEvent =
  | { type: 'sandbox-started'; pod: string; pid: number; namespaces: Record<NsType, number> }
  | { type: 'network-attached'; pod: string; network: string; podIPs: string[] }

/** What a host factory gets: the pieces the sandbox made before pause. */
export interface HostContext {
  spec: PodSpec
  dir: PodDir
  cgroups: PodCgroups
  /** An open /dev/null. */
  devNull: number
  /** The fd of a `/proc/<pause>/ns/*` path (valid once pause runs). */
  nsFd: (path: string) => number
  dieWithParent: boolean
}

export interface SandboxOptions extends NetworkOptions {
  /** State root holding the pod's directory (default /run/pod-launch). */
  stateRoot?: string
  /** Keep the pod's directory (logs) when the sandbox is removed. */
  keepState?: boolean
  /** SIGKILL pause and the containers if this process dies (direct host; default true). */
  dieWithParent?: boolean
  cgroupParent?: string
  pidsLimit?: number
  /** kubelet's singleProcessOOMKill: on cgroup v2 no memory.oom.group=1 (the OOM killer takes one process, not the container). */
  singleProcessOOMKill?: boolean
  imageFallback?: 'host'
  seccompDefault?: boolean
  /** Called with the cgroup plan once the pod's directory exists and before any cgroup or process does (a throw aborts). */
  onIntent?: (intent: { cgroups: CgroupPlan }) => void
  onEvent?: (e: SandboxEvent) => void
  onWarning?: Warn
  /** The parent of pause and the containers (default: a DirectHost, children of this process). */
  host?: (ctx: HostContext) => ProcessHost
  /** The ConfigMaps and Secrets the pod may read (env, envFrom, configMap, secret and projected volumes). */
  objects?: PodObjects
}

/** A container created in the sandbox: its plan is built (and stored by the caller), not yet run. */
export interface SandboxContainer {
  readonly spec: ContainerSpec
  readonly init: boolean
  readonly plan: SpawnPlan
}

/** What a new engine knows of a sandbox it takes over (the pod record and the host). */
export interface AdoptedSandbox {
  host: ProcessHost
  /** pause as the host holds it (it may have exited meanwhile). */
  pause: HostedProcess
  pausePlan: SpawnPlan
  namespaces: Record<NsType, number>
  cgroupPlan: CgroupPlan
  podIPs: string[]
}

/** Start options of one run of a container. */
export interface ContainerStart {
  /** The run's CRI log file (kubelet's log_path under CRI; `<pod dir>/logs/<name>/<restart>.log` otherwise). */
  logPath: string
  /** The tty's first window size. */
  size?: { rows: number; cols: number }
  /** Which run this is (the restart count). */
  run?: number
}

/** pause's child.mount failure is a sysctl write: mounts[i] of its plan is sysctls[i] (planPause). */
export function sysctlError(e: unknown, spec: PodSpec, plan: SpawnPlan): unknown {
  if (!(e instanceof PodError) || e.step !== 'child.mount' || e.planIndex === undefined) return e
  const i = e.planIndex
  const s = spec.securityContext.sysctls[i]
  if (!s || plan.mounts[i]?.kind !== 'write' || plan.mounts[i].target !== sysctlPath(s.name)) return e
  const why =
    e.code === 'ENOENT'
      ? 'this kernel has no such sysctl'
      : e.code === 'EINVAL'
        ? `the kernel refused the value "${s.value}"`
        : `the kernel refused it (${e.code})`
  return new PodError(`sandbox.sysctl: spec.securityContext.sysctls[${i}] (${s.name}=${s.value}): ${why}`, {
    step: 'sandbox.sysctl',
    code: e.code,
    path: sysctlPath(s.name),
    cause: e,
    hint: `check the name and value (inside a pod: cat ${sysctlPath(s.name)}); see sysctl(8)`,
  })
}

/**
 * pause's namespaces could not be opened: it died at once. Say why, and a
 * pod memory limit too small even for pause (the kernel's OOM kill in the
 * pod cgroup) by name, rather than the missing /proc file.
 */
async function pauseDied(e: unknown, spec: PodSpec, pause: HostedProcess, cgroups: PodCgroups): Promise<unknown> {
  const exit = await Promise.race([pause.exited, new Promise<undefined>(res => setTimeout(res, 1000, undefined))])
  if (!exit) return e
  const limits = spec.containers.map(c => c.resources.limits.memoryBytes)
  const podLimit = limits.every(l => l !== undefined) ? limits.reduce((n, l) => n + l, 0) : undefined
  // The kill is counted in pause's cgroup or, where the kernel counts it at the limit's level only, the pod's.
  const oom = exit.signal === 'SIGKILL' && (exit.oomKilled || (await cgroups.oomKilledAfterExit('pause')) || cgroups.oomKilled('pod'))
  if (oom && podLimit !== undefined) {
    return new PodError(
      `sandbox.start: ${spec.name}: pause (pid ${pause.pid}) was killed by the pod's memory limit: ${formatBytes(podLimit)}, ` +
        "the sum of its containers' limits.memory, is too small to start the pod",
      { step: 'sandbox.start', code: 'OOMKilled', cause: e, hint: 'raise resources.limits.memory: the pod cgroup holds pause and every container' },
    )
  }
  const how = exit.signal ? `was killed by ${exit.signal}${oom ? ' (an OOM kill in the pod cgroup)' : ''}` : `exited with code ${exit.exitCode}`
  return new PodError(`sandbox.start: ${spec.name}: pause (pid ${pause.pid}) ${how} as it started`, { step: 'sandbox.start', code: 'ESRCH', cause: e })
}

const defaultWarn: Warn = m => process.stderr.write(`warning: ${m}\n`)

export class PodSandbox {
  /** pause's namespaces containers join, opened once it runs (exec and probes use them too). */
  readonly shared = new Map<NsType, number>()
  /** Namespace inodes of pause. */
  namespaces!: Record<NsType, number>
  /** What pause was started with. */
  plan!: SpawnPlan
  /** pause, once started. */
  process!: HostedProcess
  /** The pod's addresses from CNI (IPv4 first); the node's with hostNetwork; empty with loopback only. */
  podIPs: string[] = []
  facts!: RuntimeFacts
  etc!: EtcFiles
  /** Host path of each volume, by name. */
  volumes = new Map<string, string>()
  host!: ProcessHost
  cgroups!: PodCgroups
  /** An open /dev/null (stdin of exec'd processes). */
  devNull = -1
  /** Undone by stop() (and by recreate()): the network, pause, the namespace fds. */
  private readonly running = new UndoStack()
  /** What recreate() needs to make pause, the network and the /etc files again. */
  private again?: { network: NetworkPlan; node: NodeFacts; stateRoot: string; emit: (e: SandboxEvent) => void; objects?: PodObjects }
  /** Undone by remove(): /dev/null, volumes, cgroups, the directory. */
  private readonly made = new UndoStack()
  private stopped?: Promise<void>
  /** Container directories being deleted (removeContainer). */
  private readonly removing = new Set<Promise<void>>()
  private removed?: Promise<void>

  private constructor(
    readonly spec: PodSpec,
    readonly dir: PodDir,
    readonly images: Map<string, ImageSource>,
    readonly seccomp: Map<string, ContainerSeccomp>,
    private readonly warn: Warn,
  ) {}

  get pid(): number {
    return this.process.pid
  }

  /**
   * RunPodSandbox: seccomp profiles, the containers' images (in the store
   * already: the caller pulls them, as kubelet pulls before it creates a
   * container), the network plan (all before anything is made), then the pod's
   * directory, cgroups, volumes, pause, CNI ADD and the /etc files. Throws a
   * PodError (`state.*`, `cgroup.*`, `volume.*`, `spawn.*`, `child.*`,
   * `sandbox.sysctl`, `cni.*`) after undoing everything it made.
   */
  static async create(spec: PodSpec, opts: SandboxOptions = {}): Promise<PodSandbox> {
    const warn = opts.onWarning ?? defaultWarn
    const emit = opts.onEvent ?? (() => {})
    const stateRoot = opts.stateRoot ?? DEFAULT_STATE_ROOT
    // Its ConfigMaps and Secrets first: a missing one fails before anything is made.
    checkPodConfig(spec, opts.objects)
    // Seccomp profiles next: a Localhost profile that does not parse fails
    // before anything is made; each distinct filter is compiled once here.
    const seccomp = preparePodSeccomp(spec, { seccompDefault: opts.seccompDefault })
    for (const w of seccompWarnings(seccomp)) warn(w)
    // Images next: a missing one fails before anything is made.
    const images = resolveImages(spec, { imageFallback: opts.imageFallback, warn, storeRoot: opts.stateRoot })
    for (const c of [...spec.initContainers, ...spec.containers]) {
      const { ignored } = stopSignalOf(c, images.get(c.name))
      if (ignored !== undefined) warn(`container ${c.name}: image ${c.image}: StopSignal ${JSON.stringify(ignored)} names no signal; stop sends SIGTERM`)
    }
    // The network too: a bad conflist or a hostPort without CNI fails here.
    const network = planLocalNetwork(spec, opts) ?? (await cni()).planNetwork(spec, opts, warn)
    const dir = new PodDir(stateRoot, spec.uid)
    const sb = new PodSandbox(spec, dir, images, seccomp, warn)
    try {
      dir.create()
      if (!opts.keepState) sb.made.push(`remove ${dir.root}`, () => dir.remove())
      if (readsSecrets(spec)) {
        // Before anything of a Secret is written: its values live on this tmpfs (and secret volumes on their own).
        dir.openSecrets()
        sb.made.push('unmount the secrets tmpfs', () => dir.closeSecrets())
      }
      crashPoint('pod-dir')
      const cgroupPlan = planPodCgroups(spec, detectCgroups(), {
        parent: opts.cgroupParent,
        pidsLimit: opts.pidsLimit,
        singleProcessOOMKill: opts.singleProcessOOMKill,
      })
      opts.onIntent?.({ cgroups: cgroupPlan })
      crashPoint('intent')
      // Cgroups first: every process enters its cgroup before it execs. Their
      // undo runs last: kill whatever is left in them (forked daemons too), then rmdir.
      const cgroups = createPodCgroups(cgroupPlan)
      sb.cgroups = cgroups
      sb.made.push('kill and remove the pod cgroups', async () => {
        await cgroups.killAll()
        await cgroups.remove()
      })
      crashPoint('cgroups')
      // Volumes before any process: a bad hostPath fails here, with nothing running.
      const node = nodeFacts()
      const volumes = prepareVolumes(spec, dir.root, { allocatable: node.allocatable, objects: opts.objects })
      sb.volumes = volumes.sources
      sb.made.push('unmount volumes', () => volumes.release())
      crashPoint('volumes')
      const devNull = openSync('/dev/null', 'r+')
      sb.devNull = devNull
      sb.made.push('close /dev/null', () => closeSync(devNull))
      const dieWithParent = opts.dieWithParent ?? true
      const ctx: HostContext = { spec, dir, cgroups, devNull, nsFd: sb.pauseFd, dieWithParent }
      sb.host = opts.host ? opts.host(ctx) : new DirectHost({ ...ctx })
      sb.made.push('release the process host', () => sb.host.close())
      sb.again = { network, node, stateRoot, emit, objects: opts.objects }
      await sb.startRunning()
    } catch (e) {
      await sb.remove()
      throw e
    }
    return sb
  }

  /**
   * A sandbox another process created, taken over (a new engine adopting a
   * pod its shim kept running): its cgroups from the recorded plan, pause as
   * the host holds it, the network from its CNI record; the inputs of plans
   * (images, seccomp, volumes, /etc files) found again, nothing made anew.
   * Its undo is the same as a created one's.
   */
  static async adopt(spec: PodSpec, opts: SandboxOptions, a: AdoptedSandbox): Promise<PodSandbox> {
    const { detachFromRecord, planNetwork } = await cni() // first: the rest runs as one synchronous step
    const warn = opts.onWarning ?? defaultWarn
    const stateRoot = opts.stateRoot ?? DEFAULT_STATE_ROOT
    const seccomp = preparePodSeccomp(spec, { seccompDefault: opts.seccompDefault })
    let images = new Map<string, ImageSource>()
    try {
      images = resolveImages(spec, { imageFallback: opts.imageFallback, warn: () => {}, storeRoot: opts.stateRoot })
    } catch (e) {
      warn(`pod ${spec.name}: its images cannot be resolved again (a container not yet created will not start): ${(e as Error).message}`)
    }
    const dir = new PodDir(stateRoot, spec.uid)
    const sb = new PodSandbox(spec, dir, images, seccomp, warn)
    if (!opts.keepState) sb.made.push(`remove ${dir.root}`, () => dir.remove())
    const cgroups = new PodCgroups(a.cgroupPlan, realFs)
    sb.cgroups = cgroups
    sb.made.push('kill and remove the pod cgroups', async () => {
      await cgroups.killAll()
      await cgroups.remove()
    })
    if (readsSecrets(spec)) sb.made.push('unmount the secrets tmpfs', () => dir.closeSecrets())
    sb.volumes = volumeSources(spec, dir.root)
    sb.made.push('unmount volumes', () => unmountBelow(volumesDir(dir.root)))
    const devNull = openSync('/dev/null', 'r+')
    sb.devNull = devNull
    sb.made.push('close /dev/null', () => closeSync(devNull))
    sb.host = a.host
    sb.made.push('release the process host', () => sb.host.close())
    sb.plan = a.pausePlan
    sb.process = a.pause
    const pause = a.pause
    sb.running.push(`stop pause (pid ${pause.pid})`, async () => {
      pause.kill('SIGKILL')
      await pause.exited
    })
    try {
      for (const [type, fd] of openNamespaces(pause.pid, sb.plan.unshare)) sb.shared.set(type, fd)
      sb.namespaces = namespaceInodes(pause.pid)
    } catch {
      sb.namespaces = a.namespaces // pause died meanwhile: the pod ends (the sandbox died)
    }
    sb.running.push('close namespace fds', () => closeAll(sb.shared))
    const holder = sb.shared.has('net') ? `/proc/${process.pid}/fd/${sb.shared.get('net')}` : ''
    sb.running.push('CNI DEL', async () => void (await detachFromRecord(stateRoot, spec.uid, holder)))
    sb.podIPs = a.podIPs
    sb.etc = etcFilePaths(dir.root)
    sb.facts = { ...nodeFacts(), podIP: a.podIPs[0] ?? '', objects: opts.objects }
    try {
      // What recreate() needs should this pause die (a conflist gone since leaves the pod to end instead).
      sb.again = { network: planNetwork(spec, opts, warn), node: nodeFacts(), stateRoot, emit: opts.onEvent ?? (() => {}), objects: opts.objects }
    } catch (e) {
      warn(`pod ${spec.name}: its network cannot be planned again (a new sandbox could not be made): ${(e as Error).message}`)
    }
    return sb
  }

  /**
   * pause, the network (CNI ADD; DEL registered before the first plugin
   * runs), then the pod's /etc files with its IP: each undo in `running`.
   */
  private async startRunning(): Promise<void> {
    const { spec } = this
    const { network, node, stateRoot, emit, objects } = this.again!
    await this.startPause()
    crashPoint('sandbox')
    emit({ type: 'sandbox-started', pod: spec.name, pid: this.pid, namespaces: this.namespaces })
    // hostNetwork: the pod's IP is the node's, as Kubernetes reports it; else CNI's.
    this.podIPs = spec.hostNetwork && node.hostIP ? [node.hostIP] : []
    if (network.kind === 'cni') {
      // ADD with pause's namespace; DEL is registered before the first plugin runs. Should pause
      // die first, our fd to its namespace (closed by an earlier-registered undo, so later) still holds it.
      const holder = `/proc/${process.pid}/fd/${this.shared.get('net')}`
      const attached = await (await cni()).attachNetwork(network, spec, stateRoot, this.pid, (what, fn) => this.running.push(what, fn), holder)
      this.podIPs = attached.podIPs
      emit({ type: 'network-attached', pod: spec.name, network: network.list.name, podIPs: this.podIPs })
    }
    // The pod's /etc files once its IP is known (its own line in /etc/hosts).
    const podIP = this.podIPs[0] ?? ''
    this.etc = writeEtcFiles(spec, this.dir.root, podIP, { warn: this.warn })
    this.facts = { ...node, podIP, objects }
  }

  /**
   * pause died: what kubelet does for a changed sandbox once the containers
   * are killed. The old network goes (CNI DEL through our fd to its netns),
   * then a new pause in new namespaces, CNI ADD and the /etc files with the
   * new IP. The cgroups, volumes and directory stay. Containers created
   * before must be created again (their plans name the old namespaces).
   * Throws like create; stop() and remove() still undo what was made.
   */
  async recreate(): Promise<void> {
    if (this.stopped) throw new PodError(`sandbox.recreate: ${this.spec.name}: the sandbox is stopped`, { step: 'sandbox.recreate', code: 'EINVAL' })
    await this.running.run(this.warn) // empties it for the new pieces
    await this.startRunning()
  }

  /** pause: new namespaces, the pod's sysctls, /dev/null as stdio; then its namespaces opened for the containers. */
  private async startPause(): Promise<void> {
    const spec = this.spec
    this.plan = planPause(spec)
    this.process = await this.host.start({ name: 'pause', plan: this.plan, cgroup: 'pause', io: { kind: 'null' } }).catch(e => {
      throw sysctlError(e, spec, this.plan)
    })
    const pause = this.process
    // pause holds nothing to flush: SIGKILL (a SIGTERM sent before its handler is
    // installed would be ignored by a pid-1 pause).
    this.running.push(`stop pause (pid ${pause.pid})`, async () => {
      pause.kill('SIGKILL')
      await pause.exited
    })
    let opened: Map<NsType, number>
    try {
      opened = openNamespaces(pause.pid, this.plan.unshare)
    } catch (e) {
      throw await pauseDied(e, spec, pause, this.cgroups)
    }
    for (const [type, fd] of opened) this.shared.set(type, fd)
    this.running.push('close namespace fds', () => closeAll(this.shared))
    this.namespaces = namespaceInodes(pause.pid)
  }

  /** A `/proc/<pause>/ns/<type>` path of a plan: pause's fd, opened at sandbox start. */
  readonly pauseFd = (path: string): number => {
    const { who, type } = parseNsRef(path)
    const fd = who === 'pause' ? this.shared.get(type) : undefined
    if (fd === undefined) throw new PodError(`plan.path: ${path}: not a namespace of pause`, { step: 'plan.path', code: 'EBADF' })
    return fd
  }

  /**
   * CreateContainer: the container's cgroup (when the pod was not planned
   * with it) and its plan, built from the manifest, its image and the
   * sandbox (store it: every run executes it unchanged). A container the
   * sandbox's spec does not list (CRI) brings its resolved image and
   * compiled seccomp filter. Throws `container.command`,
   * `security.run-as-non-root`, `cgroup.*`, `container.image`.
   */
  createContainer(spec: ContainerSpec, init = false, own: { image?: ImageSource; seccomp?: Buffer } = {}): SandboxContainer {
    const image = own.image ?? this.images.get(spec.name)
    if (!image) {
      throw new PodError(`container.image: container ${spec.name}: no image resolved for it`, { step: 'container.image', code: 'EINVAL' })
    }
    const plan = planContainer(this.spec, spec, {
      podDir: this.dir.root,
      image,
      facts: this.facts,
      etc: this.etc,
      volumes: this.volumes,
      seccomp: own.seccomp ?? this.seccomp.get(spec.name)?.filter?.bpf,
      seal: (file, lists) => this.dir.seal(file, lists),
    })
    this.images.set(spec.name, image)
    this.cgroups.addContainer(spec)
    return { spec, init, plan }
  }

  /**
   * StartContainer: a fresh root and upper layer, a new termination-log,
   * then the host runs the plan into the container's cgroup, its output to
   * `start.logPath`. Throws like ProcessHost.start, nothing left behind.
   */
  async startContainer(c: SandboxContainer, start: ContainerStart): Promise<HostedProcess> {
    const { spec } = c
    this.dir.terminationLog(terminationLogOf(c.plan, spec, this.dir.root))
    this.dir.rootfs()
    if (this.images.get(spec.name)!.kind !== 'host') this.dir.freshLayer(spec.name)
    const io: ProcessIo = { kind: 'log', logPath: start.logPath, stdin: spec.stdin, stdinOnce: spec.stdinOnce, tty: spec.tty, size: start.size }
    return this.host.start({
      name: spec.name,
      plan: c.plan,
      run: start.run ?? 0,
      cgroup: spec.name,
      io,
      memoryLimited: spec.resources.limits.memoryBytes !== undefined,
    })
  }

  /** StopContainer: `signal` (SIGTERM), then SIGKILL after `graceMs` (0: at once); resolves with the exit. */
  stopContainer(proc: HostedProcess, graceMs: number, signal: NodeJS.Signals | number = 'SIGTERM'): Promise<ProcessExit> {
    return stopProcess(proc, graceMs, signal)
  }

  /** Kill whatever a container's run left in its cgroup (daemons in a shared pid namespace). Throws `cgroup.kill`. */
  async killLeftovers(name: string): Promise<void> {
    await this.cgroups.killAll(name)
  }

  /**
   * RemoveContainer: anything left in its cgroup, then its termination-log
   * and its directory (the overlay layers of an image other than `host`).
   * The directory is renamed away at once and deleted in the
   * background (each unlink and rmdir can take milliseconds on a busy disk, as
   * containerd leaves a removed container's snapshot to its garbage
   * collector); remove() waits for these deletions.
   */
  async removeContainer(c: SandboxContainer): Promise<void> {
    await this.killLeftovers(c.spec.name)
    const log = terminationLogOf(c.plan, c.spec, this.dir.root)
    try {
      ignoreEnoent(() => unlinkSync(log))
    } catch (e) {
      throw PodError.system('container.remove', e, log)
    }
    const dir = containerDir(this.dir.root, c.spec.name)
    const doomed = join(dirname(dir), `.removed-${basename(dir)}`)
    try {
      renameSync(dir, doomed)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return
      throw PodError.system('container.remove', e, dir)
    }
    const done: Promise<void> = rm(doomed, { recursive: true, force: true })
      .catch((e: Error) => this.warn(`container.remove: ${doomed}: ${e.message}`))
      .finally(() => this.removing.delete(done))
    this.removing.add(done)
  }

  /**
   * StopPodSandbox: CNI DEL, then pause (the containers should be stopped
   * first; whatever is left goes with the pod's cgroups at remove). Once.
   */
  stop(): Promise<void> {
    return (this.stopped ??= this.running.run(this.warn))
  }

  /** RemovePodSandbox: stop, then everything the sandbox made (volumes, cgroups, the directory unless keepState). Once. */
  remove(): Promise<void> {
    return (this.removed ??= this.stop()
      .then(() => Promise.all(this.removing))
      .then(() => this.made.run(this.warn)))
  }
}
