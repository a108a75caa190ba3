import t from 'tap'
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { parseCriLog } from '../../src/index.js'
import { requires } from '../helpers/requires.js'
import { manifest, run, uniqueName } from '../helpers/pods.js'

const skip = requires('root', 'built')

/** The bytes of one stream, rebuilt from CRI records: F records end a line, P records do not. */
function rebuild(file: string, stream: 'stdout' | 'stderr'): Buffer {
  const parts: Buffer[] = []
  for (const r of parseCriLog(readFileSync(file))) {
    if (r.stream !== stream) continue
    parts.push(r.content)
    if (r.full) parts.push(Buffer.from('\n'))
  }
  return Buffer.concat(parts)
}

t.test('CRI log lines parse back to the exact bytes written, partial lines and stderr included', { skip }, async t => {
  const root = t.testdir()
  const long = 'x'.repeat(40_000)
  const { result, pod } = await run(
    t,
    manifest(uniqueName('crilog'), [
      { name: 'c', command: ['sh', '-c', `printf 'one\\n\\ntwo'; printf 'err line\\n' >&2; printf '\\n${long}\\n'; printf 'no newline at end' >&2`] },
    ]),
    { stateRoot: root, keepState: true },
  )
  t.equal(result.phase, 'Succeeded')
  const file = join(pod.dir.root, 'logs', 'c', '0.log')
  t.equal(result.containerStatuses[0].logPath, file)
  t.equal(rebuild(file, 'stdout').toString(), `one\n\ntwo\n${long}\n`)
  t.equal(rebuild(file, 'stderr').toString(), 'err line\nno newline at end')
  const records = parseCriLog(readFileSync(file))
  t.ok(
    records.every(r => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/.test(r.time)),
    'RFC 3339 timestamps with nanoseconds',
  )
  t.ok(
    records.some(r => !r.full && r.stream === 'stdout'),
    'the 40 000-byte line was split into partial records',
  )
})

t.test('each run of a restarted container gets its own log file, by restart count', { skip }, async t => {
  const root = t.testdir()
  const { pod, result } = await run(
    t,
    manifest(
      uniqueName('crirestart'),
      [{ name: 'c', command: ['sh', '-c', 'n=$(cat /dev/shm/n 2>/dev/null || echo 0); echo $((n+1)) > /dev/shm/n; echo run $n; [ $n -ge 2 ]'] }],
      { restartPolicy: 'OnFailure' },
    ),
    { stateRoot: root, keepState: true, backoff: { initialMs: 20, maxMs: 40, resetAfterMs: 1e9 } },
  )
  t.equal(result.containerStatuses[0].restartCount, 2)
  const dir = join(pod.dir.root, 'logs', 'c')
  t.same(readdirSync(dir).sort(), ['0.log', '1.log', '2.log'])
  t.same(
    [0, 1, 2].map(i => rebuild(join(dir, `${i}.log`), 'stdout').toString()),
    ['run 0\n', 'run 1\n', 'run 2\n'],
  )
})

t.test('20 MB of binary output neither stalls the container nor loses a byte', { skip }, async t => {
  const root = t.testdir()
  const { pod, result, stderr } = await run(
    t,
    manifest(uniqueName('blob'), [
      { name: 'c', command: ['sh', '-c', 'head -c 20000000 /dev/urandom > /dev/shm/blob && sha256sum /dev/shm/blob >&2 && cat /dev/shm/blob'] },
    ]),
    { stateRoot: root, keepState: true },
  )
  t.equal(result.phase, 'Succeeded')
  const bytes = rebuild(join(pod.dir.root, 'logs', 'c', '0.log'), 'stdout')
  t.equal(bytes.length, 20_000_000)
  t.equal(createHash('sha256').update(bytes).digest('hex'), stderr('c')[0].split(' ')[0])
})
