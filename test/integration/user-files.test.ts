// Files a manifest names are read only when regular, with a size cap, and
// their content never appears in an error: /dev/zero cannot hang explain or
// run, and a profile of /etc/shadow does not print the file's first bytes.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requires } from '../helpers/requires.js'
import { cli } from '../helpers/cli.js'
import { manifest, uniqueName } from '../helpers/pods.js'
import { engineExited, newRoot, writeManifest } from '../helpers/detached-pods.js'

const skip = requires('root', 'built')

/**
 * What the state root holds besides its lock file and the root's engine's own files (`.engine/`:
 * its lock, socket and log, kept for the next engine; a refused `run -d` reaches the engine, which
 * exits once nothing is left to drive).
 */
const created = (root: string) =>
  readdirSync(root, { recursive: true, encoding: 'utf8' }).filter(f => f !== '.lock' && f !== '.engine' && !f.startsWith('.engine/'))

const withProfile = (name: string, profile: string) =>
  manifest(name, [{ name: 'c', command: ['true'], securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: profile } } } as never])

for (const kind of ['/dev/zero', 'a FIFO'] as const) {
  t.test(`a Localhost profile that is ${kind} is refused at once by explain and run, creating nothing`, { skip }, async t => {
    const root = newRoot(t)
    let profile = '/dev/zero'
    if (kind === 'a FIFO') {
      const dir = mkdtempSync(join(tmpdir(), 'pl-fifo-'))
      t.teardown(() => rmSync(dir, { recursive: true, force: true }))
      profile = join(dir, 'fifo')
      execFileSync('mkfifo', [profile])
    }
    const file = writeManifest(t, withProfile(uniqueName('zero'), profile))
    const explain = await cli(root, 'explain', file)
    t.match(explain.stdout, 'localhostProfile: ', explain.stderr)
    t.match(explain.stdout, `${profile}: not a regular file`)
    for (const args of [
      ['run', file],
      ['run', '-d', file],
    ]) {
      const run = await cli(root, ...args)
      t.equal(run.code, args.includes('-d') ? 1 : 2, `${args.join(' ')}`)
      t.match(run.stderr, /^pod-launch: seccomp\.profile: spec\.containers\[0\]\.securityContext\.seccompProfile\.localhostProfile: .*: not a regular file\n/)
    }
    t.ok(await engineExited(root), 'the engine the refused run -d reached has exited')
    t.same(created(root), [], 'nothing was created under the state root')
  })
}

t.test('a Localhost profile of /etc/shadow fails to parse without quoting the file', { skip }, async t => {
  const root = newRoot(t)
  const file = writeManifest(t, withProfile(uniqueName('shadow'), '/etc/shadow'))
  const head = readFileSync('/etc/shadow', 'utf8').slice(0, 6)
  const run = await cli(root, 'run', file)
  t.equal(run.code, 2)
  t.match(run.stderr, 'localhostProfile: /etc/shadow: (json): not valid JSON')
  t.notMatch(run.stderr, head, 'no byte of the file is printed')
  const explain = await cli(root, 'explain', file)
  t.notMatch(explain.stdout + explain.stderr, head)
  t.same(created(root), [], 'nothing was created under the state root')
})

t.test('a manifest of /dev/zero is refused by its size, and /dev/stdin still works', { skip }, async t => {
  const root = newRoot(t)
  const zero = await cli(root, 'explain', '/dev/zero')
  t.equal(zero.code, 2)
  t.match(zero.stderr, /^pod-launch: spec\.read: \/dev\/zero: larger than \d+ bytes/)
  const file = writeManifest(t, manifest(uniqueName('stdin'), [{ name: 'c', command: ['true'] }]))
  const viaStdin = execFileSync(
    'sh',
    ['-c', `"$0" "$1" --root "$2" explain /dev/stdin < "$3"`, process.execPath, join(import.meta.dirname, '../../bin/pod-launch'), root, file],
    { encoding: 'utf8' },
  )
  t.match(viaStdin, 'nothing is created')
  t.same(created(root), [])
})
