// The container's /dev in the mount plan: always its own tmpfs, so nothing
// the plan makes there (the termination-log mountpoint) lands in the host's
// /dev; privileged adds the host's devices by bind, never the host /dev itself.
import t from 'tap'
import { readdirSync } from 'node:fs'
import { rootfsMounts, type RootfsInputs } from '../../../src/rootfs/index.js'

const inputs = (privileged: boolean): RootfsInputs => ({
  root: '/R',
  source: { kind: 'host' },
  shmDir: '/pod/shm',
  ownIpc: true,
  etc: { hosts: '/pod/etc/hosts', hostname: '/pod/etc/hostname', resolvConf: '/pod/etc/resolv.conf' },
  terminationLog: { source: '/pod/containers/c.termination-log', target: '/dev/termination-log' },
  volumes: { mounts: [], sources: new Map() },
  workingDir: '/',
  readOnlyRoot: false,
  privileged,
})

for (const privileged of [false, true]) {
  t.test(`${privileged ? 'privileged' : 'default'}: /dev is a tmpfs made before the termination-log file, the pod's shm and a new devpts`, async t => {
    const m = rootfsMounts(inputs(privileged))
    const tmpfs = m.findIndex(x => x.target === '/R/dev' && x.fstype === 'tmpfs')
    const file = m.findIndex(x => x.kind === 'file' && x.target === '/R/dev/termination-log')
    t.ok(tmpfs >= 0 && file > tmpfs, 'tmpfs first, then the mountpoint inside it')
    t.notOk(
      m.some(x => x.source === '/dev' && x.target === '/R/dev'),
      "never the host's /dev itself",
    )
    t.ok(m.some(x => x.source === '/pod/shm' && x.target === '/R/dev/shm'))
    t.ok(m.some(x => x.fstype === 'devpts' && x.target === '/R/dev/pts'))
  })
}

t.test('privileged binds every host device node; default only the safe few', async t => {
  const bound = (privileged: boolean) =>
    rootfsMounts(inputs(privileged))
      .filter(x => x.source?.startsWith('/dev/') && x.target.startsWith('/R/dev/'))
      .map(x => x.source)
  t.same(bound(false).sort(), ['/dev/full', '/dev/null', '/dev/random', '/dev/tty', '/dev/urandom', '/dev/zero'])
  const host = readdirSync('/dev', { withFileTypes: true })
    .filter(e => e.isCharacterDevice() && e.name !== 'ptmx')
    .map(e => `/dev/${e.name}`)
  t.same(
    bound(true)
      .filter(s => host.includes(s!))
      .sort(),
    host.sort(),
  )
})
