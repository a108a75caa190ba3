// The RuntimeService's sandboxes and containers on the engine's primitives
// (pod/sandbox.ts): a CRI sandbox is a PodSandbox whose spec has no
// containers; each CreateContainer adds one, planned like any other, and
// kubelet decides starts, stops and restarts. Ids are 64 hex digits (a
// sandbox's is also its pod uid: its directory and cgroup); any unique prefix
// names one, as crictl allows. Pause and the containers are children of
// the sandbox's shim (src/shim/), which outlives this server; the records are
// written to `<pod dir>/cri.json` after each change (persist.ts) and a new
// server adopts them (adopt.ts).
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import type { NetworkOptions } from '../net/index.js'
import { PodSandbox, execCapture, planExec, type HostedProcess, type ProcessExit, type SandboxContainer } from '../pod/index.js'
import { preparePodSeccomp, SeccompCache, seccompWarnings } from '../seccomp/index.js'
import { logFile } from '../state/index.js'
import { PodError } from '../errors.js'
import { resolveImageUser, type ImageRecord } from '../rootfs/images/index.js'
import { checkPropagation, criDevices } from './host-paths.js'
import { signalNumber } from '../spec/index.js'
import { findImage } from './images.js'
import { CRI_RECORD, writeStoredPod, type StoredContainer } from './persist.js'
import { ShimHost } from '../shim/host.js'
import { criError, notFound } from './status.js'
import { containerSpec, criResources, mountSources, portMappings, sandboxSpec, stopSignal } from './translate.js'
import type { ContainerConfig, LinuxContainerResources, PodSandboxConfig } from './types.js'

export type SandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY'
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN'

/** Nanoseconds since the epoch, as the CRI's int64 times. */
export const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n
const ns = (d: Date): bigint => BigInt(d.getTime()) * 1_000_000n

export interface SandboxRecord {
  id: string
  config: PodSandboxConfig
  runtimeHandler: string
  createdAt: bigint
  state: SandboxState
  sandbox: PodSandbox
  containers: Set<string>
}

export interface ContainerRecord {
  id: string
  sandboxId: string
  config: ContainerConfig
  createdAt: bigint
  startedAt: bigint
  finishedAt: bigint
  state: ContainerState
  exitCode: number
  reason: string
  message: string
  /** The image id (config digest) it was created from. */
  imageId: string
  logPath: string
  created: SandboxContainer
  process?: HostedProcess
  exited?: Promise<ProcessExit>
  /** The canonical stop signal name (translate.ts stopSignal). */
  signal: string
}

/** A user name in the image's /etc/passwd; throws INVALID_ARGUMENT naming the field when the image has none. */
function imageUserByName(step: string, image: ImageRecord, name: string): { uid: number; gid: number } {
  try {
    return resolveImageUser(image.layers, name)
  } catch (e) {
    if (!(e instanceof PodError)) throw e
    throw criError(
      step,
      `config.linux.security_context.run_as_username ${JSON.stringify(name)}`,
      `no such user in the /etc/passwd of image ${image.names[0] ?? image.id}`,
      'INVALID_ARGUMENT',
    )
  }
}

export type ContainerEvent = 'CONTAINER_CREATED_EVENT' | 'CONTAINER_STARTED_EVENT' | 'CONTAINER_STOPPED_EVENT' | 'CONTAINER_DELETED_EVENT'

export interface RuntimeOptions extends NetworkOptions {
  root: string
  cgroupParent?: string
  warn: (m: string) => void
}

/** A container's record as stored (persist.ts). */
export function storedContainer(c: ContainerRecord): StoredContainer {
  const { sandboxId: _s, process: _p, exited: _e, created, createdAt, startedAt, finishedAt, ...same } = c
  return {
    ...same,
    createdAt: createdAt.toString(),
    startedAt: startedAt.toString(),
    finishedAt: finishedAt.toString(),
    created: { spec: created.spec, plan: created.plan },
  }
}

function lookup<T>(all: Map<string, T>, id: string): T | undefined {
  if (id === '') return undefined
  const exact = all.get(id)
  if (exact) return exact
  const matches = [...all.keys()].filter(k => k.startsWith(id))
  return matches.length === 1 ? all.get(matches[0]) : undefined
}

