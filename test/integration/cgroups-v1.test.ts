// The cgroup v1 teardown path on a real kernel: this host (hybrid) seen as
// v1-only, so killAll has no cgroup.kill and must freeze, SIGKILL each pid,
// thaw. Not in the v2 lane: a cgroup2-only host has no v1 hierarchy.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { detectCgroups } from '../../src/cgroups/index.js'
import { envReport, requires } from '../helpers/requires.js'
import { isDead, makePod, resources, until, v1View } from '../helpers/cgroup-pods.js'

const base = requires('root', 'built')
const host = base ? undefined : v1View(detectCgroups())
const skip = base || (host ? false : 'needs cgroup v1 hierarchies (a v1 or hybrid host)')
if (!skip) t.comment(envReport())

t.test('v1: killAll freezes a forking loop and a setsid daemon, kills every pid, thaws; remove leaves nothing', { skip }, async t => {
  const p = makePod(t, 'v1kill', { app: resources() }, { host, pidsLimit: 64 })
  t.equal(p.cg.cgroupFd('app'), undefined, 'no cgroup2 tree in this view')
  const freezer = p.cg.plan.hierarchies.find(h => h.controllers.includes('freezer'))
  t.ok(freezer, 'a freezer hierarchy is mounted')
  // A loop that keeps forking short-lived children, and a daemon out of its parent.
  await p.run('app', ['sh', '-c', '(setsid sleep 600 &); while :; do sleep 0.01 & wait; done'])
  await until('a daemon and the loop', () => p.pids('app').length >= 2)
  const before = p.pids('app')
  await p.cg.killAll()
  t.same(p.pids('app'), [])
  for (const pid of before) await until(`pid ${pid} to die`, () => isDead(pid))
  t.equal(readFileSync(join(freezer!.path, p.cg.plan.pod.rel, 'freezer.state'), 'utf8').trim(), 'THAWED', 'thawed again')
  const dirs = [...p.cg.paths.pod, ...p.cg.paths.pause, ...p.cg.paths.containers.app]
  await p.cg.remove()
  t.same(dirs.filter(d => { try { readFileSync(join(d, 'cgroup.procs')); return true } catch { return false } }), [])
})
