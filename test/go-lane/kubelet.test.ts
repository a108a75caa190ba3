// The kubelet lane: kubelet built from k8s.io/kubernetes (test/go/kubelet,
// scripts/go-tools.sh kubelet) runs standalone on this host. Go lane: root
// and Go. This file checks the kubelet itself on this host's cgroups; the
// static-pod scenarios on `pod-launch cri` follow the CRI RuntimeService.
import t, { type Test } from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { until } from '../helpers/detached-pods.js'
import { Kubelet } from '../helpers/kubelet.js'
import { requires } from '../helpers/requires.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))

function kubeletBinary(): { path?: string; skip: string | false } {
  const given = process.env.POD_LAUNCH_KUBELET
  if (given) return existsSync(given) ? { path: given, skip: false } : { skip: `POD_LAUNCH_KUBELET=${given} does not exist` }
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' })
  } catch {
    return { skip: 'needs Go (the Go lane: scripts/go-lane.sh)' }
  }
  return {
    path: execFileSync('bash', [join(REPO, 'scripts/go-tools.sh'), 'kubelet'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim(),
    skip: false,
  }
}

const gate = requires('root') || (existsSync('/usr/bin/containerd') ? false : 'needs Debian containerd (apt-get install containerd)')
const kubelet = gate ? { skip: gate } : kubeletBinary()

let stopContainerd: () => Promise<void> = async () => {}

/** Debian's containerd with a root, state, socket and CNI config of its own under `dir`; `stopContainerd` ends it. */
async function startContainerd(t: Test, dir: string): Promise<string> {
  for (const d of ['root', 'state', 'net.d']) mkdirSync(join(dir, d), { recursive: true })
  writeFileSync(
    join(dir, 'config.toml'),
    [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      '[grpc]',
      `  address = "${dir}/containerd.sock"`,
      '[plugins."io.containerd.grpc.v1.cri"]',
      '  stream_server_address = "127.0.0.1"',
      '  stream_server_port = "0"',
      '  [plugins."io.containerd.grpc.v1.cri".cni]',
      '    bin_dir = "/usr/lib/cni"',
      `    conf_dir = "${dir}/net.d"`,
      '',
    ].join('\n'),
  )
  const p = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: 'ignore' })
  stopContainerd = async () => {
    if (p.exitCode !== null || p.signalCode !== null) return
    const exited = new Promise(resolve => p.once('exit', resolve))
    p.kill('SIGTERM')
    await exited
  }
  t.teardown(stopContainerd)
  await until('the containerd socket', () => existsSync(join(dir, 'containerd.sock')), 30_000)
  return `unix://${dir}/containerd.sock`
}

t.test('kubelet runs standalone on this host (failCgroupV1: false) against a CRI runtime', { skip: kubelet.skip }, async t => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-kubelet-'))
  const endpoint = await startContainerd(t, join(dir, 'containerd'))
  const k = new Kubelet(t, { binary: kubelet.path!, endpoint, dir: join(dir, 'kubelet') })
  // One teardown in order: kubelet (and its mounts, cgroups), containerd, then the directory.
  t.teardown(async () => {
    await k.stop()
    await stopContainerd()
    rmSync(dir, { recursive: true, force: true })
  })
  k.start()
  let pods: Awaited<ReturnType<Kubelet['pods']>> | undefined
  await until(
    'kubelet /pods',
    async () => {
      pods = await k.pods().catch(() => undefined)
      return pods !== undefined
    },
    120_000,
  ).catch(e => {
    t.comment(k.log.slice(-4000))
    throw e
  })
  t.same(pods!.items ?? [], [], 'no static pod yet: an empty PodList')
  t.notMatch(k.log, /kubelet is configured to not run on a host using cgroup v1/)
  await k.stop()
  t.same(
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter(l => l.includes(dir)),
    [],
    'no mount of its left after it stopped',
  )
})
