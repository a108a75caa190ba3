// Resource limits enforced by the kernel through our pod cgroups: memory
// (OOM kill, attributed to the right container), cpu quota, pids.max.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { requires, envReport } from '../helpers/requires.js'
import { makePod, Mi, resources, until } from '../helpers/cgroup-pods.js'

const skip = requires('root', 'built')
if (!skip) t.comment(envReport())

/** Doubles a shell string forever: memory grows until the kernel steps in. */
const HOG = ['sh', '-c', 'x=0123456789abcdef; while :; do x="$x$x"; done']

t.test('a container over its memory limit is OOM-killed, reported as such; its sibling keeps running', { skip }, async t => {
  const p = makePod(t, 'oom', { hog: resources({ memoryBytes: 64 * Mi }), idle: resources() })
  const idle = await p.run('idle', ['sleep', '600'])
  const hog = await p.run('hog', HOG)
  const exit = await hog.exited
  t.same(exit, { code: null, signal: 'SIGKILL', exitCode: 137 }, 'killed by SIGKILL')
  t.ok(await p.cg.oomKilledAfterExit('hog'), 'oomKilledAfterExit(hog)')
  t.ok(p.cg.oomKilled('hog'), 'oomKilled(hog)')
  t.ok(p.cg.stats('hog').oomKills >= 1, `stats(hog).oomKills = ${p.cg.stats('hog').oomKills}`)
  t.ok((p.cg.stats('hog').memoryPeakBytes ?? 0) <= 64 * Mi, 'peak usage stayed within the limit')
  t.notOk(p.cg.oomKilled('idle'), 'the sibling was not OOM-killed')
  t.ok(idle.isRunning, 'the sibling still runs')
  t.same(p.pids('idle'), [idle.pid], 'and is still in its cgroup')
})

t.test('an ordinary SIGKILL is not reported as an OOM kill', { skip }, async t => {
  const p = makePod(t, 'kill', { app: resources({ memoryBytes: 64 * Mi }) })
  const app = await p.run('app', ['sleep', '600'])
  app.kill('SIGKILL')
  t.equal((await app.exited).signal, 'SIGKILL')
  t.notOk(await p.cg.oomKilledAfterExit('app'))
  t.equal(p.cg.stats('app').oomKills, 0)
})

t.test('a cpu-limited busy loop uses about its quota (0.2 cpu)', { skip }, async t => {
  const p = makePod(t, 'cpu', { busy: resources({ cpuMilli: 200 }) })
  await p.run('busy', ['sh', '-c', 'while :; do :; done'])
  await new Promise(r => setTimeout(r, 300)) // past start-up
  const u0 = p.cg.stats('busy').cpuUsageNs!
  const t0 = process.hrtime.bigint()
  await new Promise(r => setTimeout(r, 1500))
  const used = p.cg.stats('busy').cpuUsageNs! - u0
  const cpus = used / Number(process.hrtime.bigint() - t0)
  t.ok(cpus > 0.1 && cpus < 0.35, `used ${cpus.toFixed(3)} cpu (limit 0.2)`)
  const container = p.cg.stats('busy').cpuUsageNs! // read first: the loop keeps adding
  const podUsage = p.cg.stats().cpuUsageNs!
  t.ok(podUsage >= container, `the pod counts its container (${podUsage} >= ${container})`)
})

t.test('a fork bomb stops at the pod pids limit', { skip }, async t => {
  const p = makePod(t, 'pids', { bomb: resources() }, { pidsLimit: 8 })
  const pidsDir = p.cg.plan.hierarchies.find(h => h.controllers.includes('pids'))!
  const podPids = join(pidsDir.path, p.cg.plan.pod.rel)
  t.equal(readFileSync(join(podPids, 'pids.max'), 'utf8'), '8\n')
  // Bounded: 40 background sleeps; the shell dies on its first failed fork.
  const bomb = await p.run('bomb', ['sh', '-c', 'i=0; while [ $i -lt 40 ]; do sleep 600 & i=$((i+1)); done; wait'])
  const exit = await bomb.exited
  t.not(exit.code, 0, `the shell could not fork everything (exit ${JSON.stringify(exit)})`)
  await until('the sleeps to settle', () => p.cg.stats().pids !== undefined)
  const pids = p.cg.stats().pids!
  t.ok(pids >= 1 && pids <= 8, `${pids} processes left, at most 8`)
  // Refused forks: v2 counts them in the limiting cgroup's pids.events, v1
  // (Linux 6.x) in the forking cgroup's: one of the two must say so.
  const refused = [podPids, join(podPids, 'bomb')].map(d => Number(/^max (\d+)$/m.exec(readFileSync(join(d, 'pids.events'), 'utf8'))?.[1] ?? 0))
  t.ok(refused[0] + refused[1] >= 1, `pids.events max: pod ${refused[0]}, container ${refused[1]}`)
})
