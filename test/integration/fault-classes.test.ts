// Issue 24, the fault suite: the classes of fault the run found
// holding, kept as tests through the real CLI, each bounded and each ending
// with the leak check: concurrent clients and a same-name race. The classes
// the pod's cgroups hold in (an escaping daemon, a fork bomb) are in
// fault-escape.test.ts, which the cgroup v2 lane runs too.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { requires } from '../helpers/requires.js'
import { manifest, uniqueName } from '../helpers/pods.js'
import { cliEnv, newRoot, NO_LEAKS, onlyRecord, settledLeaks, uniqueParent, writeManifest } from '../helpers/faults.js'

const skip = requires('root', 'built')
const idle = { name: 'c', command: ['sh', '-c', 'echo up; while :; do sleep 0.2; done'] }

t.test('4 clients at once, each running its own pods through run -d, ps, inspect, logs, stop, rm: every operation succeeds', { skip }, async t => {
  const root = newRoot(t)
  const parent = uniqueParent(t, 'clients')
  const CLIENTS = 4
  const PODS = 3
  const failures: string[] = []
  // Every manifest written before the clients start (t.testdir() empties its directory at each call).
  const dir = t.testdir()
  const files = new Map<string, string>()
  for (let c = 0; c < CLIENTS; c++) {
    for (let p = 0; p < PODS; p++) {
      const name = uniqueName(`client${c}`)
      files.set(`${c}/${p}`, join(dir, `${name}.json`))
      writeFileSync(files.get(`${c}/${p}`)!, JSON.stringify(manifest(name, [idle])))
    }
  }
  let ops = 0
  const op = async (...args: string[]) => {
    ops++
    const r = await cliEnv(root, {}, ...args)
    if (r.code !== 0) failures.push(`${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`)
    return r
  }
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (let p = 0; p < PODS; p++) {
        const file = files.get(`${c}/${p}`)!
        const name = (JSON.parse(readFileSync(file, 'utf8')) as { metadata: { name: string } }).metadata.name
        await op('run', '-d', '--cgroup-parent', parent, file)
        await op('ps')
        await op('inspect', name)
        await op('logs', name)
        await op('stop', '--grace-period', '1', name)
        await op('rm', name)
      }
    }),
  )
  t.same(failures, [], `${ops} operations from ${CLIENTS} clients, 0 errors`)
  t.same(await settledLeaks(root, parent), NO_LEAKS, 'nothing left')
})

t.test('6 concurrent run -d of one pod name: exactly one starts, the others are refused with EEXIST', { skip }, async t => {
  const root = newRoot(t)
  const parent = uniqueParent(t, 'race')
  const name = uniqueName('race')
  const file = writeManifest(t, manifest(name, [idle]))
  const results = await Promise.all(Array.from({ length: 6 }, () => cliEnv(root, {}, 'run', '-d', '--cgroup-parent', parent, file)))
  t.equal(results.filter(r => r.code === 0).length, 1, 'one winner')
  for (const r of results.filter(r => r.code !== 0)) t.match(r.stderr, /^pod-launch: pod\.create: \S+: a pod of this name exists/)
  t.ok(onlyRecord(root), 'one pod dir')
  t.equal((await cliEnv(root, {}, 'rm', '--force', name)).code, 0)
  t.same(await settledLeaks(root, parent), NO_LEAKS, 'nothing left')
})
