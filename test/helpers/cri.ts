// The Go lane's fixtures: `pod-launch cri` on a socket of the test's own
// (its own state root, cgroup parent and CNI conflist in 198.18.0.0/15),
// crictl against it, and a registry holding the critest images. The binaries
// and the registry holding the critest images come from scripts/go-lane.sh
// (POD_LAUNCH_CRICTL, POD_LAUNCH_CRITEST, POD_LAUNCH_CRITEST_REGISTRY).
import { execFile, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BIN } from './cli.js'
import { spawnDaemon } from './daemon.js'

/** A skip reason unless the Go lane prepared crictl, critest and the images. */
export function requiresGoLane(): string | false {
  if (process.getuid?.() !== 0) return 'needs root'
  for (const v of ['POD_LAUNCH_CRICTL', 'POD_LAUNCH_CRITEST', 'POD_LAUNCH_CRITEST_REGISTRY']) {
    if (!process.env[v]) return `needs ${v}: run through scripts/go-lane.sh`
  }
  return false
}

export const crictlBin = (): string => process.env.POD_LAUNCH_CRICTL!
export const critestBin = (): string => process.env.POD_LAUNCH_CRITEST!

/** host:port of the registry on 127.0.0.1 that the lane serves, holding every critest image (scripts/make-critest-images.sh). */
export const critestRegistry = (): string => process.env.POD_LAUNCH_CRITEST_REGISTRY!

/** The registries critest's images are named in; the lane's registry holds their repositories. */
export const CRITEST_REGISTRIES = ['registry.k8s.io', 'gcr.io', 'k8s.gcr.io']

export interface Out {
  code: number
  stdout: string
  stderr: string
}

export interface CriServer {
  dir: string
  root: string
  endpoint: string
  /** The server's stderr so far. */
  log(): string
  crictl(...args: string[]): Promise<Out>
  /** SIGTERM the server (pods keep running). */
  stop(): Promise<void>
  /** SIGKILL the server (pods keep running; its socket file stays). */
  kill(): Promise<void>
  /** Remove every sandbox through the server, stop it, gc what is left, remove the directory. */
  destroy(): Promise<void>
}

export interface CriOptions {
  /** A CNI conflist directory (default: --network none). */
  cniConfDir?: string
  /** Pull registry.k8s.io, gcr.io and k8s.gcr.io images from the lane's registry (registries.json mirrors), names unchanged. */
  mirrors?: boolean
  cgroupParent?: string
  /** Reuse this directory (a restart of the server over the same state). */
  dir?: string
}

function run(file: string, args: string[]): Promise<Out> {
  return new Promise(resolve =>
    execFile(file, args, { maxBuffer: 1 << 26 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })),
  )
}

/** Start `pod-launch cri` and wait until it serves (a killed server's socket file may be there already). */
export async function startCri(o: CriOptions = {}): Promise<CriServer> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'pl-cri-'))
  const root = join(dir, 'root')
  const socket = join(dir, 'cri.sock')
  const cgroupParent = o.cgroupParent ?? 'pl-cri-test'
  const net = o.cniConfDir ? ['--cni-conf-dir', o.cniConfDir] : ['--network', 'none']
  let log = ''
  const env = { ...process.env }
  if (o.mirrors) {
    env.POD_LAUNCH_REGISTRIES = join(dir, 'registries.json')
    writeFileSync(env.POD_LAUNCH_REGISTRIES, JSON.stringify({ mirrors: Object.fromEntries(CRITEST_REGISTRIES.map(r => [r, [`http://${critestRegistry()}`]])) }))
  }
  const child: ChildProcess = spawnDaemon(
    process.execPath,
    [BIN, 'cri', '--root', root, '--cgroup-parent', cgroupParent, ...net, '--listen', `unix://${socket}`],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env,
    },
  )
  child.stderr!.on('data', d => (log += d))
  for (let i = 0; !existsSync(socket) || !log.includes('pod-launch cri: serving'); i++) {
    if (child.exitCode !== null) throw new Error(`pod-launch cri exited ${child.exitCode}: ${log}`)
    if (i > 300) throw new Error(`pod-launch cri: no socket after 30 s: ${log}`)
    await new Promise(r => setTimeout(r, 100))
  }
  const endpoint = `unix://${socket}`
  const crictl = (...args: string[]) => run(crictlBin(), ['--runtime-endpoint', endpoint, '--image-endpoint', endpoint, '--timeout', '60s', ...args])
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const gone = new Promise(r => child.once('exit', r))
    child.kill(signal)
    await gone
  }
  const stop = () => end('SIGTERM')
  return {
    dir,
    root,
    endpoint,
    log: () => log,
    crictl,
    stop,
    kill: () => end('SIGKILL'),
    async destroy() {
      await crictl('rmp', '--all', '--force')
      await stop()
      await run(process.execPath, [BIN, '--root', root, 'gc', '--cgroup-parent', cgroupParent])
      // The parent cgroup is ours too (pod-launch leaves a parent it did not make to its owner).
      for (const h of readdirSync('/sys/fs/cgroup')) {
        try {
          rmdirSync(join('/sys/fs/cgroup', h, cgroupParent))
        } catch {}
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
