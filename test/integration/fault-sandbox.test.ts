// Issue 24, item 11: pause dies. As kubelet does, the containers are killed,
// a new sandbox is made (a new pause and namespaces, CNI DEL of the old
// network and ADD of the new, /etc/hosts with the new IP) and the containers
// start again under the restartPolicy, counted as restarts, with the event
// SandboxChanged. A Never pod that has run is not restarted: it ends Failed.
// The CNI network is the test's own (bridge plt5, 198.19.5.0/24); the CNI
// case needs a kernel with bridge, veth and nf_tables (the host lane).
import t, { type Test } from 'tap'
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { requires } from '../helpers/requires.js'
import { manifest, start, uniqueName } from '../helpers/pods.js'
import { cniKernelMissing, guardHost, testNetwork, type TestNetwork } from '../helpers/cni.js'
import { cliEnv, newRoot, NO_LEAKS, onlyRecord, settledLeaks, uniqueParent, waitUntil, writeManifest } from '../helpers/faults.js'
import type { PodEvent } from '../../src/index.js'
import { alive } from '../helpers/procs.js'

const skip = requires('root', 'built') || (existsSync('/usr/lib/cni/bridge') ? false : 'needs containernetworking-plugins in /usr/lib/cni')
const BRIDGE = 'plt5'
const SUBNET = '198.19.5.0/24'
const noCni = skip ? false : cniKernelMissing()
if (!skip && !noCni) guardHost(t, [BRIDGE])

/** Prints its net namespace and its own line of /etc/hosts, then runs until stopped. */
const reporter = {
  name: 'app',
  command: ['sh', '-c', 'echo "run $(readlink /proc/self/ns/net) hosts=$(grep -w "$(hostname)" /etc/hosts | cut -f1)"; while :; do sleep 0.1; done'],
}
const fast = { initialMs: 100, maxMs: 100, resetAfterMs: 1_000_000 }

/**
 * pause SIGKILLed under restartPolicy Always: the container is killed and runs
 * again in a new sandbox. With `net` (a CNI network of the test's own) also
 * DEL of the old network and ADD of the new, the new IP in /etc/hosts.
 */
async function alwaysAfterPauseDies(t: Test, net?: TestNetwork) {
  const events: PodEvent[] = []
  const c = await start(t, manifest(uniqueName('sbx'), [reporter], { restartPolicy: 'Always' }), {
    ...(net ? { network: 'cni' as const, cniConfDir: net.confDir } : {}),
    backoff: fast,
    onEvent: e => events.push(e),
  })
  await c.waitFor('app', /^run /)
  const old = { pid: c.pod.sandbox.pid, net: c.pod.sandbox.namespaces.net, uts: c.pod.sandbox.namespaces.uts, ip: c.pod.podIPs[0] ?? '' }
  if (net) t.same(net.reserved(), [old.ip])
  // Held open, the old namespaces cannot be freed, so the kernel cannot give their inode numbers to the new ones.
  const holdOld = ['net', 'uts'].map(ns => openSync(`/proc/${old.pid}/ns/${ns}`, 'r'))
  t.teardown(() => holdOld.forEach(fd => closeSync(fd)))
  process.kill(old.pid, 'SIGKILL')
  t.ok(await waitUntil(() => c.lines('app').length >= 2), 'the container ran again')
  const [first, second] = c.lines('app')
  t.equal(first, `run net:[${old.net}] hosts=${old.ip}`)
  const now = { pid: c.pod.sandbox.pid, net: c.pod.sandbox.namespaces.net, uts: c.pod.sandbox.namespaces.uts, ip: c.pod.podIPs[0] ?? '' }
  t.not(now.pid, old.pid, 'a new pause')
  t.ok(alive(now.pid) && !alive(old.pid))
  t.not(now.net, old.net, 'a new net namespace')
  t.not(now.uts, old.uts, 'a new uts namespace')
  t.equal(second, `run net:[${now.net}] hosts=${now.ip}`, 'the container runs in the new net namespace' + (net ? ', /etc/hosts has the new IP' : ''))
  if (net) {
    t.not(now.ip, '', 'an address from the new ADD')
    t.same(net.reserved(), [now.ip], 'the old address released by DEL, the new one reserved by ADD')
    t.equal(net.ports().length, 1, 'one veth on the bridge: the old one went')
    t.equal(events.filter(e => e.type === 'network-attached').length, 2)
  }
  const changed = events.filter(e => e.type === 'sandbox-changed')
  t.match(changed, [{ reason: 'SandboxChanged', message: 'Pod sandbox changed, it will be killed and re-created.' }], "kubelet's event, once")
  t.equal(events.filter(e => e.type === 'sandbox-started').length, 2)
  const s = c.pod.runners[0].status
  t.equal(s.restartCount, 1, 'restartCount counts the new instance')
  t.match(s.lastState, { terminated: { reason: 'Error' } }, 'the killed instance is its lastState')
  t.ok('running' in s.state)
  t.equal(c.pod.phase, 'Running')
  const result = await c.pod.stop({ force: true })
  t.equal(result.reason, undefined, 'the pod did not fail for it')
  if (net) {
    t.same(net.reserved(), [], 'every address released at the end')
    t.same(net.ports(), [])
  }
}

