// `pod-launch cri` keeps its pods across a restart (issue 19): pause and the
// containers are children of each sandbox's shim, the server's records are
// on disk. The server is SIGKILLed with a pod running on a CNI network in
// 198.18.7.0/24; the containers run and log on; a container exits while no
// server listens; a new server reports everything (the exit with its code and
// time), exec, attach and port-forward work on the adopted pod, a container created before
// the restart starts after it, and stopp/rmp leave nothing. A sandbox whose
// shim died while the server was down is NOT_READY, its container Exited
// (255, Unknown), and rmp cleans it.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { get } from 'node:http'
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { findShims } from '../../src/shim/find.js'
import { BIN } from '../helpers/cli.js'
import { guardHost, testNetwork } from '../helpers/cni.js'
import { critestRegistry, requiresGoLane, startCri, type CriServer } from '../helpers/cri.js'
import { alive } from '../helpers/procs.js'

const skip = requiresGoLane()
const BRIDGE = 'pltcri4'
const PARENT = 'pl-cri-restart'

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

t.test('pods survive a SIGKILLed pod-launch cri and are adopted by the next one', { skip }, async t => {
  guardHost(t, [BRIDGE])
  const net = testNetwork(t, { name: 'pl-cri-restart', bridge: BRIDGE, subnet: '198.18.7.0/24' })
  let cri: CriServer | undefined
  t.teardown(async () => {
    await cri?.destroy()
  })
  cri = await startCri({ cniConfDir: net.confDir, cgroupParent: PARENT })
  const first = cri
  const image = `${critestRegistry()}/e2e-test-images/busybox:1.29-2`
  const logs = join(first.dir, 'logs')
  mkdirSync(logs)
  const podFile = (name: string) => {
    const file = join(first.dir, `pod-${name}.json`)
    writeFileSync(
      file,
      JSON.stringify({ metadata: { name, uid: `${name}-uid`, namespace: 'restart', attempt: 1 }, log_directory: logs, labels: { app: name }, linux: {} }),
    )
    return file
  }
  const ctrFile = (name: string, command: string[], extra: object = {}) => {
    const file = join(first.dir, `ctr-${name}.json`)
    writeFileSync(file, JSON.stringify({ metadata: { name }, image: { image }, command, log_path: `${name}.log`, linux: {}, ...extra }))
    return file
  }
  const ok = async (...args: string[]) => {
    const out = await cri!.crictl(...args)
    t.equal(out.code, 0, `crictl ${args.join(' ')}: ${out.stderr}`)
    return out.stdout.trim()
  }
  const inspect = async (id: string) =>
    JSON.parse(await ok('inspect', id)) as {
      status: { state: string; exitCode: number; reason: string; message: string; finishedAt: string }
      info: { pid: number }
    }
  const ticks = () => (readFileSync(join(logs, 'app.log'), 'utf8').match(/ tick\n/g) ?? []).length

  await ok('pull', image)
  const pod = await ok('runp', podFile('web'))
  const pf = podFile('web')
  const app = await ok('create', pod, ctrFile('app', ['sh', '-c', 'echo started; while true; do echo tick; sleep 0.2; done']), pf)
  const quit = await ok('create', pod, ctrFile('quit', ['sh', '-c', 'sleep 3; echo bye; exit 3']), pf)
  const later = await ok('create', pod, ctrFile('later', ['sh', '-c', 'echo later; read line; echo "got $line"; sleep 1000'], { stdin: true }), pf)
  // A server on the pod's loopback only: port-forward after the restart must enter the adopted pod's netns.
  const page = 'served by the adopted pod'
  const web = await ok(
    'create',
    pod,
    ctrFile('web', ['sh', '-c', `mkdir -p /www && echo ${page} > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www`]),
    pf,
  )
  await ok('start', app)
  await ok('start', quit)
  await ok('start', web)
  const before = JSON.parse(await ok('inspectp', pod)) as { status: { state: string; network: { ip: string } }; info: { pid: number } }
  const pausePid = before.info.pid
  const appPid = (await inspect(app)).info.pid
  t.ok(pausePid > 0 && appPid > 0, 'pause and app run')
  const shims = findShims().filter(s => s.dir === join(first.root, pod))
  t.equal(shims.length, 1, 'the sandbox has one shim')
  t.equal(readFileSync(`/proc/${pausePid}/stat`, 'utf8').split(') ')[1].split(' ')[1], String(shims[0].pid), "pause is the shim's child")

  await first.kill()
  const killedAt = Date.now()
  t.ok(alive(pausePid) && alive(appPid), 'pause and app outlive the SIGKILLed server')
  const n = ticks()
  await sleep(4000) // quit exits meanwhile (sleep 3)
  t.ok(ticks() > n + 5, 'app kept logging through its shim')

  cri = await startCri({ cniConfDir: net.confDir, cgroupParent: PARENT, dir: first.dir })
  t.match(cri.log(), /1 sandbox\(es\) adopted/, 'the new server adopted the sandbox')
  t.equal(await ok('pods', '-q'), pod, 'the same sandbox is listed')
  const after = JSON.parse(await ok('inspectp', pod)) as typeof before
  t.equal(after.status.state, 'SANDBOX_READY')
  t.equal(after.status.network.ip, before.status.network.ip, 'with its IP')
  t.equal(after.info.pid, pausePid, 'and its pause')
  t.same((await ok('ps', '-a', '-q')).split('\n').sort(), [app, quit, later, web].sort(), 'every container is listed')
  t.same((await ok('ps', '-q', '--state', 'Running')).split('\n').sort(), [app, web].sort(), 'app and web are running')
  const a = await inspect(app)
  t.equal(a.info.pid, appPid, 'the same process')
  const q = await inspect(quit)
  t.equal(q.status.state, 'CONTAINER_EXITED', 'quit exited while no server listened')
  t.equal(q.status.exitCode, 3, 'with its code')
  t.equal(q.status.reason, 'Error')
  t.ok(Date.parse(q.status.finishedAt) > killedAt, `and its finish time (${q.status.finishedAt}, after the kill)`)
  t.equal(await ok('logs', quit), 'bye', 'its log')
  t.match((await cri.crictl('logs', app)).stdout, /^started\n(tick\n){20,}/, "app's log holds what it wrote meanwhile")

  t.match(await ok('exec', '-s', app, 'sh', '-c', 'echo in-$(hostname) $PPID'), /^in-\S+ 0$/, 'ExecSync joins the adopted container (its pid namespace too)')
  t.match((await cri.crictl('exec', '-s', app, 'sh', '-c', 'exit 4')).stderr, /exited with 4/, 'and its exit code comes back')
  t.match(await ok('exec', app, 'cat', '/proc/1/cmdline'), /\/pause\0?$/, "a streamed exec too (in the pod's pid namespace: pid 1 is pause)")
  // `pod-launch gc` on the server's root ends no sandbox of it (the shims are the server's, not orphans), however old.
  const minuteAgo = new Date(Date.now() - 60_000)
  utimesSync(join(cri.root, pod), minuteAgo, minuteAgo)
  const gc = spawnSync(process.execPath, [BIN, '--root', cri.root, 'gc', '--cgroup-parent', PARENT], { encoding: 'utf8' })
  t.equal(gc.status, 0, gc.stderr)
  t.ok(alive(shims[0].pid) && alive(appPid), 'gc leaves the shim and its containers alone')
  await ok('start', later)
  t.equal(await inspect(later).then(c => c.status.state), 'CONTAINER_RUNNING', 'a container created before the restart starts after it')
  // attach through the shim's socket: our input reaches the container's stdin.
  const attach = await new Promise<string>(resolve => {
    const child = spawn(process.env.POD_LAUNCH_CRICTL!, ['--runtime-endpoint', cri!.endpoint, 'attach', '-i', later])
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d))
    // crictl attaches once the streaming session is up: send the line after a moment, again if it was early.
    const send = setInterval(() => child.stdin.write('hello\n'), 1000)
    // crictl attach ignores SIGTERM.
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    child.stdout.on('data', () => out.includes('got hello') && (clearTimeout(timer), clearInterval(send), child.kill('SIGKILL')))
    child.on('exit', () => clearInterval(send))
    child.on('exit', () => resolve(out))
  })
  t.match(attach, /got hello/, 'attach reaches the adopted container')
  // port-forward: crictl's forwarder (client-go's SPDY) through the new server's streaming URL into the adopted pod's netns.
  const forwarded = await new Promise<{ first: string; second: string; output: string }>((resolve, reject) => {
    const child = spawn(process.env.POD_LAUNCH_CRICTL!, ['--runtime-endpoint', cri!.endpoint, 'port-forward', pod, '0:8080'])
    let output = ''
    const fail = (why: string) => (child.kill('SIGKILL'), reject(new Error(`port-forward: ${why}; its output: ${output}`)))
    const timer = setTimeout(() => fail('no answer after 60 s'), 60_000)
    const fetch = (port: number) =>
      new Promise<string>((ok, ko) =>
        get({ host: '127.0.0.1', port, path: '/index.html' }, res => {
          let body = ''
          res.on('data', (d: Buffer) => (body += d.toString()))
          res.on('end', () => ok(body))
        }).on('error', ko),
      )
    const onData = (d: Buffer) => {
      output += d.toString()
      const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(output)
      if (!m) return
      child.stdout.off('data', onData)
      child.stderr.off('data', onData)
      const port = Number(m[1])
      // Two connections over the one session.
      fetch(port)
        .then(async first => ({ first, second: await fetch(port), output }))
        .then(
          r => (clearTimeout(timer), child.kill('SIGKILL'), resolve(r)),
          (e: Error) => (clearTimeout(timer), fail(e.message)),
        )
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', code => (clearTimeout(timer), reject(new Error(`port-forward exited ${code}: ${output}`))))
  })
  t.equal(forwarded.first, `${page}\n`, "port-forward reaches a server on the adopted pod's loopback")
  t.equal(forwarded.second, `${page}\n`, 'a second connection over the same session')

  await ok('stop', '-t', '1', app)
  t.equal((await inspect(app)).status.exitCode, 143, 'stop ends the adopted run')
  await ok('stopp', pod)
  t.equal(net.reserved().length, 0, 'CNI DEL released the address')
  await ok('rmp', pod)
  t.equal(await ok('pods', '-q'), '')
  t.equal(await ok('ps', '-a', '-q'), '')
  t.notOk(existsSync(join(cri.root, pod)), 'no pod directory remains')
  t.notOk(existsSync(`/sys/fs/cgroup/memory/${PARENT}/pod-${pod}`), 'no pod cgroup remains')
  for (let i = 0; i < 100 && alive(shims[0].pid); i++) await sleep(50)
  t.notOk(alive(shims[0].pid), 'the shim is gone')
  t.notOk(alive(pausePid) || alive(appPid), 'and its processes')
  t.same(net.ports(), [], 'no veth remains on the bridge')

  // A shim that dies while no server listens: its sandbox NOT_READY, its container Exited with a reason; rmp cleans.
  const pod2 = await ok('runp', podFile('lost'))
  const c2 = await ok('create', pod2, ctrFile('c2', ['sleep', '1000']), podFile('lost'))
  await ok('start', c2)
  await cri.kill()
  const shim2 = findShims().find(s => s.dir === join(cri!.root, pod2))!
  process.kill(shim2.pid, 'SIGKILL')
  for (let i = 0; i < 100 && alive(shim2.pid); i++) await sleep(50)
  cri = await startCri({ cniConfDir: net.confDir, cgroupParent: PARENT, dir: first.dir })
  t.match(cri.log(), /its shim is gone/, 'the new server says why')
  t.equal((JSON.parse(await ok('inspectp', pod2)) as typeof before).status.state, 'SANDBOX_NOTREADY', 'the sandbox is not ready')
  const lost = await inspect(c2)
  t.equal(lost.status.state, 'CONTAINER_EXITED')
  t.equal(lost.status.exitCode, 255)
  t.equal(lost.status.reason, 'Unknown')
  t.match(lost.status.message, /shim died/)
  await ok('stopp', pod2)
  await ok('rmp', pod2)
  t.equal(await ok('pods', '-q'), '')
  t.notOk(existsSync(join(cri.root, pod2)), 'no pod directory remains')
  t.notOk(existsSync(`/sys/fs/cgroup/memory/${PARENT}/pod-${pod2}`), 'no pod cgroup remains')
  t.equal(net.reserved().length, 0, 'its address is released')
  t.same(net.ports(), [], 'no veth remains')
})
