// `pod-launch --version` run as users run it (bin/pod-launch: the bundle when built, else the modules),
// from a directory that holds another project's package.json.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../../../bin/pod-launch', import.meta.url))
const ours = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version

t.test("--version prints pod-launch's version, not that of the project in the working directory", t => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-version-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'someone-else', version: '9.9.9' }))
  const out = execFileSync(process.execPath, [BIN, '--version'], { cwd: dir, encoding: 'utf8' })
  t.equal(out.trim(), ours)
  t.end()
})

t.test('--version and --help into files write them directly: no stdout stream, so node:stream never loads', t => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-version-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // Written at exit: the builtin modules this process loaded (fd 3, neither stdout nor stderr).
  const preload = join(dir, 'modules.cjs')
  writeFileSync(preload, "process.on('exit', () => require('fs').writeSync(3, JSON.stringify(process.moduleLoadList)))\n")
  for (const args of [['--version'], ['--help']]) {
    const [out, err, mods] = ['out', 'err', 'mods'].map(n => join(dir, `${n}.txt`))
    const fds = [out, err, mods].map(f => openSync(f, 'w'))
    try {
      // Through env -u: tap's process tracking adds its loaders to the node processes a test starts.
      execFileSync('env', ['-u', 'NODE_OPTIONS', process.execPath, '-r', preload, BIN, ...args], { stdio: ['ignore', fds[0], fds[1], fds[2]] })
    } finally {
      fds.forEach(fd => closeSync(fd))
    }
    t.match(readFileSync(out, 'utf8'), args[0] === '--version' ? `${ours}\n` : /pod-launch run <manifest>/, `${args[0]}: printed`)
    t.equal(readFileSync(err, 'utf8'), '', `${args[0]}: nothing on stderr`)
    const loaded = JSON.parse(readFileSync(mods, 'utf8')) as string[]
    t.ok(loaded.includes('NativeModule fs'), `${args[0]}: the module list is read`)
    t.notOk(loaded.includes('NativeModule stream'), `${args[0]}: node:stream is not loaded`)
  }
  t.end()
})