/** Sandboxes and containers, and the events of their containers (GetContainerEvents). */
export class CriRuntime extends EventEmitter<{ event: [ContainerEvent, ContainerRecord] }> {
  readonly sandboxes = new Map<string, SandboxRecord>()
  readonly containers = new Map<string, ContainerRecord>()
  /** Compiled seccomp filters, by profile and capabilities (most containers share one). */
  private readonly seccomp = new SeccompCache()

  constructor(readonly o: RuntimeOptions) {
    super()
  }

  /** Write the sandbox's record and its containers' (cri.json); a failure is warned (the next change writes again). */
  save(id: string): void {
    const s = this.sandboxes.get(id)
    if (!s) return
    const sb = s.sandbox
    try {
      writeStoredPod(sb.dir.root, {
        sandbox: {
          id: s.id,
          config: s.config,
          runtimeHandler: s.runtimeHandler,
          createdAt: s.createdAt.toString(),
          state: s.state,
          spec: sb.spec,
          cgroupPlan: sb.cgroups.plan,
          pausePlan: sb.plan,
          namespaces: sb.namespaces,
          podIPs: sb.podIPs,
        },
        containers: [...s.containers].flatMap(c => {
          const r = this.containers.get(c)
          return r ? [storedContainer(r)] : []
        }),
      })
    } catch (e) {
      this.o.warn(`sandbox ${id}: ${(e as Error).message}`)
    }
  }

  /** Track a sandbox: pause's end makes it NOT_READY (kubelet then makes a new one), as containerd reports a dead sandbox task. */
  track(s: SandboxRecord): void {
    this.sandboxes.set(s.id, s)
    void s.sandbox.process.exited.then(() => {
      if (this.sandboxes.get(s.id) !== s || s.state !== 'SANDBOX_READY') return
      s.state = 'SANDBOX_NOTREADY'
      this.save(s.id)
    })
  }

  /** Follow a run of a container to its exit (Exited, its code, reason and finish time, saved). */
  follow(c: ContainerRecord, proc: HostedProcess): void {
    c.process = proc
    c.state = 'CONTAINER_RUNNING'
    c.startedAt = ns(proc.startedAt)
    c.exited = proc.exited.then(exit => {
      c.state = 'CONTAINER_EXITED'
      c.exitCode = exit.exitCode
      c.finishedAt = ns(exit.finishedAt)
      c.reason = exit.lost ? 'Unknown' : exit.oomKilled ? 'OOMKilled' : exit.exitCode === 0 ? 'Completed' : 'Error'
      if (exit.lost) c.message = exit.lost
      this.save(c.sandboxId)
      this.emit('event', 'CONTAINER_STOPPED_EVENT', c)
      return exit
    })
  }

  /** Let go of every shim without stopping it (the server stops; the pods run on for the next one). */
  detachAll(): void {
    for (const s of this.sandboxes.values()) if (s.sandbox.host instanceof ShimHost) s.sandbox.host.detach()
  }

  sandbox(id: string): SandboxRecord | undefined {
    return lookup(this.sandboxes, id)
  }

  container(id: string): ContainerRecord | undefined {
    return lookup(this.containers, id)
  }

  mustSandbox(step: string, id: string): SandboxRecord {
    const s = this.sandbox(id)
    if (!s) throw notFound(step, 'sandbox', id)
    return s
  }

  mustContainer(step: string, id: string): ContainerRecord {
    const c = this.container(id)
    if (!c) throw notFound(step, 'container', id)
    return c
  }

  async runSandbox(config: PodSandboxConfig, runtimeHandler: string): Promise<string> {
    if (runtimeHandler !== '' && runtimeHandler !== 'pod-launch') {
      throw criError('cri.RunPodSandbox', `runtime_handler ${JSON.stringify(runtimeHandler)}`, 'not configured (the one handler is "")', 'INVALID_ARGUMENT')
    }
    const id = randomBytes(32).toString('hex')
    const spec = sandboxSpec(id, config)
    const sandbox = await PodSandbox.create(spec, {
      stateRoot: this.o.root,
      dieWithParent: false,
      // The sandbox's shim is the parent of pause and the containers: they outlive this server.
      host: ctx => new ShimHost({ podDir: ctx.dir.root, cgroups: ctx.cgroups }),
      cgroupParent: config.linux?.cgroupParent || this.o.cgroupParent,
      network: this.o.network,
      cniConfDir: this.o.cniConfDir,
      cniBinDir: this.o.cniBinDir,
      portMappings: portMappings(config),
      onWarning: this.o.warn,
    })
    this.track({ id, config, runtimeHandler, createdAt: nowNs(), state: 'SANDBOX_READY', sandbox, containers: new Set() })
    this.save(id)
    return id
  }

