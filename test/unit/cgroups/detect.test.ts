import t from 'tap'
import { join } from 'node:path'
import { detectCgroups, parseMountinfo, type CgroupFs } from '../../../src/cgroups/index.js'
import { PodError } from '../../../src/errors.js'
import { FakeCgroupFs } from '../../helpers/fake-cgroupfs.js'

t.test('v2: cgroup2 at the root; usable controllers from its cgroup.controllers', async t => {
  const root = join(t.testdir(), 'cg')
  const fs = new FakeCgroupFs(root, 'v2', { hugetlb: true })
  t.same(detectCgroups(root, fs), {
    mode: 'v2',
    root,
    hierarchies: [{ version: 2, path: root, controllers: ['cpu', 'hugetlb', 'memory', 'pids'] }],
    controllers: ['cpu', 'hugetlb', 'memory', 'pids'],
    unified: root,
  })
})

t.test('hybrid: v1 controllers from mountinfo plus the cgroup2 mount for membership', async t => {
  const root = join(t.testdir(), 'cg')
  const fs = new FakeCgroupFs(root, 'hybrid')
  const host = detectCgroups(root, fs)
  t.equal(host.mode, 'hybrid')
  t.same(
    host.hierarchies,
    [
      { version: 1, path: join(root, 'cpu'), controllers: ['cpu'] },
      { version: 1, path: join(root, 'cpuacct'), controllers: ['cpuacct'] },
      { version: 1, path: join(root, 'memory'), controllers: ['memory'] },
      { version: 1, path: join(root, 'pids'), controllers: ['pids'] },
      { version: 1, path: join(root, 'freezer'), controllers: ['freezer'] },
      { version: 2, path: join(root, 'unified'), controllers: [] },
    ],
    'name=systemd is not used; unified has no controllers',
  )
  t.same(host.controllers, ['cpu', 'cpuacct', 'freezer', 'memory', 'pids'])
  t.equal(host.unified, join(root, 'unified'))
  t.same(detectCgroups(root + '/', fs), host, 'a trailing slash on the root changes nothing')
})

t.test('v1: cpu and cpuacct co-mounted are one hierarchy; hugetlb when mounted', async t => {
  const root = join(t.testdir(), 'cg')
  const fs = new FakeCgroupFs(root, 'v1', { coMountCpu: true, hugetlb: true })
  const host = detectCgroups(root, fs)
  t.equal(host.mode, 'v1')
  t.equal(host.unified, undefined)
  t.same(
    host.hierarchies.map(h => [h.path, h.controllers]),
    [
      [join(root, 'cpu,cpuacct'), ['cpu', 'cpuacct']],
      [join(root, 'memory'), ['memory']],
      [join(root, 'pids'), ['pids']],
      [join(root, 'freezer'), ['freezer']],
      [join(root, 'hugetlb'), ['hugetlb']],
    ],
  )
})

t.test('mount points are unescaped and bind mounts of a sub-cgroup are ignored', async t => {
  const text = [
    '40 30 0:40 / /sys/fs/cgroup/cpu\\054cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
    '41 30 0:40 /kubepods /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
  ].join('\n')
  const mounts = parseMountinfo(text)
  t.same(mounts[0], { root: '/', point: '/sys/fs/cgroup/cpu,cpuacct', fstype: 'cgroup', superOptions: ['rw', 'cpu', 'cpuacct'] })
  const fs = { statfsType: () => 0x01021994, mountinfo: () => text } as unknown as CgroupFs
  const host = detectCgroups('/sys/fs/cgroup', fs)
  t.same(
    host.hierarchies.map(h => h.path),
    ['/sys/fs/cgroup/cpu,cpuacct'],
    'the memory mount of /kubepods is not a whole hierarchy',
  )
})

t.test('nothing mounted: cgroup.detect names the root, with a hint', async t => {
  const fs = { statfsType: () => 0x01021994, mountinfo: () => '' } as unknown as CgroupFs
  t.throws(() => detectCgroups('/x/cgroup', fs), {
    message: 'cgroup.detect: /x/cgroup: no cgroup2 and no cgroup v1 controller is mounted here',
    step: 'cgroup.detect',
    hint: 'mount cgroup2 at /sys/fs/cgroup (or the v1 controllers under it); see /proc/self/mountinfo',
  })
  const missing = join(t.testdir(), 'nope')
  const err = t.throws(() => detectCgroups(missing, new FakeCgroupFs(join(t.testdir(), 'cg'), 'v1'))) as unknown as PodError
  t.equal(err.message, `cgroup.detect: ${missing}: no such file or directory (ENOENT)`)
})
