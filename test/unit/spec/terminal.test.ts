import t from 'tap'
import { parseManifest, PodError } from '../../../src/index.js'

const pod = (c: object) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'a', command: ['sh'], ...c }] } })

t.test('stdin, stdinOnce and tty are honoured, not listed as unsupported', async t => {
  const { spec, unsupported } = parseManifest(pod({ stdin: true, stdinOnce: true, tty: true }))
  t.match(spec.containers[0], { stdin: true, stdinOnce: true, tty: true })
  t.same(unsupported, [])
})

t.test('they default to false, as in Kubernetes', async t => {
  t.match(parseManifest(pod({})).spec.containers[0], { stdin: false, stdinOnce: false, tty: false })
})

t.test('a non-boolean is refused with its field path', async t => {
  const err = t.throws(() => parseManifest(pod({ tty: 'yes', stdin: 1 }))) as PodError
  t.match(err.message, /spec\.containers\[0\]\.tty/)
  t.match(err.message, /spec\.containers\[0\]\.stdin/)
  t.equal(err.exitCode, 2)
})
