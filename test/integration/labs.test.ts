// Every lab is also a test: it must PASS on the real kernel.
import t from 'tap'
import { readdirSync, rmdirSync } from 'node:fs'
import { join } from 'node:path'
import { LABS, runLab } from '../../src/labs/index.js'
import { requires } from '../helpers/requires.js'
import { cli } from '../helpers/cli.js'
import { newRoot } from '../helpers/detached-pods.js'

const skip = requires('root', 'built')

for (const lab of LABS) {
  t.test(`lab ${lab.name} passes`, { skip }, async t => {
    let out = ''
    const { passed, checks } = await runLab(lab.name, { out: s => (out += s), color: false })
    t.ok(checks.length >= 2, 'it checks something')
    t.ok(passed, `every check holds:\n${out}`)
    t.match(out, new RegExp(`\\nPASS  ${lab.name}: `))
    t.notMatch(out, /\x1b\[/, 'no colour when not asked for')
  })
}

t.test('an unknown lab is a usage error naming the labs', { skip }, async t => {
  const e = (await runLab('nope', { out: () => {} }).catch(e => e)) as { step: string; exitCode: number; hint: string }
  t.match(e, { step: 'lab', exitCode: 2, hint: /shared-net/ })
})

t.test('lab through the CLI: its pods live under --root and --cgroup-parent', { skip }, async t => {
  const root = newRoot(t)
  const parent = `pl-lab-test-${process.pid}`
  t.teardown(() => {
    for (const h of readdirSync('/sys/fs/cgroup'))
      try {
        rmdirSync(join('/sys/fs/cgroup', h, parent))
      } catch {
        // not made in that hierarchy
      }
  })
  const seen = new Set<string>()
  const poll = setInterval(() => {
    for (const d of readdirSync(root)) if (!d.startsWith('.')) seen.add(d)
  }, 50)
  const r = await cli(root, '--cgroup-parent', parent, 'lab', 'memory-limit')
  clearInterval(poll)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, new RegExp(`/${parent}/pod-[0-9a-f-]+/hog/memory\\.(max|limit_in_bytes) +33554432\\n`), 'the cgroups under --cgroup-parent')
  t.ok(seen.size > 0, `the pod's directory was under --root while the lab ran (${[...seen].join(' ')})`)
  t.same(
    readdirSync(root).filter(d => !d.startsWith('.')),
    [],
    'and removed with the pod',
  )
})
