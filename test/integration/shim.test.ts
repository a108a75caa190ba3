// The pod shim (native/shim) as a ProcessHost: it is the parent of pause and
// the containers, writes their CRI logs, records their exits in the pod
// directory, serves attach, and holds the pod while no Node process does.
import t from 'tap'
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseCriLog, type PodOptions } from '../../src/index.js'
import { ShimClient } from '../../src/shim/client.js'
import { ShimHost } from '../../src/shim/host.js'
import { FRAME, FrameDecoder, encodeFrame, socketAddress } from '../../src/pod/index.js'
import { requires } from '../helpers/requires.js'
import { manifest, run, start, uniqueName } from '../helpers/pods.js'
import { alive } from '../helpers/procs.js'

const skip = requires('root', 'built')

// The state roots live under the system's tmpdir, not in tap's fixtures below the checkout: the cgroup v2 VM
// shares the checkout over 9p, where a unix socket (shim.sock, the attach sockets) cannot be bound (ENXIO).
const base = mkdtempSync(join(tmpdir(), 'pl-shimtest-'))
t.teardown(() => rmSync(base, { recursive: true, force: true }))
const newRoot = () => mkdtempSync(join(base, 'root-'))

const viaShim = (stateRoot: string): PodOptions => ({
  stateRoot,
  keepState: true,
  host: ctx => new ShimHost({ podDir: ctx.dir.root, cgroups: ctx.cgroups }),
})

const ppid = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
}
const comm = (pid: number) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim()

t.test('pause and the containers are children of the shim, which is no child of ours', { skip }, async t => {
  const root = newRoot()
  const { pod } = await start(t, manifest(uniqueName('shimtree'), [{ name: 'c', command: ['sleep', '600'] }]), viaShim(root))
  const shim = ppid(pod.sandbox.pid)
  t.equal(comm(shim), 'pod-launch-shim', 'pause is the shim child')
  t.equal(ppid(pod.runners[0].status.pid!), shim, 'so is the container')
  t.not(ppid(shim), process.pid, 'the shim is not our child')
  t.ok(existsSync(join(pod.dir.root, 'shim.sock')), 'it listens in the pod directory')
  await pod.stop({ force: true })
  t.notOk(alive(shim), 'the shim exits with the pod')
})

t.test('the shim writes CRI logs (F and P records, both streams) and records every exit durably', { skip }, async t => {
  const root = newRoot()
  const long = 'y'.repeat(20_000)
  const { result, pod } = await run(
    t,
    manifest(uniqueName('shimlog'), [{ name: 'c', command: ['sh', '-c', `printf 'one\\ntwo'; printf 'err\\n' >&2; printf '\\n${long}\\n'; exit 3`] }]),
    viaShim(root),
  )
  t.equal(result.phase, 'Failed')
  const term = result.containerStatuses[0].state
  t.match(term, { terminated: { exitCode: 3, reason: 'Error' } })
  const records = parseCriLog(readFileSync(join(pod.dir.root, 'logs', 'c', '0.log')))
  const out = records.filter(r => r.stream === 'stdout')
  t.same(
    out.map(r => [r.full, r.content.length]),
    [
      [true, 3],
      [true, 3],
      [false, 16 * 1024],
      [true, 20_000 - 16 * 1024],
    ],
    'lines, and a long one cut at 16 KiB into P then F',
  )
  t.same(
    records.filter(r => r.stream === 'stderr').map(r => r.content.toString()),
    ['err'],
  )
  t.ok(
    records.every(r => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/.test(r.time)),
    'RFC 3339 timestamps with nanoseconds',
  )
  const exit = JSON.parse(readFileSync(join(pod.dir.root, 'exits', 'c.json'), 'utf8'))
  t.match(exit, { name: 'c', run: 0, exitCode: 3, signal: 0, oomKilled: false }, 'the exit is on disk')
  t.ok(exit.finishedAtNs > exit.startedAtNs, 'with its times')
})

t.test("an OOM kill is the shim's verdict from the container cgroup's counter (v1 memory.oom_control, v2 memory.events)", { skip }, async t => {
  const root = newRoot()
  const { result, pod } = await run(
    t,
    // tail keeps the line it reads, and /dev/zero has no newline: it grows until the limit kills it.
    manifest(uniqueName('shimoom'), [{ name: 'c', command: ['tail', '/dev/zero'], resources: { limits: { memory: '24Mi' } } } as never]),
    viaShim(root),
  )
  t.match(result.containerStatuses[0].state, { terminated: { exitCode: 137, reason: 'OOMKilled' } })
  const exit = JSON.parse(readFileSync(join(pod.dir.root, 'exits', 'c.json'), 'utf8'))
  t.match(exit, { name: 'c', signal: 9, oomKilled: true }, 'the exit on disk says OOM')
})