t.test('pause killed (Always): the container is killed, a new sandbox (new pause and namespaces) runs it again', { skip }, t => alwaysAfterPauseDies(t))

// The network half needs a kernel that makes bridges, veths and nf_tables tables. The cgroup v2 VM's does not
// (cniKernelMissing names why); what it proves does not depend on the cgroup version, so it runs on the host lane.
if (!skip && noCni) t.comment(`the CNI case runs on the host lane only: ${noCni}`)
else
  t.test('pause killed (Always) on a CNI network: DEL of the old network, ADD of the new, /etc/hosts with the new IP', { skip }, t =>
    alwaysAfterPauseDies(t, testNetwork(t, { name: 'plt-sbx', bridge: BRIDGE, subnet: SUBNET, rangeStart: '198.19.5.10', rangeEnd: '198.19.5.19' })),
  )

t.test('pause killed (Never, containers running): they are killed, no new sandbox, the pod ends Failed', { skip }, async t => {
  const events: PodEvent[] = []
  const c = await start(t, manifest(uniqueName('sbxnever'), [reporter]), { onEvent: e => events.push(e) })
  await c.waitFor('app', /^run /)
  process.kill(c.pod.sandbox.pid, 'SIGKILL')
  const result = await c.pod.wait()
  t.equal(result.phase, 'Failed')
  t.match(result.reason, /^pause \(pid \d+\) died: SIGKILL$/)
  t.equal(events.filter(e => e.type === 'sandbox-changed').length, 0, 'no SandboxChanged')
  t.equal(events.filter(e => e.type === 'sandbox-started').length, 1)
  t.equal(result.containerStatuses[0].restartCount, 0)
  t.equal(c.lines('app').length, 1, 'it never ran again')
})

t.test('pause killed (OnFailure): the init container runs again first, a failed container restarts, a succeeded one does not', { skip }, async t => {
  const events: PodEvent[] = []
  const c = await start(
    t,
    manifest(uniqueName('sbxinit'), [reporter, { name: 'done', command: ['sh', '-c', 'echo finished'] }], {
      restartPolicy: 'OnFailure',
      initContainers: [{ name: 'init', command: ['sh', '-c', 'echo "init $(readlink /proc/self/ns/uts)"'] }],
    }),
    { backoff: fast, onEvent: e => events.push(e) },
  )
  await c.waitFor('app', /^run /)
  await c.waitFor('done', /^finished$/)
  t.ok(await waitUntil(() => 'terminated' in c.pod.runners[1].status.state), 'done has completed')
  process.kill(c.pod.sandbox.pid, 'SIGKILL')
  t.ok(await waitUntil(() => c.lines('app').length >= 2), 'app ran again')
  const inits = c.lines('init')
  t.equal(inits.length, 2, 'the init container ran again')
  t.equal(inits[1], `init uts:[${c.pod.sandbox.namespaces.uts}]`, 'in the new sandbox')
  const [init, app, done] = [...c.pod.initRunners, ...c.pod.runners].map(r => r.status)
  t.equal(init.restartCount, 1)
  t.equal(app.restartCount, 1)
  t.equal(done.restartCount, 0, 'a container that succeeded is not started again under OnFailure')
  t.match(done.state, { terminated: { reason: 'Completed' } })
  t.same(c.lines('done'), ['finished'])
  t.equal(events.filter(e => e.type === 'sandbox-changed').length, 1)
  await c.pod.stop({ force: true })
})

