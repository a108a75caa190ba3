import t from 'tap'
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PodDir } from '../../../src/pod/poddir.js'
import { terminationLogFile } from '../../../src/state/index.js'

t.test('remove: the whole pod directory, every kind of entry, and nothing outside it', async t => {
  const state = t.testdir({ outside: 'keep' })
  const dir = new PodDir(state, 'uid-1')
  dir.create()
  dir.rootfs()
  for (const c of ['a', 'b', 'c']) {
    dir.terminationLog(terminationLogFile(dir.root, c))
    writeFileSync(dir.logFile(c, 0), 'line\n')
    writeFileSync(dir.logFile(c, 1), '')
  }
  mkdirSync(join(dir.root, 'etc'))
  writeFileSync(join(dir.root, 'etc', 'hosts'), '127.0.0.1 localhost\n')
  symlinkSync(join(state, 'outside'), join(dir.root, 'link-out'))
  symlinkSync('/nowhere', join(dir.root, 'dangling'))
  mkdirSync(join(dir.root, 'deep', 'er', 'est'), { recursive: true })
  writeFileSync(join(dir.root, 'deep', 'er', 'est', 'file'), 'x')
  await dir.remove()
  t.notOk(existsSync(dir.root), 'gone')
  t.same(readdirSync(state), ['outside'], 'a symlink is removed, never followed')
  await dir.remove()
  t.pass('removing it again is fine (ENOENT)')
})

t.test('remove of a pod directory that was never made is fine', async t => {
  const dir = new PodDir(t.testdir(), 'never')
  await dir.remove()
  t.pass()
})
