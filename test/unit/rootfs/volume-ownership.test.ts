// kubelet's SetVolumeOwnership for an fsGroup, on a temp tree (our own gid: no root needed).
import t from 'tap'
import { lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setVolumeOwnership } from '../../../src/rootfs/volumes.js'

const gid = process.getgid!()
const mode = (p: string) => (statSync(p).mode & 0o7777).toString(8)

function tree(t: { teardown: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'pl-owner-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'sub'), { mode: 0o700 })
  writeFileSync(join(dir, 'sub', 'f'), 'x', { mode: 0o600 })
  symlinkSync('sub', join(dir, 'link'))
  return dir
}

t.test('read-only (downwardAPI): directories set-gid and group-searchable, files group-readable, links untouched', async t => {
  const dir = tree(t)
  setVolumeOwnership(join(dir, 'sub'), gid, true)
  t.equal(mode(join(dir, 'sub')), '2750')
  t.equal(mode(join(dir, 'sub', 'f')), '640')
  t.equal(statSync(join(dir, 'sub', 'f')).gid, gid)
  t.ok(lstatSync(join(dir, 'link')).isSymbolicLink())
})

t.test('read-write (emptyDir): group-writable too; no fsGroup changes nothing', async t => {
  const dir = tree(t)
  setVolumeOwnership(join(dir, 'sub'), undefined, false)
  t.equal(mode(join(dir, 'sub')), '700')
  setVolumeOwnership(join(dir, 'sub'), gid, false)
  t.equal(mode(join(dir, 'sub')), '2770')
  t.equal(mode(join(dir, 'sub', 'f')), '660')
})