t.test('a container that cannot start is worded as a direct spawn words it, and nothing is left', { skip }, async t => {
  const root = newRoot()
  const { result } = await run(t, manifest(uniqueName('shimfail'), [{ name: 'c', command: ['/no/such/program'] }]), viaShim(root))
  const s = result.containerStatuses[0].state
  t.match(s, { terminated: { reason: 'ContainerCannotRun', exitCode: 128 } })
  t.match('terminated' in s && s.terminated.message, /^child\.exec: \/no\/such\/program: no such file or directory \(ENOENT\)$/)
})

t.test('the pod runs on while no Node process holds it; the next one adopts the shim and gets the exits', { skip }, async t => {
  const root = newRoot()
  const name = uniqueName('shimadopt')
  const { pod } = await start(
    t,
    manifest(name, [
      { name: 'quick', command: ['sh', '-c', 'read x; echo got $x; exit 5'], stdin: true } as never,
      { name: 'long', command: ['sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.05; done'] },
    ]),
    viaShim(root),
  )
  const dir = pod.dir.root
  // Another client asks the shim what it holds, as the next engine would.
  const other = await ShimClient.connect(dir)
  t.teardown(() => other.close())
  const before = await other.status()
  t.same(before.map(p => [p.name, p.running]).sort(), [
    ['long', true],
    ['pause', true],
    ['quick', true],
  ])
  const lines = () => parseCriLog(readFileSync(join(dir, 'logs', 'long', '0.log'))).length
  const n0 = lines()
  await new Promise(r => setTimeout(r, 500))
  t.ok(lines() > n0, 'the log keeps growing')
  const { host, procs } = await ShimHost.adopt({ podDir: dir, cgroups: pod.cgroups })
  t.teardown(() => host.detach())
  t.same(procs.map(p => p.name).sort(), ['long', 'pause', 'quick'])
  const quick = host.process('quick')!
  // SIGKILL: the container's sh is pid 1 of its pid namespace and has no SIGTERM handler (the kernel drops SIGTERM).
  t.ok(await other.kill('quick', 9), 'a signal through the shim')
  const exit = await quick.exited
  t.match(exit, { signal: 'SIGKILL', exitCode: 137 }, 'the adopting host hears the exit')
  await pod.stop({ force: true })
})

t.test('attach: the shim serves the attach protocol on attach/<name>.sock (stdin, output, exit)', { skip }, async t => {
  const root = newRoot()
  const m = manifest(uniqueName('shimattach'), [{ name: 'c', command: ['sh', '-c', 'read line; echo "echo:$line"; exit 4'] }])
  ;(m.spec.containers[0] as Record<string, unknown>).stdin = true
  ;(m.spec.containers[0] as Record<string, unknown>).stdinOnce = true
  const { pod } = await start(t, m, viaShim(root))
  const addr = socketAddress(join(pod.dir.root, 'attach'), 'c.sock')
  const sock = connect(addr.path)
  t.teardown(addr.close)
  const decoder = new FrameDecoder()
  const frames: { type: number; payload: Buffer }[] = []
  const closed = new Promise(resolve => sock.on('close', resolve))
  sock.on('data', d => frames.push(...decoder.push(d)))
  await new Promise(resolve => sock.once('connect', resolve))
  for (let i = 0; i < 100 && !frames.some(f => f.type === FRAME.HELLO); i++) await new Promise(r => setTimeout(r, 20))
  t.same(JSON.parse(frames.find(f => f.type === FRAME.HELLO)!.payload.toString()), { container: 'c', tty: false, stdin: true })
  // One write: the container may read its line, answer and exit (the shim then closes the socket) before a
  // second write of STDIN_END would arrive, which then fails with EPIPE.
  sock.write(Buffer.concat([encodeFrame(FRAME.STDIN, 'hello\n'), encodeFrame(FRAME.STDIN_END)]))
  await closed
  const out = Buffer.concat(frames.filter(f => f.type === FRAME.STDOUT).map(f => f.payload)).toString()
  t.equal(out, 'echo:hello\n', 'output comes back')
  t.same(JSON.parse(frames.find(f => f.type === FRAME.EXIT)!.payload.toString()), { exitCode: 4 }, 'then the exit')
  await pod.wait()
})

t.test('a SIGKILLed shim takes its pod with it: no process of the pod is left', { skip }, async t => {
  const root = newRoot()
  const { pod } = await start(t, manifest(uniqueName('shimkill'), [{ name: 'c', command: ['sleep', '600'] }]), viaShim(root))
  const shim = ppid(pod.sandbox.pid)
  const pids = [pod.sandbox.pid, pod.runners[0].status.pid!]
  process.kill(shim, 'SIGKILL')
  const result = await pod.wait()
  t.equal(result.phase, 'Failed', 'the pod failed')
  t.match(result.reason, new RegExp(`^the pod's shim \\(pid ${shim}\\) died`), 'and says why')
  t.same(pids.filter(alive), [], 'pause and the container died with it')
})
