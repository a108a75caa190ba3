// The shim (native/shim) through its TypeScript host, without root: the
// processes it starts here join no namespace and go into a fake cgroup (a
// directory whose cgroup.procs is a plain file), so what is tested is the
// shim itself: START from a stored plan, the CRI log, exits (code, signal,
// OOM by the counter file), restarts, attach, failures worded as the direct
// spawn words them, STATUS for a new client, SHUTDOWN.
import t from 'tap'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { PodCgroups, realFs, type CgroupPlan } from '../../../src/cgroups/index.js'
import { FRAME, FrameDecoder, encodeFrame, parseCriLog, socketAddress } from '../../../src/pod/index.js'
import type { ProcessIo } from '../../../src/pod/index.js'
import { PLAN_VERSION, type SpawnPlan } from '../../../src/spawn/index.js'
import { ShimClient } from '../../../src/shim/client.js'
import { ShimHost } from '../../../src/shim/host.js'

function setup(t: { testdir: () => string; teardown: (fn: () => unknown) => void }) {
  const dir = t.testdir()
  const pod = join(dir, 'pod')
  const cg = join(dir, 'cg')
  const plan = {
    mode: 'v1',
    hierarchies: [{ version: 1, path: cg, controllers: ['memory'] }],
    parent: 'p',
    pod: { who: 'pod', rel: 'p/pod-x', writes: [] },
    pause: { who: 'pause', rel: 'p/pod-x/pause', writes: [] },
    containers: [{ who: 'c', rel: 'p/pod-x/c', writes: [] }],
    enable: [],
    ops: [],
  } as unknown as CgroupPlan
  for (const rel of ['p/pod-x/pause', 'p/pod-x/c']) {
    mkdirSync(join(cg, rel), { recursive: true })
    writeFileSync(join(cg, rel, 'cgroup.procs'), '')
    writeFileSync(join(cg, rel, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n')
  }
  mkdirSync(join(pod, 'logs'), { recursive: true })
  const host = new ShimHost({ podDir: pod, cgroups: new PodCgroups(plan, realFs) })
  t.teardown(() => host.close())
  return { pod, cg, host }
}

const shPlan = (script: string): SpawnPlan => ({
  version: PLAN_VERSION,
  argv: ['sh', '-c', script],
  envp: ['PATH=/usr/bin:/bin'],
  searchPath: '/usr/bin:/bin',
  cwd: '/',
  join: [],
  unshare: [],
  newSession: true,
  mounts: [],
})

const logIo = (logPath: string, more: Partial<Extract<ProcessIo, { kind: 'log' }>> = {}): ProcessIo => ({
  kind: 'log',
  logPath,
  stdin: false,
  stdinOnce: false,
  tty: false,
  ...more,
})

t.test('a run: started from its plan into its cgroup, its output in CRI records, its exit reported and written down', async t => {
  const { pod, cg, host } = setup(t)
  const log = join(pod, 'logs', '0.log')
  const long = 'z'.repeat(17_000)
  const p = await host.start({ name: 'c', plan: shPlan(`printf 'one\\ntwo'; echo err >&2; printf '\\n${long}\\n'; exit 3`), cgroup: 'c', io: logIo(log) })
  t.equal(readFileSync(join(cg, 'p/pod-x/c/cgroup.procs'), 'utf8'), String(p.pid), 'placed by a cgroup.procs write')
  const exit = await p.exited
  t.match(exit, { code: 3, signal: null, exitCode: 3, oomKilled: false })
  t.ok(exit.finishedAt >= exit.startedAt)
  const records = parseCriLog(readFileSync(log))
  const of = (stream: string) => records.filter(r => r.stream === stream).map(r => [r.full, r.content.length])
  t.same(
    of('stdout'),
    [
      [true, 3],
      [true, 3],
      [false, 16 * 1024],
      [true, 17_000 - 16 * 1024],
    ],
    'stdout: lines, the long one cut at 16 KiB (P, then F)',
  )
  t.same(of('stderr'), [[true, 3]], 'stderr: its line')
  t.match(JSON.parse(readFileSync(join(pod, 'exits', 'c.json'), 'utf8')), { name: 'c', run: 0, exitCode: 3, signal: 0 })
})

t.test('signals through our pidfd; a restart is a new run of the same name; a new client sees both', async t => {
  const { pod, host } = setup(t)
  const first = await host.start({ name: 'c', plan: shPlan('sleep 30'), cgroup: 'c', io: logIo(join(pod, 'logs', '0.log')) })
  t.ok(first.kill('SIGTERM'))
  t.match(await first.exited, { signal: 'SIGTERM', exitCode: 143, code: null })
  t.notOk(first.kill('SIGTERM'), 'an ended run takes no signal')
  const second = await host.start({ name: 'c', run: 1, plan: shPlan('exec sleep 30'), cgroup: 'c', io: logIo(join(pod, 'logs', '1.log')) })
  const other = await ShimClient.connect(pod)
  t.teardown(() => other.close())
  t.match(await other.status(), [{ name: 'c', run: 1, pid: second.pid, running: true, role: 'container' }])
  second.kill('SIGKILL')
  await second.exited
  t.match(await other.status(), [{ name: 'c', run: 1, running: false, exitCode: 137, signal: 9 }])
})

t.test('an OOM kill is told by the cgroup counter growing during the run', async t => {
  const { pod, cg, host } = setup(t)
  const p = await host.start({ name: 'c', plan: shPlan('sleep 30'), cgroup: 'c', io: logIo(join(pod, 'logs', '0.log')), memoryLimited: true })
  writeFileSync(join(cg, 'p/pod-x/c/memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n')
  p.kill('SIGKILL')
  t.match(await p.exited, { signal: 'SIGKILL', oomKilled: true })
})

t.test('a start that fails in the child is worded as the direct spawn words it; the shim holds no run of it', async t => {
  const { pod, host } = setup(t)
  const plan = { ...shPlan(''), file: '/no/such/program', argv: ['/no/such/program'] }
  await t.rejects(host.start({ name: 'c', plan, cgroup: 'c', io: logIo(join(pod, 'logs', '0.log')) }), {
    message: 'child.exec: /no/such/program: no such file or directory (ENOENT)',
    step: 'child.exec',
    code: 'ENOENT',
  })
  const other = await ShimClient.connect(pod)
  t.teardown(() => other.close())
  t.match(await other.status(), [{ name: 'c', failed: true, running: false }])
})

t.test('attach: HELLO, stdin in, output out, stdinOnce closes stdin, then EXIT', async t => {
  const { pod, host } = setup(t)
  const p = await host.start({
    name: 'c',
    plan: shPlan('while read l; do echo "got:$l"; done; echo eof; exit 4'),
    cgroup: 'c',
    io: logIo(join(pod, 'logs', '0.log'), { stdin: true, stdinOnce: true }),
  })
  const addr = socketAddress(join(pod, 'attach'), 'c.sock')
  const sock = connect(addr.path)
  t.teardown(addr.close)
  const decoder = new FrameDecoder()
  const frames: { type: number; payload: Buffer }[] = []
  sock.on('data', d => frames.push(...decoder.push(d)))
  const closed = new Promise(resolve => sock.on('close', resolve))
  await new Promise(resolve => sock.once('connect', resolve))
  sock.write(encodeFrame(FRAME.STDIN, 'a\nb\n'))
  sock.write(encodeFrame(FRAME.STDIN_END))
  await closed
  t.same(JSON.parse(frames[0].payload.toString()), { container: 'c', tty: false, stdin: true }, 'HELLO first')
  t.equal(Buffer.concat(frames.filter(f => f.type === FRAME.STDOUT).map(f => f.payload)).toString(), 'got:a\ngot:b\neof\n')
  t.same(JSON.parse(frames.at(-1)!.payload.toString()), { exitCode: 4 }, 'EXIT last')
  t.match(await p.exited, { exitCode: 4 })
  const late = connect(addr.path)
  const lateFrames: { type: number; payload: Buffer }[] = []
  const lateDecoder = new FrameDecoder()
  late.on('data', d => lateFrames.push(...lateDecoder.push(d)))
  await new Promise(resolve => late.on('close', resolve))
  t.match(JSON.parse(lateFrames[0].payload.toString()), { message: 'attach: container c: not running' }, 'an ended container: ERROR')
})

t.test('SHUTDOWN kills and reaps what runs, then the shim is gone with its socket', async t => {
  const { pod, host } = setup(t)
  const p = await host.start({ name: 'c', plan: shPlan('sleep 30'), cgroup: 'c', io: logIo(join(pod, 'logs', '0.log')) })
  await host.close()
  t.match(await p.exited, { signal: 'SIGKILL' })
  t.notOk(existsSync(join(pod, 'shim.sock')), 'the socket is gone')
  t.notOk(existsSync(`/proc/${p.pid}`) && !/\) Z/.test(readFileSync(`/proc/${p.pid}/stat`, 'utf8')), 'the process is gone')
})
