import t from 'tap'
import { join } from 'node:path'
import { createPodCgroups, detectCgroups, formatPlan, planPodCgroups } from '../../../src/cgroups/index.js'
import type { PodResources, Resources } from '../../../src/spec/resources.js'
import { FakeCgroupFs, type FakeMode, type FakeOptions } from '../../helpers/fake-cgroupfs.js'

const Mi = 2 ** 20
function res(cpuMilli?: number, memoryBytes?: number, requestCpu = cpuMilli): Resources {
  return { limits: { cpuMilli, memoryBytes, hugepages: {} }, requests: { cpuMilli: requestCpu, memoryBytes, hugepages: {} } }
}

const webPod: PodResources = {
  uid: 'abc',
  name: 'web',
  initContainers: [{ name: 'init', resources: res(1000, 64 * Mi) }],
  containers: [
    { name: 'app', resources: res(500, 512 * Mi) },
    { name: 'side', resources: res(200, 128 * Mi, 100) },
  ],
}

function setup(t: { testdir: () => string }, mode: FakeMode, opts: FakeOptions = { swap: true }) {
  const root = join(t.testdir(), 'cg')
  const fs = new FakeCgroupFs(root, mode, opts)
  return { root, fs, host: detectCgroups(root, fs) }
}

t.test('hybrid host: exact bytes written to every file, pod first, in plan order', async t => {
  const { fs, host } = setup(t, 'hybrid')
  createPodCgroups(planPodCgroups(webPod, host, { pidsLimit: 128 }), fs)
  t.same(fs.writes, [
    ['cpu/pod-launch/pod-abc/cpu.shares', '1024'], // requests 500m + 100m = 600m; init 1000m wins
    ['cpu/pod-launch/pod-abc/cpu.cfs_period_us', '100000'],
    ['cpu/pod-launch/pod-abc/cpu.cfs_quota_us', '100000'],
    ['memory/pod-launch/pod-abc/memory.limit_in_bytes', '671088640'], // 512Mi + 128Mi
    ['pids/pod-launch/pod-abc/pids.max', '128'],
    ['cpu/pod-launch/pod-abc/init/cpu.shares', '1024'],
    ['cpu/pod-launch/pod-abc/init/cpu.cfs_period_us', '100000'],
    ['cpu/pod-launch/pod-abc/init/cpu.cfs_quota_us', '100000'],
    ['memory/pod-launch/pod-abc/init/memory.limit_in_bytes', '67108864'],
    ['memory/pod-launch/pod-abc/init/memory.memsw.limit_in_bytes', '67108864'],
    ['cpu/pod-launch/pod-abc/app/cpu.shares', '512'],
    ['cpu/pod-launch/pod-abc/app/cpu.cfs_period_us', '100000'],
    ['cpu/pod-launch/pod-abc/app/cpu.cfs_quota_us', '50000'],
    ['memory/pod-launch/pod-abc/app/memory.limit_in_bytes', '536870912'],
    ['memory/pod-launch/pod-abc/app/memory.memsw.limit_in_bytes', '536870912'],
    ['cpu/pod-launch/pod-abc/side/cpu.shares', '102'],
    ['cpu/pod-launch/pod-abc/side/cpu.cfs_period_us', '100000'],
    ['cpu/pod-launch/pod-abc/side/cpu.cfs_quota_us', '20000'],
    ['memory/pod-launch/pod-abc/side/memory.limit_in_bytes', '134217728'],
    ['memory/pod-launch/pod-abc/side/memory.memsw.limit_in_bytes', '134217728'],
  ])
  t.equal(fs.read('memory/pod-launch/pod-abc/app/memory.limit_in_bytes'), '536870912', 'the file holds exactly the bytes written')
  t.equal(fs.read('cpu/pod-launch/pod-abc/pause/cpu.shares'), '1024\n', 'pause gets no writes')
  for (const h of ['cpu', 'cpuacct', 'memory', 'pids', 'freezer', 'unified']) {
    for (const d of ['', '/pause', '/init', '/app', '/side']) t.ok(fs.exists(join(fs.root, h, 'pod-launch/pod-abc' + d)), `${h}/pod-launch/pod-abc${d}`)
  }
  t.notOk(fs.exists(join(fs.root, 'systemd/pod-launch')), 'name=systemd is left alone')
})

