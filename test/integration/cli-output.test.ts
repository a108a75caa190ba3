// Every command that prints finishes its output before it exits, however slow
// the reader, and a reader that goes away (EPIPE) ends it quietly.
import t from 'tap'
import { execFile } from 'node:child_process'
import { requires } from '../helpers/requires.js'
import { BIN, cli } from '../helpers/cli.js'
import { manifest, uniqueName } from '../helpers/pods.js'
import { leftovers, newRoot, readPodRecord, until, writeManifest } from '../helpers/detached-pods.js'

const skip = requires('root', 'built')
const LINES = 20_000 // of 1000 bytes: 20 MB, far more than a pipe holds

/** `pod-launch --root ROOT ARGS | READER` in sh; resolves with the reader's output and the exit code of each side. */
function piped(root: string, args: string[], reader: string): Promise<{ out: string; err: string; codes: string }> {
  const quoted = [process.execPath, BIN, '--root', root, ...args].map(a => `'${a}'`).join(' ')
  const script = `${quoted} 2>"$ERRFILE" | ${reader}; echo "codes=\${PIPESTATUS[0]} \${PIPESTATUS[1]}" >&2; cat "$ERRFILE" >&2`
  return new Promise(resolve =>
    execFile('bash', ['-c', script], { env: { ...process.env, ERRFILE: `${root}/.err` }, maxBuffer: 1 << 24 }, (_e, stdout, stderr) => {
      const codes = /codes=(.*)/.exec(stderr)?.[1] ?? '?'
      resolve({ out: stdout, err: stderr.replace(/codes=.*\n/, ''), codes })
    }),
  )
}

t.test('logs to a slow pipe reader delivers every line; to `head -1` it ends quietly with 0', { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('pipe')
  const run = await cli(
    root,
    'run',
    '-d',
    writeManifest(t, manifest(name, [{ name: 'c', command: ['sh', '-c', `yes $(printf %01000d 1) | head -n ${LINES}`] }])),
  )
  t.equal(run.code, 0, run.stderr)
  const id = run.stdout.trim()
  await until('the pod to succeed', async () => JSON.parse((await cli(root, 'ps', '--json')).stdout)[0]?.phase === 'Succeeded', 120_000)

  const slow = await piped(root, ['logs', name], '(sleep 2; wc -l)')
  t.equal(slow.out.trim(), String(LINES), 'every line reached a reader that starts late')
  t.equal(slow.codes, '0 0')
  const head = await piped(root, ['logs', name], 'head -1')
  t.equal(head.out, `${'0'.repeat(999)}1\n`)
  t.equal(head.codes, '0 0', 'EPIPE ends logs with 0')
  t.equal(head.err, '', 'and prints nothing')
  const ps = await piped(root, ['inspect', name], '(sleep 1; wc -c)')
  t.ok(Number(ps.out.trim()) > 1000, 'inspect output complete too')

  const r = readPodRecord(root, id)
  const rm = await cli(root, 'rm', name)
  t.equal(rm.code, 0, rm.stderr)
  t.same(leftovers(root, r), [], 'nothing of the pod remains')
})
