// bin/pod-launch's code caches: a command that loaded a file with the build's cache (<file>.cache) leaves a
// warm one (<file>.warm.cache: also the functions it compiled) as it exits; later commands read it and leave
// it as it is; one this Node rejects is made again. Run on a copy of bin/ and the bundle (the checkout's own
// dist/cli is left alone).
import t from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const skip = existsSync(join(ROOT, 'dist', 'cli', 'pod-launch.cjs')) ? false : 'no bundle (npm run build)'

t.test('the first command leaves a warm cache, later ones read it, a rejected one is made again', { skip }, t => {
  const copy = mkdtempSync(join(tmpdir(), 'pl-cache-'))
  t.teardown(() => rmSync(copy, { recursive: true, force: true }))
  cpSync(join(ROOT, 'bin'), join(copy, 'bin'), { recursive: true })
  cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'))
  mkdirSync(join(copy, 'dist', 'cli'), { recursive: true })
  for (const f of ['pod-launch.cjs', 'pod-launch.cjs.cache', 'pod-launch'])
    cpSync(join(ROOT, 'dist', 'cli', f), join(copy, 'dist', 'cli', f), { recursive: true })
  rmSync(join(copy, 'dist', 'cli', 'pod-launch.cjs.warm.cache'), { force: true })
  // Without tap's loaders in the child (its process tracking adds them to the node processes a test starts).
  const version = () => execFileSync('env', ['-u', 'NODE_OPTIONS', process.execPath, join(copy, 'bin', 'pod-launch'), '--version'], { encoding: 'utf8' })
  const warm = join(copy, 'dist', 'cli', 'pod-launch.cjs.warm.cache')
  const ours = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version

  t.equal(version().trim(), ours, 'the first command runs')
  t.ok(existsSync(warm), 'and leaves a warm cache')
  const made = statSync(warm)
  t.ok(made.size > 0, 'not empty')
  t.equal(version().trim(), ours, 'the second command runs')
  t.equal(statSync(warm).mtimeMs, made.mtimeMs, 'from the warm cache, which it leaves as it is')
  writeFileSync(warm, 'not a code cache')
  t.equal(version().trim(), ours, 'a command with a cache this Node rejects runs')
  t.not(readFileSync(warm, 'latin1'), 'not a code cache', 'and makes the warm cache again')
  t.end()
})

// V8 takes a code cache made from any source of the same length and runs the cached code: a command that
// loaded a chunk before a build replaced it must not leave its warm cache beside the new one.
t.test('a command leaves no warm cache of a file replaced while it ran', async t => {
  const copy = mkdtempSync(join(tmpdir(), 'pl-cache-'))
  t.teardown(() => rmSync(copy, { recursive: true, force: true }))
  cpSync(join(ROOT, 'bin'), join(copy, 'bin'), { recursive: true })
  const cli = join(copy, 'dist', 'cli')
  mkdirSync(join(cli, 'pod-launch'), { recursive: true })
  // A bundle of bin/pod-launch's shape: the entry prints what its chunk exports, then runs until stdin ends.
  writeFileSync(
    join(cli, 'pod-launch.cjs'),
    `({\n"pod-launch.cjs": (function (exports, require) {\nexports.cli = () => {\n` +
      `process.stdout.write(require('./chunk.cjs').value + '\\n')\nprocess.stdin.resume()\n}\n}),\n})\n`,
  )
  const chunk = join(cli, 'pod-launch', 'chunk.cjs')
  const warm = `${chunk}.warm.cache`
  writeFileSync(chunk, '(function (exports) {\nexports.value = 1111\n})\n')
  const command = ['-u', 'NODE_OPTIONS', process.execPath, join(copy, 'bin', 'pod-launch')]

  const running = spawn('env', command, { stdio: ['pipe', 'pipe', 'inherit'] })
  const [first] = (await once(running.stdout, 'data')) as [Buffer]
  t.equal(first.toString(), '1111\n', 'the running command loaded the chunk')
  // As the build does: the file removed and written again (here with the same length), its caches removed.
  rmSync(chunk)
  rmSync(warm, { force: true })
  writeFileSync(chunk, '(function (exports) {\nexports.value = 2222\n})\n')
  running.stdin.end()
  const [code] = (await once(running, 'exit')) as [number | null]
  t.equal(code, 0, 'the running command exits')
  t.notOk(existsSync(warm), 'and leaves no warm cache of the chunk it loaded')
  t.equal(execFileSync('env', command, { input: '', encoding: 'utf8' }), '2222\n', 'the next command runs the new chunk')
  t.ok(existsSync(warm), 'and leaves the warm cache of the new chunk')
})