t.test('shareProcessNamespace: the containers die with pause (pid 1) and start again in the new pid namespace', { skip }, async t => {
  const c = await start(
    t,
    manifest(
      uniqueName('sbxpid'),
      [{ name: 'app', command: ['sh', '-c', 'echo "pid1=$(cat /proc/1/comm) $(readlink /proc/self/ns/pid)"; while :; do sleep 0.1; done'] }],
      {
        restartPolicy: 'Always',
        shareProcessNamespace: true,
      },
    ),
    { backoff: fast },
  )
  await c.waitFor('app', /^pid1=pause /)
  const oldPid = c.pod.sandbox.namespaces.pid
  const holdOld = openSync(`/proc/${c.pod.sandbox.pid}/ns/pid`, 'r') // its inode number stays taken
  t.teardown(() => closeSync(holdOld))
  process.kill(c.pod.sandbox.pid, 'SIGKILL')
  t.ok(await waitUntil(() => c.lines('app').length >= 2), 'app ran again')
  t.not(c.pod.sandbox.namespaces.pid, oldPid)
  t.equal(c.lines('app')[1], `pid1=pause pid:[${c.pod.sandbox.namespaces.pid}]`, "under the new pause's pid namespace")
  t.equal(c.pod.runners[0].status.restartCount, 1)
  await c.pod.stop({ force: true })
})

t.test(
  'a detached pod: its engine makes the new sandbox (a second pause under the same shim), the record names the new pause, exec works, rm leaves nothing',
  { skip },
  async t => {
    const root = newRoot(t)
    const parent = uniqueParent(t, 'sbxdet')
    const name = uniqueName('sbxdet')
    const file = writeManifest(t, manifest(name, [reporter], { restartPolicy: 'Always' }))
    const started = await cliEnv(root, {}, 'run', '-d', '--cgroup-parent', parent, file)
    t.equal(started.code, 0, started.stderr)
    const oldPause = onlyRecord(root)!.pause!.pid
    process.kill(oldPause, 'SIGKILL')
    t.ok(await waitUntil(() => (onlyRecord(root)?.pause?.pid ?? oldPause) !== oldPause), 'the record names the new pause')
    const ps = async () => JSON.parse((await cliEnv(root, {}, 'ps', '--json')).stdout) as { pod: string; phase: string; ready: string; restarts: number }[]
    t.ok(await waitUntil(async () => (await ps())[0]?.ready === '1/1'), 'ready again')
    t.match(await ps(), [{ pod: name, phase: 'Running', restarts: 1 }])
    const exec = await cliEnv(root, {}, 'exec', name, '--', 'sh', '-c', 'readlink /proc/self/ns/uts')
    t.equal(exec.code, 0, exec.stderr)
    const record = JSON.parse(readFileSync(`${root}/${onlyRecord(root)!.id}/pod.json`, 'utf8')) as { pause: { namespaces: { uts: number } } }
    t.equal(exec.stdout.trim(), `uts:[${record.pause.namespaces.uts}]`, "exec joins the new sandbox's namespaces")
    const log = readFileSync(`${root}/${onlyRecord(root)!.id}/engine.log`, 'utf8')
    t.match(log, /"reason":"SandboxChanged","message":"Pod sandbox changed, it will be killed and re-created\."/, "the event, in the engine's log of the pod")
    const inspect = JSON.parse((await cliEnv(root, {}, 'inspect', name)).stdout) as {
      podLaunch: { events: { type: string; reason: string; message: string }[] }
    }
    t.match(
      inspect.podLaunch.events.filter(e => e.reason === 'SandboxChanged'),
      [{ type: 'Normal', message: 'Pod sandbox changed, it will be killed and re-created.' }],
      "kubelet's event in the record (inspect)",
    )
    t.equal((await cliEnv(root, {}, 'rm', '--force', name)).code, 0)
    t.same(await settledLeaks(root, parent), NO_LEAKS, 'nothing left')
  },
)
