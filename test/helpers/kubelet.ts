// A standalone kubelet for the Go lane: no API server, static pods from a
// directory, a CRI endpoint of the test's choice, everything of its own under
// one directory and one cgroup root (/pl-kubelet-<pid>), all removed at
// teardown. Built from k8s.io/kubernetes by scripts/go-tools.sh kubelet.
import { execFileSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { get } from 'node:http'
import { join } from 'node:path'
import { spawnDaemon } from './daemon.js'

interface T {
  teardown(fn: () => unknown): void
}

export interface KubeletOptions {
  /** The kubelet binary. */
  binary: string
  /** `unix:///...` of the CRI runtime. */
  endpoint: string
  /** A fresh directory for the kubelet's config, root dir, manifests and pod logs. */
  dir: string
  /** Ports on 127.0.0.1 (the read-only port serves /pods). */
  readOnlyPort?: number
  healthzPort?: number
  port?: number
}

/** What kubelet's /pods returns, as much as the tests read. */
export interface PodList {
  items: {
    metadata: { name: string; uid: string }
    status?: {
      phase?: string
      conditions?: { type: string; status: string }[]
      containerStatuses?: {
        name: string
        ready: boolean
        restartCount: number
        state: Record<string, { reason?: string; exitCode?: number } | undefined>
        lastState?: Record<string, { reason?: string; exitCode?: number } | undefined>
      }[]
    }
  }[]
}

/** The cgroup v1 hierarchies and the v2 mount of this host (kubelet wants cgroupRoot in each). */
function hierarchies(): string[] {
  const out: string[] = []
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ')
    const sep = f.indexOf('-')
    if (sep > 0 && (f[sep + 1] === 'cgroup' || f[sep + 1] === 'cgroup2')) out.push(f[4])
  }
  return [...new Set(out)]
}

function removeTree(dir: string): void {
  if (!existsSync(dir)) return
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeTree(join(dir, e.name))
  rmdirSync(dir)
}

export class Kubelet {
  readonly manifests: string
  readonly podLogs: string
  readonly cgroupRoot = `/pl-kubelet-${process.pid}`
  private proc?: ChildProcess
  private logText = ''
  readonly readOnlyPort: number

  constructor(
    t: T,
    private readonly opts: KubeletOptions,
  ) {
    this.manifests = join(opts.dir, 'manifests')
    this.podLogs = join(opts.dir, 'pod-logs')
    this.readOnlyPort = opts.readOnlyPort ?? 10355
    t.teardown(() => this.stop())
  }

  /** Where everything of this kubelet lives. */
  get dir(): string {
    return this.opts.dir
  }

  /** Write the config, make the cgroup root, start kubelet. */
  start(): void {
    const { dir } = this.opts
    for (const d of [this.manifests, this.podLogs, join(dir, 'root')]) mkdirSync(d, { recursive: true })
    for (const h of hierarchies()) mkdirSync(join(h, this.cgroupRoot), { recursive: true })
    const config = join(dir, 'config.yaml')
    writeFileSync(
      config,
      [
        'apiVersion: kubelet.config.k8s.io/v1beta1',
        'kind: KubeletConfiguration',
        `staticPodPath: ${this.manifests}`,
        'fileCheckFrequency: 1s',
        'syncFrequency: 3s',
        `containerRuntimeEndpoint: ${this.opts.endpoint}`,
        'cgroupDriver: cgroupfs',
        `cgroupRoot: ${this.cgroupRoot}`,
        'failSwapOn: false',
        'failCgroupV1: false',
        'address: 127.0.0.1',
        `port: ${this.opts.port ?? 10350}`,
        `readOnlyPort: ${this.readOnlyPort}`,
        'healthzBindAddress: 127.0.0.1',
        `healthzPort: ${this.opts.healthzPort ?? 10348}`,
        'authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}',
        'authorization: {mode: AlwaysAllow}',
        `podLogsDir: ${this.podLogs}`,
        'resolvConf: ""',
        'imageGCHighThresholdPercent: 100',
        'imageGCLowThresholdPercent: 99',
        'evictionHard: {memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}',
        '',
      ].join('\n'),
    )
    this.proc = spawnDaemon(
      this.opts.binary,
      ['--config', config, '--root-dir', join(dir, 'root'), '--cert-dir', join(dir, 'root', 'pki'), '--hostname-override', 'pl-kubelet', '--v=2'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    for (const s of [this.proc.stdout!, this.proc.stderr!]) s.on('data', (d: Buffer) => (this.logText += d.toString()))
  }

  get log(): string {
    return this.logText
  }

  /** kubelet's error lines, counted by their message (the part after the source location). */
  errors(): Map<string, number> {
    const counts = new Map<string, number>()
    for (const line of this.logText.split('\n')) {
      const m = /^E\d{4} [\d:.]+\s+\d+ [^\]]+\] (.*)$/.exec(line)
      if (m) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1)
    }
    return counts
  }

  /** GET a path of the read-only port as JSON. */
  async get<T>(path: string): Promise<T> {
    return new Promise((resolve, reject) => {
      get({ host: '127.0.0.1', port: this.readOnlyPort, path, timeout: 5000 }, res => {
        let body = ''
        res.on('data', d => (body += d))
        res.on('end', () => {
          try {
            resolve(JSON.parse(body) as T)
          } catch (e) {
            reject(new Error(`kubelet ${path}: ${res.statusCode}: ${body.slice(0, 200)}: ${(e as Error).message}`))
          }
        })
      }).on('error', reject)
    })
  }

  pods(): Promise<PodList> {
    return this.get<PodList>('/pods')
  }

  /**
   * SIGTERM, then SIGKILL after 10 s; then the mounts under its directory go
   * (it bind-mounts its root dir onto itself, shared, for volume
   * propagation). Its cgroup root holds the runtime's pods: removeCgroupRoot
   * once they are gone.
   */
  async stop(): Promise<void> {
    const p = this.proc
    if (p && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise(resolve => p.once('exit', resolve))
      p.kill('SIGTERM')
      const timer = setTimeout(() => p.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    this.proc = undefined
    const dir = this.opts.dir
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map(l => l.split(' ')[4])
      .filter(m => m === dir || m?.startsWith(`${dir}/`))
    for (const m of [...new Set(mounts)].sort().reverse()) execFileSync('umount', ['-l', m])
  }

  /** Remove the cgroup root (made by start) and what kubelet made under it; throws EBUSY while a process is in it. */
  removeCgroupRoot(): void {
    for (const h of hierarchies()) removeTree(join(h, this.cgroupRoot))
  }
}
