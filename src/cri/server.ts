// `pod-launch cri`: the CRI RuntimeService and ImageService over gRPC on a
// unix socket (@grpc/grpc-js). Each method is a plain async function of the
// decoded request; a thrown PodError becomes the gRPC status kubelet expects
// (status.ts). Methods the .proto lists that no handler serves answer
// UNIMPLEMENTED, as do the methods the .proto leaves out.
import {
  Server,
  ServerCredentials,
  status as Status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js'
import { chmodSync, mkdirSync, rmSync, statSync } from 'node:fs'
import { connect } from 'node:net'
import { dirname } from 'node:path'
import { PodError } from '../errors.js'
import type { NetworkOptions } from '../net/index.js'
import { DEFAULT_STATE_ROOT } from '../state/index.js'
import { DEFAULT_CRI_LISTEN } from './defaults.js'
import { CriImages } from './images.js'
import { CriRuntime, type ContainerEvent, type ContainerRecord } from './runtime.js'
import {
  containerInfo,
  containerItem,
  containerStats,
  containerStatus,
  filterContainers,
  filterSandboxes,
  sandboxInfo,
  sandboxItem,
  sandboxStatus,
  usage,
  type ContainerFilter,
  type SandboxFilter,
} from './views.js'
import type { ContainerConfig, LinuxContainerResources, PodSandboxConfig } from './types.js'
import { criServices } from './proto.js'
import { runtimeConditions, version } from './runtime-info.js'
import { criError, toServiceError } from './status.js'
import { StreamingServer } from './streaming/index.js'
import { CriStreams } from './streams.js'
import { restoreSandboxes } from './adopt.js'
import { lockCriRoot } from './root-lock.js'

/** Exec/Attach/PortForward: URLs of the streaming server (issue 20), which plugs in here. */
export interface StreamingUrls {
  getExec(req: unknown): Promise<{ url: string }> | { url: string }
  getAttach(req: unknown): Promise<{ url: string }> | { url: string }
  getPortForward(req: unknown): Promise<{ url: string }> | { url: string }
}

export interface CriServerOptions extends NetworkOptions {
  /** `unix:///path/cri.sock` (or a bare absolute path). */
  listen?: string
  /** State root of pods and the image store (default /run/pod-launch). */
  root?: string
  cgroupParent?: string
  /**
   * Exec/Attach/PortForward: by default a streaming server of our own
   * (src/cri/streaming/) on `streamAddress`:`streamPort`; pass `streaming`
   * to hand out another server's URLs instead.
   */
  streaming?: StreamingUrls
  /** The streaming server's address (default 127.0.0.1; the URLs name it, so kubelet must reach it). */
  streamAddress?: string
  /** Its port (default 0: any free one). */
  streamPort?: number
  /** One line per failed call and per warning; default stderr. */
  log?: (line: string) => void
}

type Handler = (req: never) => unknown

const nowNsString = (): string => (BigInt(Date.now()) * 1_000_000n).toString()

/** The socket path of a `unix://` address; throws `cri.listen` (INVALID_ARGUMENT) for anything else. */
export function socketPath(listen: string): string {
  const path = listen.startsWith('unix://') ? listen.slice('unix://'.length) : listen
  if (!path.startsWith('/'))
    throw criError('cri.listen', listen, 'must be unix:///absolute/path.sock', 'INVALID_ARGUMENT', 'e.g. --listen unix:///run/pod-launch/cri.sock')
  return path
}

/** Remove a socket file nobody listens on; refuse one that is in use (another `pod-launch cri`). */
async function clearStaleSocket(path: string): Promise<void> {
  if (!statSync(path, { throwIfNoEntry: false })) return
  const inUse = await new Promise<boolean>(resolve => {
    const c = connect(path, () => (c.destroy(), resolve(true)))
    c.on('error', () => resolve(false))
  })
  if (inUse) throw criError('cri.listen', path, 'another server is listening there', 'ALREADY_EXISTS', 'stop it first, or pass another --listen')
  rmSync(path, { force: true })
}

export class CriServer {
  private readonly grpc = new Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024, 'grpc.max_send_message_length': 16 * 1024 * 1024 })
  readonly socket: string
  readonly root: string
  readonly images: CriImages
  readonly runtime: CriRuntime
  private readonly log: (line: string) => void
  private podCidr = ''
  private streaming?: StreamingUrls
  private readonly streams: CriStreams
  private ownStreaming?: StreamingServer
  private unlockRoot: () => void = () => {}

  private constructor(private readonly opts: CriServerOptions) {
    this.socket = socketPath(opts.listen ?? DEFAULT_CRI_LISTEN)
    this.root = opts.root ?? DEFAULT_STATE_ROOT
    this.log = opts.log ?? (line => process.stderr.write(`${line}\n`))
    this.images = new CriImages(this.root, m => this.log(`warning: ${m}`))
    this.runtime = new CriRuntime({
      root: this.root,
      cgroupParent: opts.cgroupParent,
      network: opts.network,
      cniConfDir: opts.cniConfDir,
      cniBinDir: opts.cniBinDir,
      warn: m => this.log(`warning: ${m}`),
    })
    this.streams = new CriStreams(this.runtime)
  }

  /**
   * Refuse a root or a socket another server has (before anything is touched),
   * take back the sandboxes a previous server left running (adopt.ts), then
   * bind the socket and serve. Throws `cri.lock`, `cri.listen`.
   */
  static async start(opts: CriServerOptions = {}): Promise<CriServer> {
    const socket = socketPath(opts.listen ?? DEFAULT_CRI_LISTEN)
    const unlockRoot = await lockCriRoot(opts.root ?? DEFAULT_STATE_ROOT)
    let s: CriServer | undefined
    try {
      await clearStaleSocket(socket)
      s = new CriServer(opts)
      s.unlockRoot = unlockRoot
      await restoreSandboxes(s.runtime)
      s.streaming = opts.streaming
      if (!s.streaming) {
        const log = s.log
        s.ownStreaming = await StreamingServer.start({
          runtime: s.streams,
          address: opts.streamAddress,
          port: opts.streamPort,
          onError: m => log(`cri: streaming: ${m}`),
        })
        s.streaming = s.ownStreaming
      }
      const { runtime, image } = criServices()
      s.grpc.addService(runtime, { ...s.wrap(s.runtimeHandlers()), GetContainerEvents: s.containerEvents })
      s.grpc.addService(image, s.wrap(s.imageHandlers()))
      mkdirSync(dirname(socket), { recursive: true, mode: 0o711 })
      await new Promise<void>((resolve, reject) =>
        s!.grpc.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), e => (e ? reject(PodError.system('cri.listen', e, socket)) : resolve())),
      )
    } catch (e) {
      await s?.ownStreaming?.close()
      s?.runtime.detachAll()
      unlockRoot()
      throw e
    }
    // Root only: whoever can talk to this socket can run anything as root.
    chmodSync(s.socket, 0o600)
    return s
  }

  /**
   * Stop accepting calls, let running ones finish (up to `graceMs`), remove
   * the socket. `removePods`: remove every sandbox first; else the sandboxes
   * run on under their shims for the next server to adopt.
   */
  async close(graceMs = 5000, removePods = true): Promise<void> {
    if (removePods)
      for (const id of [...this.runtime.sandboxes.keys()]) await this.runtime.removeSandbox(id).catch(e => this.log(`cri: close: ${(e as Error).message}`))
    await new Promise<void>(resolve => {
      const timer = setTimeout(() => (this.grpc.forceShutdown(), resolve()), graceMs)
      this.grpc.tryShutdown(() => (clearTimeout(timer), resolve()))
    })
    rmSync(this.socket, { force: true })
    await this.ownStreaming?.close()
    this.runtime.detachAll()
    this.unlockRoot()
  }

  /** http://address:port of the streaming server of our own (undefined when `streaming` was given). */
  get streamingUrl(): string | undefined {
    return this.ownStreaming?.baseUrl
  }

  private wrap(handlers: Record<string, Handler>): UntypedServiceImplementation {
    const out: UntypedServiceImplementation = {}
    for (const [name, fn] of Object.entries(handlers)) {
      out[name] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        Promise.resolve()
          .then(() => fn(call.request as never))
          .then(
            res => callback(null, res ?? {}),
            (e: unknown) => {
              const err = toServiceError(e)
              if (err.code !== Status.NOT_FOUND) this.log(`cri: ${name}: ${err.details}`)
              callback(err)
            },
          )
      }
    }
    return out
  }

  private runtimeHandlers(): Record<string, Handler> {
    const net: NetworkOptions = { network: this.opts.network, cniConfDir: this.opts.cniConfDir, cniBinDir: this.opts.cniBinDir }
    const streaming = this.streaming!
    return {
      Version: () => version(),
      Status: (req: { verbose: boolean }) => ({
        status: { conditions: runtimeConditions(net) },
        info: req.verbose ? { config: JSON.stringify({ root: this.root, listen: this.socket, podCidr: this.podCidr, ...net }) } : {},
        runtimeHandlers: [{ name: '', features: { recursiveReadOnlyMounts: false, userNamespaces: false } }],
        features: { supplementalGroupsPolicy: false, userNamespacesHostNetwork: false, mountOptions: false },
      }),
      // The enum's zero value is SYSTEMD: say CGROUPFS explicitly.
      RuntimeConfig: () => ({ linux: { cgroupDriver: 'CGROUPFS' } }),
      UpdateRuntimeConfig: (req: { runtimeConfig: { networkConfig: { podCidr: string } | null } | null }) => {
        this.podCidr = req.runtimeConfig?.networkConfig?.podCidr ?? ''
        return {}
      },
      ...this.sandboxHandlers(),
      ...this.containerHandlers(),
      // As containerd: a container that is not running has no exec or attach (FAILED_PRECONDITION), an unknown id is NOT_FOUND.
      Exec: (req: { containerId: string }) => (this.streams.running('cri.Exec', req.containerId), streaming.getExec(req)),
      Attach: (req: { containerId: string }) => (this.streams.running('cri.Attach', req.containerId), streaming.getAttach(req)),
      PortForward: (req: { podSandboxId: string }) => (this.streams.ready('cri.PortForward', req.podSandboxId), streaming.getPortForward(req)),
    }
  }

  private sandboxHandlers(): Record<string, Handler> {
    const rt = this.runtime
    return {
      RunPodSandbox: async (req: { config: PodSandboxConfig | null; runtimeHandler: string }) => {
        if (!req.config) throw criError('cri.RunPodSandbox', 'config', 'required', 'INVALID_ARGUMENT')
        return { podSandboxId: await rt.runSandbox(req.config, req.runtimeHandler) }
      },
      StopPodSandbox: async (req: { podSandboxId: string }) => void (await rt.stopSandbox(req.podSandboxId)),
      RemovePodSandbox: async (req: { podSandboxId: string }) => void (await rt.removeSandbox(req.podSandboxId)),
      PodSandboxStatus: (req: { podSandboxId: string; verbose: boolean }) => {
        const s = rt.mustSandbox('cri.PodSandboxStatus', req.podSandboxId)
        return { status: sandboxStatus(s), info: req.verbose ? sandboxInfo(s) : {}, containersStatuses: [], timestamp: nowNsString() }
      },
      ListPodSandbox: (req: { filter: SandboxFilter | null }) => ({ items: filterSandboxes(rt.sandboxes.values(), req.filter).map(sandboxItem) }),
      PodSandboxStats: (req: { podSandboxId: string }) => ({ stats: this.sandboxStats(rt.mustSandbox('cri.PodSandboxStats', req.podSandboxId).id) }),
      ListPodSandboxStats: (req: { filter: { id: string; labelSelector: Record<string, string> } | null }) => ({
        stats: filterSandboxes(rt.sandboxes.values(), req.filter ? { ...req.filter, state: null } : null).map(s => this.sandboxStats(s.id)),
      }),
    }
  }

  private containerHandlers(): Record<string, Handler> {
    const rt = this.runtime
    return {
      CreateContainer: async (req: { podSandboxId: string; config: ContainerConfig | null; sandboxConfig: PodSandboxConfig | null }) => {
        if (!req.config) throw criError('cri.CreateContainer', 'config', 'required', 'INVALID_ARGUMENT')
        return { containerId: await rt.createContainer(req.podSandboxId, req.config, req.sandboxConfig) }
      },
      StartContainer: async (req: { containerId: string }) => void (await rt.startContainer(req.containerId)),
      StopContainer: async (req: { containerId: string; timeout: string }) => void (await rt.stopContainer(req.containerId, Number(req.timeout))),
      RemoveContainer: async (req: { containerId: string }) => void (await rt.removeContainer(req.containerId)),
      ListContainers: (req: { filter: ContainerFilter | null }) => ({ containers: filterContainers(rt.containers.values(), req.filter).map(containerItem) }),
      ContainerStatus: (req: { containerId: string; verbose: boolean }) => {
        const c = rt.mustContainer('cri.ContainerStatus', req.containerId)
        return { status: containerStatus(c), info: req.verbose ? containerInfo(c) : {} }
      },
      UpdateContainerResources: (req: { containerId: string; linux: LinuxContainerResources | null }) => rt.updateResources(req.containerId, req.linux),
      ReopenContainerLog: async (req: { containerId: string }) => void (await rt.reopenLog(req.containerId)),
      ExecSync: async (req: { containerId: string; cmd: string[]; timeout: string }) => rt.execSync(req.containerId, req.cmd, Number(req.timeout)),
      ContainerStats: (req: { containerId: string }) => ({ stats: this.containerStats(rt.mustContainer('cri.ContainerStats', req.containerId)) }),
      ListContainerStats: (req: { filter: { id: string; podSandboxId: string; labelSelector: Record<string, string> } | null }) => ({
        stats: filterContainers(rt.containers.values(), req.filter ? { ...req.filter, state: null } : null).map(c => this.containerStats(c)),
      }),
    }
  }

  private containerStats(c: ContainerRecord) {
    const s = this.runtime.sandbox(c.sandboxId)
    let stats = { oomKills: 0 }
    try {
      if (s) stats = s.sandbox.cgroups.stats(c.created.spec.name)
    } catch {}
    return containerStats(c, stats)
  }

  private sandboxStats(id: string) {
    const s = this.runtime.sandbox(id)!
    let stats: ReturnType<typeof s.sandbox.cgroups.stats> = { oomKills: 0 }
    try {
      stats = s.sandbox.cgroups.stats('pod')
    } catch {}
    const t = nowNsString()
    return {
      attributes: { id: s.id, metadata: s.config.metadata, labels: s.config.labels, annotations: s.config.annotations },
      linux: {
        ...usage(stats),
        process: { timestamp: t, processCount: { value: stats.pids ?? 0 } },
        containers: [...s.containers].map(c => this.containerStats(this.runtime.container(c)!)),
      },
    }
  }

  /** GetContainerEvents: one server stream per subscriber, until it cancels. */
  private readonly containerEvents = (call: ServerWritableStream<unknown, unknown>): void => {
    const rt = this.runtime
    const send = (type: ContainerEvent, c: ContainerRecord) => {
      const s = rt.sandbox(c.sandboxId)
      call.write({
        containerId: c.id,
        containerEventType: type,
        createdAt: nowNsString(),
        podSandboxStatus: s ? sandboxStatus(s) : null,
        containersStatuses: s
          ? [...s.containers]
              .map(id => rt.container(id))
              .filter(x => !!x)
              .map(containerStatus)
          : [],
      })
    }
    rt.on('event', send)
    const end = () => rt.off('event', send)
    call.on('cancelled', end)
    call.on('close', end)
    call.on('error', end)
  }

  private imageHandlers(): Record<string, Handler> {
    type Spec = Parameters<CriImages['pull']>[0]
    return {
      PullImage: async (req: { image: Spec; auth: Parameters<CriImages['pull']>[1] }) => ({ imageRef: await this.images.pull(req.image, req.auth) }),
      ImageStatus: (req: { image: Spec; verbose: boolean }) => this.images.status(req.image, req.verbose),
      ListImages: (req: { filter: { image: Spec } | null }) => ({ images: this.images.list(req.filter) }),
      RemoveImage: async (req: { image: Spec }) => {
        await this.images.remove(req.image)
        return {}
      },
      ImageFsInfo: () => ({ imageFilesystems: this.images.fsInfo(), containerFilesystems: [] }),
    }
  }
}
