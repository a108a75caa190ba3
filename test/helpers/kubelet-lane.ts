// The kubelet lane's fixture: `pod-launch cri` on a CNI network of its own
// (198.18.0.0/15, the lane's registry as a mirror of registry.k8s.io) and a
// standalone kubelet (test/helpers/kubelet.ts) on its socket, with what the
// scenarios ask of them: kubelet's /pods by static pod name, crictl's view,
// manifests dropped into staticPodPath, and a restart of `pod-launch cri`
// under the running kubelet. One teardown in order: kubelet (its mounts),
// then what is left in pod-launch cri, then kubelet's cgroup root, then the
// directory.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { guardHost, iptablesRestore, iptablesState, testNetwork } from './cni.js'
import { startCri, type CriServer } from './cri.js'
import { until } from './detached-pods.js'
import { Kubelet, type PodList } from './kubelet.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))

/** The node name kubelet runs as: static pods are named `<name>-<NODE>`. */
export const NODE = 'pl-kubelet'
/** busybox from the lane's registry, by its own name. */
export const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2'

export type Pod = PodList['items'][number]
export type ContainerStatus = NonNullable<NonNullable<Pod['status']>['containerStatuses']>[number]

/** A Go-lane tool built (or taken from the cache) by scripts/go-tools.sh. */
export const goTool = (name: string): string =>
  execFileSync('bash', [join(REPO, 'scripts/go-tools.sh'), name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim()

export interface LaneOptions {
  /** The CNI bridge (guarded: the test fails if it exists before). */
  bridge: string
  cgroupParent: string
  /** kubelet's HTTPS port on 127.0.0.1 (its read-only port is port + 5, healthz port - 2). */
  port: number
}

export class KubeletLane {
  private constructor(
    private readonly t: Test,
    private server: CriServer,
    readonly kube: Kubelet,
    private readonly restartOpts: Parameters<typeof startCri>[0],
  ) {}

  /** Start both and wait until kubelet answers /pods. */
  static async start(t: Test, o: LaneOptions): Promise<KubeletLane> {
    guardHost(t, [o.bridge])
    // kubelet makes chains of its own (KUBE-FIREWALL, KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT) in both families:
    // guardHost gives back IPv4's, this IPv6's. Teardowns run last-in first-out: both after kubelet stopped.
    const ip6Before = iptablesState(6)
    t.teardown(() => iptablesRestore(ip6Before, 6))
    const net = testNetwork(t, { name: `${o.cgroupParent}-net`, bridge: o.bridge })
    const dir = mkdtempSync(join(tmpdir(), 'pl-kubelet-'))
    let lane: KubeletLane | undefined
    let kube: Kubelet | undefined
    t.teardown(async () => {
      await kube?.stop()
      await lane?.cri.destroy()
      kube?.removeCgroupRoot()
      rmSync(dir, { recursive: true, force: true })
    })
    const opts = { cniConfDir: net.confDir, mirrors: true, cgroupParent: o.cgroupParent }
    const cri = await startCri(opts)
    kube = new Kubelet(t, {
      binary: goTool('kubelet'),
      endpoint: cri.endpoint,
      dir: join(dir, 'kubelet'),
      port: o.port,
      readOnlyPort: o.port + 5,
      healthzPort: o.port - 2,
    })
    lane = new KubeletLane(t, cri, kube, { ...opts, dir: cri.dir })
    kube.start()
    await lane.waitFor('kubelet /pods', async () => (await kube.pods().catch(() => undefined)) !== undefined)
    return lane
  }

  /** The `pod-launch cri` serving now (a new one after restartCri). */
  get cri(): CriServer {
    return this.server
  }

  /** SIGTERM `pod-launch cri` and start it again over the same directory and socket; kubelet keeps running. */
  async restartCri(): Promise<void> {
    await this.server.stop()
    // startCri waits for the socket to appear: a stale one would hide a server that never listened.
    const socket = this.server.endpoint.replace(/^unix:\/\//, '')
    if (existsSync(socket)) throw new Error(`pod-launch cri left its socket ${socket} after SIGTERM`)
    this.server = await startCri(this.restartOpts)
  }

  async pods(): Promise<Pod[]> {
    return (await this.kube.pods().catch((): PodList => ({ items: [] }))).items ?? []
  }

  /** A static pod by its manifest's name, from kubelet's /pods. */
  async pod(name: string): Promise<Pod | undefined> {
    return (await this.pods()).find(p => p.metadata.name === `${name}-${NODE}`)
  }

  async status(name: string, container: string): Promise<ContainerStatus | undefined> {
    return (await this.pod(name))?.status?.containerStatuses?.find(s => s.name === container)
  }

  /** until(), with the ends of kubelet's and our server's logs in the output when it times out. */
  async waitFor(what: string, fn: () => Promise<boolean>, ms = 180_000): Promise<void> {
    await until(what, fn, ms).catch(e => {
      this.t.comment(this.kube.log.slice(-6000))
      this.t.comment(this.server.log().slice(-3000))
      throw e
    })
  }

  /** Write a static pod manifest into staticPodPath; its path (unlink it to remove the pod). */
  manifest(name: string, spec: object): string {
    const file = join(this.kube.manifests, `${name}.json`)
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec }))
    return file
  }

  /** `crictl ps -a -q` with filters. */
  async containerIds(...filter: string[]): Promise<string[]> {
    return (await this.server.crictl('ps', '-a', '-q', ...filter)).stdout.trim().split('\n').filter(Boolean)
  }

  /** The sandbox ids of a static pod by its name (crictl pods --name). */
  async sandboxIds(name: string): Promise<string[]> {
    return (await this.server.crictl('pods', '-q', '--name', `${name}-${NODE}`)).stdout.trim().split('\n').filter(Boolean)
  }

  /** True when neither kubelet nor crictl knows a pod of that name any more. */
  async gone(name: string): Promise<boolean> {
    return !(await this.pod(name)) && (await this.server.crictl('pods', '-q')).stdout.trim() === ''
  }
}
