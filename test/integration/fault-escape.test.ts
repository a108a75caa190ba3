// Issue 24, the fault suite: the classes the pod's cgroups must hold on both
// cgroup versions, each through the real CLI and ending with the leak check:
// a daemon that escapes its session and its parent (only the pod's cgroup
// still knows it: rm --force kills the cgroup, v2 through cgroup.kill), and a
// fork bomb under --pids-limit (pids.max of the pod's cgroup).
import t from 'tap'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { requires } from '../helpers/requires.js'
import { manifest, uniqueName } from '../helpers/pods.js'
import { cliEnv, newRoot, NO_LEAKS, onlyRecord, processesUnder, settledLeaks, uniqueParent, waitUntil, writeManifest } from '../helpers/faults.js'
import { detectCgroups } from '../../src/cgroups/index.js'

const skip = requires('root', 'built')

t.test('a daemon that escapes its session and its parent (hostPID: reparented to the host init) dies with rm --force', { skip }, async t => {
  const root = newRoot(t)
  const parent = uniqueParent(t, 'daemon')
  const name = uniqueName('daemon')
  const daemon = {
    name: 'c',
    command: [
      'sh',
      '-c',
      `(setsid sh -c "trap '' HUP TERM INT; echo \\$\\$ > /out/daemon; while :; do sleep 0.2; done" &); echo forked; while :; do sleep 0.2; done`,
    ],
    volumeMounts: [{ name: 'out', mountPath: '/out' }],
  }
  const out = t.testdir()
  const file = writeManifest(t, manifest(name, [daemon], { hostPID: true, volumes: [{ name: 'out', hostPath: { path: out, type: 'Directory' } }] }))
  t.equal((await cliEnv(root, {}, 'run', '-d', '--cgroup-parent', parent, file)).code, 0)
  t.ok(await waitUntil(() => existsSync(join(out, 'daemon'))), 'the daemon started')
  const pid = Number(readFileSync(join(out, 'daemon'), 'utf8'))
  const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1])
  t.notOk(processesUnder(parent).includes(ppid), `its parent (${ppid}) is no process of the pod: it escaped`)
  t.equal((await cliEnv(root, {}, 'rm', '--force', name)).code, 0)
  t.notOk(existsSync(`/proc/${pid}`) && !/\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')), 'the daemon is gone')
  t.same(await settledLeaks(root, parent), NO_LEAKS, 'nothing left')
})

t.test('a fork bomb under --pids-limit 64 stays within it; rm --force ends every process', { skip }, async t => {
  const root = newRoot(t)
  const parent = uniqueParent(t, 'bomb')
  const name = uniqueName('bomb')
  const bomb = { name: 'c', command: ['sh', '-c', 'f() { f | f & }; f; while :; do sleep 0.2; done'] }
  const file = writeManifest(t, manifest(name, [bomb], { restartPolicy: 'Always' }))
  t.equal((await cliEnv(root, {}, 'run', '-d', '--cgroup-parent', parent, '--pids-limit', '64', file)).code, 0)
  const pids = detectCgroups().hierarchies.find(h => h.controllers.includes('pids'))!
  const dir = join(pids.path, parent, `pod-${onlyRecord(root)!.id}`)
  // A refused fork is counted in the pod's pids.events or (kernels before 6.2 on v1) in the forking task's own cgroup.
  const count = (d: string) => Number(/max (\d+)/.exec(readFileSync(join(d, 'pids.events'), 'utf8'))?.[1] ?? 0)
  const events = () =>
    [
      dir,
      ...readdirSync(dir, { withFileTypes: true })
        .filter(e => e.isDirectory())
        .map(e => join(dir, e.name)),
    ].reduce((n, d) => n + count(d), 0)
  t.ok(await waitUntil(() => events() > 0), 'the bomb hit pids.max (pids.events counts refused forks)')
  const current = Number(readFileSync(join(dir, 'pids.current'), 'utf8'))
  t.ok(current <= 64, `pids.current ${current} <= 64`)
  const rm = await cliEnv(root, {}, 'rm', '--force', name)
  t.equal(rm.code, 0, rm.stderr)
  t.same(await settledLeaks(root, parent), NO_LEAKS, 'nothing left')
})
