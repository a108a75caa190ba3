// The mount plan's last and first steps: masked and read-only paths after
// pivot_root (in the container's own view, as runc applies them), from the
// request or runc's defaults; and the propagation of volumes (CRI
// Mount.propagation): the namespace stays private unless a volume asks, and
// then every bind mount gets its propagation right after it is made.
import t from 'tap'
import { MASKED_PATHS, READONLY_PATHS, rootfsMounts, type RootfsInputs } from '../../../src/rootfs/index.js'
import { hostMountOf, realPath, withPropagation } from '../../../src/rootfs/propagation.js'
import { native } from '../../../src/spawn/index.js'
import type { VolumeMount } from '../../../src/spec/index.js'

const f = native().mountFlags

const inputs = (over: Partial<RootfsInputs> = {}): RootfsInputs => ({
  root: '/R',
  source: { kind: 'host' },
  shmDir: '/pod/shm',
  ownIpc: true,
  etc: { hosts: '/pod/etc/hosts', hostname: '/pod/etc/hostname', resolvConf: '/pod/etc/resolv.conf' },
  volumes: { mounts: [], sources: new Map() },
  workingDir: '/',
  readOnlyRoot: false,
  ...over,
})

const afterPivot = (i: RootfsInputs) => {
  const m = rootfsMounts(i)
  return m.slice(m.findIndex(x => x.kind === 'pivot') + 1)
}

t.test("runc's masked and read-only paths by default, after pivot_root, in the container's paths", async t => {
  const after = afterPivot(inputs())
  t.same(
    after.filter(x => x.kind === 'mask').map(x => x.target),
    MASKED_PATHS,
  )
  t.same([...new Set(after.filter(x => x.flags! & f.MS_BIND).map(x => x.target))], READONLY_PATHS)
  t.ok(
    after.filter(x => x.flags! & f.MS_REMOUNT).every(x => x.flags! & f.MS_RDONLY),
    'read-only paths are remounted read-only',
  )
  t.notOk(
    rootfsMounts(inputs()).some(x => x.kind === 'mask' && x.target.startsWith('/R')),
    'nothing masked through the staging root (a symlink there would resolve on the host)',
  )
})

t.test('the lists of the request replace the defaults; empty lists mask nothing; privileged masks nothing', async t => {
  const asked = afterPivot(inputs({ maskedPaths: ['/bin/ls'], readonlyPaths: ['/tmp'] }))
  t.same(
    asked.filter(x => x.kind === 'mask').map(x => x.target),
    ['/bin/ls'],
  )
  t.same(
    asked.filter(x => x.kind !== 'mask').map(x => x.target),
    ['/tmp', '/tmp'],
  )
  t.same(afterPivot(inputs({ maskedPaths: [], readonlyPaths: [] })), [])
  t.same(afterPivot(inputs({ privileged: true })), [])
})

t.test('without a propagating volume the whole namespace is made private first', async t => {
  const m = rootfsMounts(inputs())
  t.same(m[0], { target: '/', flags: f.MS_REC | f.MS_PRIVATE })
  t.notOk(
    m.slice(1).some(x => x.flags! & (f.MS_SHARED | f.MS_SLAVE)),
    'no other propagation step',
  )
})

t.test('a propagating volume: the root host mount private, then each bind its propagation', async t => {
  const mounts: VolumeMount[] = [
    { name: 'a', mountPath: '/a', readOnly: false, propagation: 'Bidirectional' },
    { name: 'b', mountPath: '/b', readOnly: false, propagation: 'HostToContainer' },
    { name: 'c', mountPath: '/c', readOnly: true },
  ]
  const m = rootfsMounts(
    inputs({
      volumes: {
        mounts,
        sources: new Map([
          ['a', '/ha'],
          ['b', '/hb'],
          ['c', '/hc'],
        ]),
      },
    }),
  )
  t.same(m[0], { target: hostMountOf(realPath('/R')).mountPoint, flags: f.MS_PRIVATE }, 'not recursive: the host mounts of the sources stay shared')
  const after = (target: string) => m[m.findIndex(x => x.target === target && x.flags! & f.MS_BIND && !(x.flags! & f.MS_REMOUNT)) + 1]
  t.same(after('/R/a'), { target: '/R/a', flags: f.MS_REC | f.MS_SHARED })
  t.same(after('/R/b'), { target: '/R/b', flags: f.MS_REC | f.MS_SLAVE })
  t.same(after('/R/c'), { target: '/R/c', flags: f.MS_REC | f.MS_PRIVATE })
  t.same(after('/R/etc/hosts'), { target: '/R/etc/hosts', flags: f.MS_REC | f.MS_PRIVATE }, 'every other bind is private')
  t.same(after('/R/dev/shm'), { target: '/R/dev/shm', flags: f.MS_REC | f.MS_PRIVATE })
})

t.test('withPropagation leaves non-bind steps alone and makes binds private by default', async t => {
  const steps = withPropagation(
    f,
    [
      { source: 'proc', target: '/R/proc', fstype: 'proc' },
      { source: '/x', target: '/R/x', flags: f.MS_BIND },
      { target: '/R/x', flags: f.MS_BIND | f.MS_REMOUNT | f.MS_RDONLY },
    ],
    '/R',
    new Map(),
  )
  t.same(
    steps.slice(1).map(x => [x.target, x.flags ?? 0]),
    [
      ['/R/proc', 0],
      ['/R/x', f.MS_BIND],
      ['/R/x', f.MS_REC | f.MS_PRIVATE],
      ['/R/x', f.MS_BIND | f.MS_REMOUNT | f.MS_RDONLY],
    ],
  )
})

t.test('hostMountOf finds the topmost mount holding a path, and its propagation', async t => {
  const info = [
    '21 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '22 21 0:20 / /tmp rw shared:5 - tmpfs tmpfs rw',
    '23 22 0:21 / /tmp/a\\040b rw master:5 - tmpfs tmpfs rw',
    '24 22 0:22 / /tmp/p rw - tmpfs tmpfs rw',
    '25 24 0:23 / /tmp/p rw shared:9 - tmpfs tmpfs rw',
  ].join('\n')
  t.same(hostMountOf('/usr/bin', info), { mountPoint: '/', shared: true, slave: false })
  t.same(hostMountOf('/tmp/x', info), { mountPoint: '/tmp', shared: true, slave: false })
  t.same(hostMountOf('/tmp/a b/c', info), { mountPoint: '/tmp/a b', shared: false, slave: true })
  t.same(hostMountOf('/tmp/ab', info), { mountPoint: '/tmp', shared: true, slave: false }, 'a prefix of a name is no parent')
  t.same(hostMountOf('/tmp/p/q', info), { mountPoint: '/tmp/p', shared: true, slave: false }, 'the later of two at one mount point is on top')
})
