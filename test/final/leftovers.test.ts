// Runs after every other test: nothing of ours may remain on the host.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { pausePath } from '../../src/index.js'
import { TRACK_FILE } from '../helpers/pods.js'
import { processesInNamespace } from '../helpers/procs.js'
import { requires } from '../helpers/requires.js'

const skip = requires('root', 'built')

t.test('no process remains in any namespace a test pod made', { skip }, async t => {
  t.ok(existsSync(TRACK_FILE), `the integration tests recorded their pods in ${TRACK_FILE}`)
  const lines = readFileSync(TRACK_FILE, 'utf8')
    .trim()
    .split('\n')
    .map(l => JSON.parse(l) as { uid: string; pod?: string; uts: number; pid: number[]; end?: number })
  const ends = new Map(lines.filter(l => l.end !== undefined).map(l => [l.uid, l.end!]))
  const entries = lines.filter(l => l.pod !== undefined)
  t.ok(entries.length > 0, `${entries.length} pods recorded`)
  // A namespace inode may have been reused by a newer pod: count only processes born before this pod ended.
  const left = entries.flatMap(e => [
    ...(e.uts ? processesInNamespace('uts', e.uts, ends.get(e.uid)) : []).map(p => `${e.pod}: pid ${p} in uts:[${e.uts}]`),
    ...e.pid.flatMap(ns => processesInNamespace('pid', ns, ends.get(e.uid)).map(p => `${e.pod}: pid ${p} in pid:[${ns}]`)),
  ])
  t.same(left, [])
})

t.test('no pause process of ours is running', { skip }, async t => {
  const pause = pausePath()
  const running = readdirSync('/proc')
    .filter(n => /^\d+$/.test(n))
    .filter(n => {
      try {
        return readlinkSync(`/proc/${n}/exe`) === pause
      } catch {
        return false // gone, a zombie, or not readable: not running
      }
    })
  t.same(running, [])
})

t.test('no pod directory of a test pod remains under the state root', { skip }, async t => {
  const uids = [
    ...new Set(
      readFileSync(TRACK_FILE, 'utf8')
        .trim()
        .split('\n')
        .map(l => (JSON.parse(l) as { uid: string }).uid),
    ),
  ]
  const left = existsSync('/run/pod-launch') ? readdirSync('/run/pod-launch').filter(d => uids.includes(d)) : []
  t.same(left, [])
  const net = existsSync('/run/pod-launch/.cni') ? readdirSync('/run/pod-launch/.cni').filter(f => uids.includes(f.replace(/\.json$/, ''))) : []
  t.same(net, [], 'no CNI network record (a DEL that never ran) of a test pod')
})

t.test('no test ever created the default network (bridge pl0) nor left a test bridge', { skip }, async t => {
  const links = execFileSync('ip', ['-o', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map(l => l.split(': ')[1])
  // A pl0 the user's own pods made before the tests (scripts/test.sh looked) is theirs, not a leftover.
  const hadPl0 = process.env.POD_LAUNCH_TEST_HAD_PL0 === '1'
  t.same(
    links.filter(l => (l === 'pl0' && !hadPl0) || /^plt/.test(l)),
    [],
  )
})

t.test('no mount and no cgroup of ours remains', { skip }, async t => {
  // The checkout itself may be a mount whose path says pod-launch (the v2 VM shares it over 9p): not ours.
  const repo = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '')
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(l => /pod-launch/.test(l))
  t.same(
    mounts.filter(l => !(repo + '/').startsWith(l.split(' ')[4] + '/')),
    [],
    'no mount of ours',
  )
  const cgroupDirs = readdirSync('/sys/fs/cgroup')
    .map(d => `/sys/fs/cgroup/${d}/pod-launch`)
    .filter(existsSync)
  t.same(cgroupDirs, [])
})
