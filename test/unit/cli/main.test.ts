import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { main } from '../../../src/cli/main.js'

function io() {
  const out: string[] = []
  const err: string[] = []
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out: () => out.join(''), err: () => err.join('') }
}

t.test('--help lists the run command and exits 0', async t => {
  const c = io()
  t.equal(await main(['--help'], c.io), 0)
  t.match(c.out(), /pod-launch run <manifest>/)
})

t.test('no manifest is a usage error, exit 2, with a hint', async t => {
  const c = io()
  t.equal(await main(['run'], c.io), 2)
  t.match(c.err(), /^pod-launch: .*\nhint: pod-launch --help\n$/)
})

t.test('an invalid manifest exits 2 listing every field, before anything is created', async t => {
  const file = join(t.testdir(), 'bad.json')
  writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containers: [{ name: 'A!' }] } }))
  for (const argv of [['run', file], [file]]) {
    const c = io()
    t.equal(await main(argv, c.io), 2)
    t.match(c.err(), /spec\.containers\[0\]\.name: "A!" must be a DNS-1123 label/)
    t.match(c.err(), /spec\.containers\[0\]\.command: required/)
    t.match(c.err(), /\nhint: fix the manifest fields/)
  }
})

t.test('a missing manifest file names the path, exit 2', async t => {
  const c = io()
  t.equal(await main(['/no/such/pod.yaml'], c.io), 2)
  t.equal(c.err(), 'pod-launch: spec.read: /no/such/pod.yaml: no such file or directory (ENOENT)\n')
})