  /** Idempotent: every container is stopped (SIGKILL), then the network and pause. */
  async stopSandbox(id: string): Promise<void> {
    const s = this.sandbox(id)
    if (!s) return
    await Promise.all([...s.containers].map(c => this.stopContainer(c, 0)))
    await s.sandbox.stop()
    s.state = 'SANDBOX_NOTREADY'
    this.save(s.id)
  }

  /** Idempotent: stop, remove every container, then the sandbox's directory and cgroups. */
  async removeSandbox(id: string): Promise<void> {
    const s = this.sandbox(id)
    if (!s) return
    await this.stopSandbox(s.id)
    for (const c of [...s.containers]) await this.removeContainer(c)
    await s.sandbox.remove()
    rmSync(join(s.sandbox.dir.root, CRI_RECORD), { force: true })
    this.sandboxes.delete(s.id)
  }

  async createContainer(sandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig | null): Promise<string> {
    const step = 'cri.CreateContainer'
    const s = this.mustSandbox(step, sandboxId)
    if (s.state !== 'SANDBOX_READY') throw criError(step, `sandbox ${s.id}`, 'is not ready (stopped)', 'FAILED_PRECONDITION')
    const id = randomBytes(32).toString('hex')
    const spec = containerSpec(id, config)
    const devices = criDevices(config)
    if (devices.length > 0) spec.devices = devices
    checkPropagation(config, s.sandbox.dir.root)
    const image = findImage(this.o.root, spec.image)
    if (!image) {
      throw criError(
        step,
        `config.image.image ${JSON.stringify(spec.image)}`,
        'no such image in the local store',
        'NOT_FOUND',
        'kubelet pulls it first (PullImage)',
      )
    }
    // run_as_username: the image's /etc/passwd gives the uid, and the group unless run_as_group does (containerd's WithUser).
    const username = config.linux?.securityContext?.runAsUsername
    if (username && spec.securityContext.runAsUser === undefined) {
      const user = imageUserByName(step, image, username)
      spec.securityContext.runAsUser = user.uid
      spec.securityContext.runAsGroup ??= user.gid
    }
    // Its seccomp filter (a Localhost profile read and checked here), compiled as a pod's containers' are.
    const seccomp = preparePodSeccomp({ ...s.sandbox.spec, initContainers: [], containers: [spec] }, {}, this.seccomp)
    for (const w of seccompWarnings(seccomp)) this.o.warn(w)
    for (const [name, path] of mountSources(id, config)) s.sandbox.volumes.set(name, path)
    const created = s.sandbox.createContainer(spec, false, {
      image: { kind: 'layers', layers: image.layers, config: image.config },
      seccomp: seccomp.get(spec.name)?.filter?.bpf,
    })
    const logDir = (sandboxConfig ?? s.config).logDirectory
    const logPath = logDir && config.logPath ? join(logDir, config.logPath) : logFile(s.sandbox.dir.root, id, 0)
    const rec: ContainerRecord = {
      id,
      sandboxId: s.id,
      config,
      createdAt: nowNs(),
      startedAt: 0n,
      finishedAt: 0n,
      state: 'CONTAINER_CREATED',
      exitCode: 0,
      reason: '',
      message: '',
      imageId: image.id,
      logPath,
      created,
      signal: stopSignal(config.stopSignal, image.config.stopSignal),
    }
    this.containers.set(id, rec)
    s.containers.add(id)
    this.save(s.id)
    this.emit('event', 'CONTAINER_CREATED_EVENT', rec)
    return id
  }

