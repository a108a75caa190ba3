// Placement before exec (CLONE_INTO_CGROUP or cgroup.procs), teardown that
// leaves no process and no cgroup, even with daemons that left their parent.
import t from 'tap'
import { closeSync, existsSync, readFileSync } from 'node:fs'
import { requires, envReport } from '../helpers/requires.js'
import { isDead, makePod, pipe, readAll, resources, until } from '../helpers/cgroup-pods.js'

const skip = requires('root', 'built')
if (!skip) t.comment(envReport())

/** Run `cat /proc/self/cgroup` in `who` and return what it printed: where it was at exec. */
async function cgroupAtExec(p: ReturnType<typeof makePod>, who: string, extra = {}): Promise<string[]> {
  const [r, w] = pipe()
  const child = await p.run(who, ['cat', '/proc/self/cgroup'], { stdio: [w, w, w], ...extra })
  closeSync(w)
  const out = readAll(r)
  await child.exited
  return out.trim().split('\n')
}

t.test('a process is in every hierarchy of its container cgroup when it execs', { skip }, async t => {
  const p = makePod(t, 'place', { app: resources({ memoryBytes: 256 * 2 ** 20 }) })
  const lines = await cgroupAtExec(p, 'app')
  const want = `/pod-launch/pod-${p.uid}/app`
  for (const h of p.cg.plan.hierarchies) {
    const name = h.version === 2 ? '' : h.controllers.join(',')
    const line = lines.find(l => l.split(':')[1] === name)
    t.equal(line?.split(':')[2], want, `${h.version === 2 ? 'cgroup2' : name}: ${line}`)
  }
})

t.test('clone3 CLONE_INTO_CGROUP places the child with no cgroup.procs write (cgroup2 hosts)', { skip }, async t => {
  const p = makePod(t, 'into', { app: resources() })
  const fd = p.cg.cgroupFd('app')
  if (p.cg.plan.mode === 'v1') {
    t.equal(fd, undefined, 'no cgroup2 hierarchy: no fd, placement is by cgroup.procs only')
    return
  }
  t.type(fd, 'number')
  // No beforeGo here: only clone3 can have put it there.
  const { spawnProcess } = await import('../../src/spawn/index.js')
  const [r, w] = pipe()
  const child = await spawnProcess({ argv: ['/bin/cat', '/proc/self/cgroup'], envp: [], stdio: [w, w, w], cgroupFd: fd })
  closeSync(w)
  const lines = readAll(r).trim().split('\n')
  await child.exited
  t.equal(
    lines.find(l => l.startsWith('0::')),
    `0::/pod-launch/pod-${p.uid}/app`,
  )
})

t.test('without clone3 (legacy clone) the cgroup.procs write in beforeGo places the child', { skip }, async t => {
  const p = makePod(t, 'legacy', { app: resources() })
  const lines = await cgroupAtExec(p, 'app', { legacyClone: true })
  t.equal(
    lines.find(l => l.startsWith('0::')),
    `0::/pod-launch/pod-${p.uid}/app`,
  )
  t.ok(
    lines.every(l => !/:(memory|pids|cpu)(,[a-z]+)*:/.test(l) || l.endsWith(`/pod-${p.uid}/app`)),
    lines.join(' | '),
  )
})

t.test('killAll kills a daemon that double-forked out of its parent with setsid', { skip }, async t => {
  const p = makePod(t, 'daemon', { app: resources() })
  const sh = await p.run('app', ['sh', '-c', '(setsid sleep 600 &) ; exit 0'])
  t.equal((await sh.exited).code, 0)
  // setsid forks when it already leads a group, then execs sleep: wait for that.
  const cmdline = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    } catch {
      return ''
    }
  }
  await until('the daemon to be `sleep 600`, alone in the cgroup', () => p.pids('app').length === 1 && cmdline(p.pids('app')[0]) === 'sleep\x00600\x00')
  const [daemon] = p.pids('app')
  const stat = readFileSync(`/proc/${daemon}/stat`, 'utf8')
  const [ppid, , sid] = stat
    .slice(stat.lastIndexOf(')') + 4)
    .split(' ')
    .map(Number)
  t.not(ppid, process.pid, `reparented away from us (ppid ${ppid})`)
  t.equal(sid, daemon, 'it leads its own session')
  await p.cg.killAll()
  await until(`daemon ${daemon} to die`, () => isDead(daemon))
  t.same(p.pids('app'), [])
  await until('pids.current of the pod to drop to 0 (the daemon reaped)', () => (p.cg.stats().pids ?? 0) === 0)
})

t.test('after killAll and remove no cgroup of the pod remains in any hierarchy', { skip }, async t => {
  const p = makePod(t, 'remove', { a: resources({ cpuMilli: 100 }), b: resources({ memoryBytes: 64 * 2 ** 20 }) })
  await p.run('a', ['sleep', '600'])
  await p.run('b', ['sh', '-c', 'sleep 600 & sleep 600'])
  await p.run('pause', ['sleep', '600'])
  const dirs = [...p.cg.paths.pod, ...p.cg.paths.pause, ...Object.values(p.cg.paths.containers).flat()]
  t.ok(dirs.every(existsSync), `${dirs.length} cgroup directories made`)
  await p.cg.killAll()
  await p.cg.remove()
  t.same(dirs.filter(existsSync), [])
})