t.test('v1 without swap accounting: memsw writes are skipped, not failed', async t => {
  const { fs, host } = setup(t, 'v1', { coMountCpu: true })
  createPodCgroups(planPodCgroups({ ...webPod, initContainers: [] }, host), fs)
  t.notOk(fs.writes.some(([f]) => f.includes('memsw')))
  t.ok(fs.writes.some(([f, v]) => f === 'cpu,cpuacct/pod-launch/pod-abc/app/cpu.cfs_quota_us' && v === '50000'))
})

t.test('v2 host: controllers enabled top-down, limits in the pod and container leaves', async t => {
  const { fs, host } = setup(t, 'v2')
  const plan = planPodCgroups({ ...webPod, initContainers: [] }, host, { pidsLimit: 32 })
  createPodCgroups(plan, fs)
  t.same(fs.writes, [
    ['cgroup.subtree_control', '+cpu +memory +pids'],
    ['pod-launch/cgroup.subtree_control', '+cpu +memory +pids'],
    ['pod-launch/pod-abc/cgroup.subtree_control', '+cpu +memory +pids'],
    ['pod-launch/pod-abc/cpu.weight', '24'], // shares 614 (600m)
    ['pod-launch/pod-abc/cpu.max', '70000 100000'],
    ['pod-launch/pod-abc/memory.max', '671088640'],
    ['pod-launch/pod-abc/pids.max', '32'],
    ['pod-launch/pod-abc/app/cpu.weight', '20'],
    ['pod-launch/pod-abc/app/cpu.max', '50000 100000'],
    ['pod-launch/pod-abc/app/memory.max', '536870912'],
    ['pod-launch/pod-abc/app/memory.swap.max', '0'],
    ['pod-launch/pod-abc/app/memory.oom.group', '1'],
    ['pod-launch/pod-abc/side/cpu.weight', '4'],
    ['pod-launch/pod-abc/side/cpu.max', '20000 100000'],
    ['pod-launch/pod-abc/side/memory.max', '134217728'],
    ['pod-launch/pod-abc/side/memory.swap.max', '0'],
    ['pod-launch/pod-abc/side/memory.oom.group', '1'],
  ])
  t.equal(fs.read('pod-launch/pod-abc/side/cpu.max'), '20000 100000')
  t.same(plan.enable, ['cpu', 'memory', 'pids'])
  t.equal(fs.read('pod-launch/pod-abc/pause/cgroup.subtree_control'), '', 'leaves enable nothing: processes live only there')
})