  async startContainer(id: string): Promise<void> {
    const step = 'cri.StartContainer'
    const c = this.mustContainer(step, id)
    if (c.state !== 'CONTAINER_CREATED')
      throw criError(step, `container ${c.id}`, `is ${c.state.replace('CONTAINER_', '').toLowerCase()}, not created`, 'FAILED_PRECONDITION')
    const s = this.mustSandbox(step, c.sandboxId)
    let proc: HostedProcess
    try {
      proc = await s.sandbox.startContainer(c.created, { logPath: c.logPath })
    } catch (e) {
      // As containerd: a container that could not start is exited, with the reason.
      c.state = 'CONTAINER_EXITED'
      c.exitCode = 128
      c.reason = 'StartError'
      c.message = (e as Error).message
      c.finishedAt = nowNs()
      this.save(s.id)
      this.emit('event', 'CONTAINER_STOPPED_EVENT', c)
      throw e
    }
    this.follow(c, proc)
    this.save(s.id)
    this.emit('event', 'CONTAINER_STARTED_EVENT', c)
  }

  /** Idempotent: `timeoutSec` after the stop signal, SIGKILL; a created container is left as it is. */
  async stopContainer(id: string, timeoutSec: number): Promise<void> {
    const c = this.container(id)
    if (!c?.process || c.state !== 'CONTAINER_RUNNING') return
    const s = this.mustSandbox('cri.StopContainer', c.sandboxId)
    await s.sandbox.stopContainer(c.process, Math.max(0, timeoutSec) * 1000, signalNumber(c.signal) ?? 'SIGTERM')
    await c.exited
    await s.sandbox.killLeftovers(c.created.spec.name)
  }

  /** Idempotent: a running container is killed first; its log file stays (kubelet's). */
  async removeContainer(id: string): Promise<void> {
    const c = this.container(id)
    if (!c) return
    await this.stopContainer(c.id, 0)
    const s = this.sandbox(c.sandboxId)
    if (s) {
      await s.sandbox.removeContainer(c.created)
      if (s.sandbox.host instanceof ShimHost) await s.sandbox.host.forget(c.created.spec.name)
      s.containers.delete(c.id)
      for (const [name] of mountSources(c.id, c.config)) s.sandbox.volumes.delete(name)
      this.save(s.id)
    }
    this.containers.delete(c.id)
    this.emit('event', 'CONTAINER_DELETED_EVENT', c)
  }

  /** ReopenContainerLog: after kubelet renamed the log, new records go to a new file at log_path. Running containers only, as containerd. */
  async reopenLog(id: string): Promise<void> {
    const step = 'cri.ReopenContainerLog'
    const c = this.mustContainer(step, id)
    if (c.state !== 'CONTAINER_RUNNING' || !c.process) throw criError(step, `container ${c.id}`, 'is not running', 'FAILED_PRECONDITION')
    await c.process.reopenLog()
  }

  /** New cpu/memory limits in the container's cgroup (kept in its config for ContainerStatus). */
  updateResources(id: string, linux: LinuxContainerResources | null): void {
    const step = 'cri.UpdateContainerResources'
    const c = this.mustContainer(step, id)
    if (!linux) return
    const s = this.mustSandbox(step, c.sandboxId)
    s.sandbox.cgroups.updateContainer({ name: c.created.spec.name, resources: criResources(linux) })
    c.config = { ...c.config, linux: { securityContext: c.config.linux?.securityContext ?? null, resources: linux } }
    this.save(s.id)
  }

  /** ExecSync: stdout and stderr apart (16 MiB each, as kubelet caps them), SIGKILL after `timeoutSec` (0: none). */
  async execSync(id: string, cmd: string[], timeoutSec: number): Promise<{ stdout: Buffer; stderr: Buffer; exitCode: number }> {
    const step = 'cri.ExecSync'
    const c = this.mustContainer(step, id)
    if (cmd.length === 0) throw criError(step, 'cmd', 'a command is required', 'INVALID_ARGUMENT')
    if (c.state !== 'CONTAINER_RUNNING' || !c.process) throw criError(step, `container ${c.id}`, 'is not running', 'FAILED_PRECONDITION')
    const s = this.mustSandbox(step, c.sandboxId).sandbox
    const r = await execCapture(
      {
        pid: c.process.pid,
        plan: planExec(c.created.plan, cmd),
        shared: s.shared,
        devNull: s.devNull,
        enter: p => s.cgroups.enter(p, c.created.spec.name, { exec: true }),
      },
      timeoutSec * 1000,
      { maxBytes: 16 * 1024 * 1024 },
    )
    if (r.timedOut) throw criError(step, `container ${c.id}: ${cmd[0]}`, `timed out after ${timeoutSec} s (killed)`, 'DEADLINE_EXCEEDED')
    return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode }
  }
}
