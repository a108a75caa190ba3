// The log tail kubelet takes for FallbackToLogsOnError: the last 80 CRI
// records, partial ones joined, then the last 2048 bytes.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { logTail } from '../../../src/pod/runner.js'

const rec = (stream: string, tag: 'F' | 'P', text: string) => `2026-11-25T15:00:00.000000000Z ${stream} ${tag} ${text}\n`

t.test('full records end in a newline, partial ones join the next, both streams in file order', async t => {
  const file = join(t.testdir(), '0.log')
  writeFileSync(file, rec('stdout', 'F', 'first') + rec('stderr', 'P', 'par') + rec('stderr', 'F', 'tial') + rec('stdout', 'F', ''))
  t.equal(logTail(file, 80, 2048), 'first\npartial\n\n')
})

t.test('only the last 80 records, and of them the last 2048 bytes', async t => {
  const file = join(t.testdir(), '0.log')
  writeFileSync(file, Array.from({ length: 100 }, (_, i) => rec('stdout', 'F', `line ${i}`)).join(''))
  t.equal(logTail(file, 80, 2048), Array.from({ length: 80 }, (_, i) => `line ${i + 20}\n`).join(''))
  writeFileSync(file, rec('stdout', 'F', 'x'.repeat(3000)) + rec('stdout', 'F', 'end'))
  const tail = logTail(file, 80, 2048)
  t.equal(Buffer.byteLength(tail), 2048)
  t.ok(tail.endsWith('x\nend\n'))
})

t.test('a missing log gives an empty message', async t => {
  t.equal(logTail('/nonexistent/pod-launch/0.log', 80, 2048), '')
})
