// killAll without cgroup.kill (a v1 host, or cgroup2 before Linux 5.14): the
// fs seam refuses cgroup.kill as such a kernel would (ENOENT), so killAll
// must freeze (v1 freezer here on hybrid, cgroup.freeze in the v2 lane),
// SIGKILL every pid, thaw, against a loop that keeps forking and a daemon.
import t from 'tap'
import { existsSync } from 'node:fs'
import { realFs, type CgroupFs } from '../../src/cgroups/index.js'
import { envReport, requires } from '../helpers/requires.js'
import { isDead, makePod, resources, until } from '../helpers/cgroup-pods.js'

const skip = requires('root', 'built')
if (!skip) t.comment(envReport())

/** The real cgroup fs of a kernel without cgroup.kill; records the other writes. */
function noCgroupKill(writes: string[]): CgroupFs {
  return {
    ...realFs,
    writeFile(path, value) {
      if (path.endsWith('/cgroup.kill')) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT', errno: -2, path })
      writes.push(`${path.split('/').slice(-1)[0]}=${value}`)
      realFs.writeFile(path, value)
    },
  }
}

t.test('without cgroup.kill, killAll freezes a forking loop and a setsid daemon, kills every pid, thaws', { skip }, async t => {
  const writes: string[] = []
  const p = makePod(t, 'freeze', { app: resources() }, { pidsLimit: 64, fs: noCgroupKill(writes) })
  await p.run('app', ['sh', '-c', '(setsid sleep 600 &); while :; do sleep 0.01 & wait; done'])
  await until('a daemon and the loop', () => p.pids('app').length >= 2)
  const before = p.pids('app')
  writes.length = 0
  await p.cg.killAll()
  t.same(p.pids('app'), [])
  for (const pid of before) await until(`pid ${pid} to die`, () => isDead(pid))
  const v1 = p.cg.plan.hierarchies.some(h => h.controllers.includes('freezer'))
  t.same(
    writes.slice(0, 2),
    v1 ? ['freezer.state=FROZEN', 'freezer.state=THAWED'] : ['cgroup.freeze=1', 'cgroup.freeze=0'],
    `froze and thawed: ${writes.join(' ')}`,
  )
  const dirs = [...p.cg.paths.pod, ...p.cg.paths.pause, ...p.cg.paths.containers.app]
  await p.cg.remove()
  t.same(dirs.filter(existsSync), [], 'remove left nothing')
})