t.test('hugepages: hugetlb files named as the kernel does, v1 and v2', async t => {
  const hp: PodResources = {
    uid: 'hp',
    name: 'hp',
    initContainers: [],
    containers: [
      { name: 'db', resources: { limits: { hugepages: { '2Mi': 8 * Mi, '1Gi': 1024 * Mi } }, requests: { hugepages: { '2Mi': 8 * Mi, '1Gi': 1024 * Mi } } } },
    ],
  }
  const v1 = setup(t, 'v1', { hugetlb: true })
  createPodCgroups(planPodCgroups(hp, v1.host), v1.fs)
  t.same(
    v1.fs.writes.filter(([f]) => f.startsWith('hugetlb/')),
    [
      ['hugetlb/pod-launch/pod-hp/hugetlb.2MB.limit_in_bytes', '8388608'],
      ['hugetlb/pod-launch/pod-hp/hugetlb.1GB.limit_in_bytes', '1073741824'],
      ['hugetlb/pod-launch/pod-hp/db/hugetlb.2MB.limit_in_bytes', '8388608'],
      ['hugetlb/pod-launch/pod-hp/db/hugetlb.1GB.limit_in_bytes', '1073741824'],
    ],
  )
  const v2 = setup(t, 'v2', { hugetlb: true })
  createPodCgroups(planPodCgroups(hp, v2.host), v2.fs)
  t.same(
    v2.fs.writes.filter(([f]) => f.includes('hugetlb') || f.endsWith('subtree_control')),
    [
      ['cgroup.subtree_control', '+cpu +hugetlb +memory +pids'],
      ['pod-launch/cgroup.subtree_control', '+cpu +hugetlb +memory +pids'],
      ['pod-launch/pod-hp/cgroup.subtree_control', '+cpu +hugetlb +memory +pids'],
      ['pod-launch/pod-hp/hugetlb.2MB.max', '8388608'],
      ['pod-launch/pod-hp/hugetlb.1GB.max', '1073741824'],
      ['pod-launch/pod-hp/db/hugetlb.2MB.max', '8388608'],
      ['pod-launch/pod-hp/db/hugetlb.1GB.max', '1073741824'],
    ],
  )
})

t.test('a parent option places the pod elsewhere', async t => {
  const { fs, host } = setup(t, 'v2')
  const plan = planPodCgroups({ uid: 'p1', name: 'x', initContainers: [], containers: [{ name: 'c', resources: res() }] }, host, { parent: '/ci/jobs/' })
  createPodCgroups(plan, fs)
  t.equal(plan.pod.rel, 'ci/jobs/pod-p1')
  t.same(
    fs.writes.slice(0, 4).map(w => w[0]),
    ['cgroup.subtree_control', 'ci/cgroup.subtree_control', 'ci/jobs/cgroup.subtree_control', 'ci/jobs/pod-p1/cgroup.subtree_control'],
  )
})

t.test('the printed plan shows every mkdir and write with its Kubernetes field', async t => {
  const { host } = setup(t, 'v2')
  const lines = formatPlan(planPodCgroups({ uid: 'z', name: 'z', initContainers: [], containers: [{ name: 'c', resources: res(250, 64 * Mi) }] }, host))
  t.same(
    lines.map(l => l.replace(host.root, '<root>')),
    [
      'write <root>/cgroup.subtree_control = "+cpu +memory +pids"  # enable controllers top-down',
      'mkdir <root>/pod-launch',
      'write <root>/pod-launch/cgroup.subtree_control = "+cpu +memory +pids"  # enable controllers top-down',
      'mkdir <root>/pod-launch/pod-z',
      'write <root>/pod-launch/pod-z/cgroup.subtree_control = "+cpu +memory +pids"  # enable controllers top-down',
      'mkdir <root>/pod-launch/pod-z/pause',
      'mkdir <root>/pod-launch/pod-z/c',
      'write <root>/pod-launch/pod-z/cpu.weight = "10"  # pod requests.cpu 250m (shares 256)',
      'write <root>/pod-launch/pod-z/cpu.max = "25000 100000"  # pod limits.cpu 250m',
      'write <root>/pod-launch/pod-z/memory.max = "67108864"  # pod limits.memory 64Mi',
      'write <root>/pod-launch/pod-z/c/cpu.weight = "10"  # requests.cpu 250m (shares 256)',
      'write <root>/pod-launch/pod-z/c/cpu.max = "25000 100000"  # limits.cpu 250m',
      'write <root>/pod-launch/pod-z/c/memory.max = "67108864"  # limits.memory 64Mi',
      'write <root>/pod-launch/pod-z/c/memory.swap.max = "0"  # limits.memory 64Mi (swap off) (if the file exists)',
      'write <root>/pod-launch/pod-z/c/memory.oom.group = "1"  # kubelet default on cgroup v2 (singleProcessOOMKill false) (if the file exists)',
    ],
  )
})
