import t from 'tap'
import { containerWrites, hugepageSizeName, milliCpuToQuota, milliCpuToShares, podTotals, podWrites, sharesToWeight } from '../../../src/cgroups/index.js'
import { parseQuantity, quantityMilli, quantityValue } from '../../../src/spec/quantity.js'
import type { PodResources, Resources } from '../../../src/spec/resources.js'

const cpu = (s: string) => quantityMilli(parseQuantity(s)!)
const bytes = (s: string) => quantityValue(parseQuantity(s)!)

/** Resources as the spec layer gives them: requests default to limits. */
function res(limits: { cpu?: string; memory?: string; hugepages?: Record<string, string> } = {}, requests: { cpu?: string; memory?: string } = {}): Resources {
  const hp = Object.fromEntries(Object.entries(limits.hugepages ?? {}).map(([k, v]) => [k, bytes(v)]))
  const l = { cpuMilli: limits.cpu ? cpu(limits.cpu) : undefined, memoryBytes: limits.memory ? bytes(limits.memory) : undefined, hugepages: hp }
  return {
    limits: l,
    requests: { cpuMilli: requests.cpu ? cpu(requests.cpu) : l.cpuMilli, memoryBytes: requests.memory ? bytes(requests.memory) : l.memoryBytes, hugepages: hp },
  }
}

t.test('cpu request -> shares as kubelet MilliCPUToShares: floor(m*1024/1000), at least 2, at most 262144', async t => {
  const table: [number, number][] = [
    [0, 2],
    [1, 2],
    [2, 2],
    [3, 3],
    [100, 102],
    [250, 256],
    [500, 512],
    [1000, 1024],
    [1500, 1536],
    [300_000, 262_144],
  ]
  for (const [m, shares] of table) t.equal(milliCpuToShares(m), shares, `${m}m -> ${shares}`)
})

t.test('cpu limit -> cfs quota per 100000us period, at least 1000 (kubelet MinQuotaPeriod)', async t => {
  const table: [number, number][] = [
    [0, 0],
    [1, 1000],
    [10, 1000],
    [11, 1100],
    [200, 20000],
    [500, 50000],
    [1500, 150000],
    [4000, 400000],
  ]
  for (const [m, quota] of table) t.equal(milliCpuToQuota(m), quota, `${m}m -> ${quota}`)
})

t.test('shares -> cgroup v2 cpu.weight by 1 + ((shares-2)*9999)/262142, integer division', async t => {
  const table: [number, number][] = [
    [2, 1],
    [102, 4],
    [256, 10],
    [512, 20],
    [1024, 39],
    [1536, 59],
    [262_144, 10000],
  ]
  for (const [s, w] of table) t.equal(sharesToWeight(s), w, `${s} -> ${w}`)
})

t.test('hugepage sizes are spelled as the kernel names hugetlb files', async t => {
  t.equal(hugepageSizeName(bytes('2Mi')), '2MB')
  t.equal(hugepageSizeName(bytes('1Gi')), '1GB')
  t.equal(hugepageSizeName(bytes('64Ki')), '64KB')
  t.equal(hugepageSizeName(bytes('32Mi')), '32MB')
})

t.test('quantity edge cases as they reach cgroup files', async t => {
  const v1 = (r: Resources) => containerWrites(1, r).map(w => `${w.file}=${w.value}`)
  t.same(v1(res({ cpu: '1m' })), ['cpu.shares=2', 'cpu.cfs_period_us=100000', 'cpu.cfs_quota_us=1000'], '1m cpu: minimum shares and quota')
  t.same(v1(res({ cpu: '0.5' })), ['cpu.shares=512', 'cpu.cfs_period_us=100000', 'cpu.cfs_quota_us=50000'], '0.5 cpu is 500m')
  t.same(v1(res({ cpu: '0.0001' })), ['cpu.shares=2', 'cpu.cfs_period_us=100000', 'cpu.cfs_quota_us=1000'], '0.0001 cpu rounds up to 1m')
  t.same(v1(res({ memory: '1.5Gi' })), ['cpu.shares=2', 'memory.limit_in_bytes=1610612736', 'memory.memsw.limit_in_bytes=1610612736'])
  t.same(v1(res({ memory: '512Mi' })).slice(1, 2), ['memory.limit_in_bytes=536870912'])
  t.same(v1(res({ memory: '1G' })).slice(1, 2), ['memory.limit_in_bytes=1000000000'], 'decimal G is 10^9')
  t.same(v1(res({ memory: '100.5' })).slice(1, 2), ['memory.limit_in_bytes=101'], 'fractional bytes round up')
})

t.test('container writes, v1 and v2, with the Kubernetes field each comes from', async t => {
  const r = res({ cpu: '250m', memory: '64Mi', hugepages: { '2Mi': '4Mi' } }, { cpu: '100m' })
  t.same(containerWrites(1, r), [
    { file: 'cpu.shares', value: '102', from: 'requests.cpu 100m' },
    { file: 'cpu.cfs_period_us', value: '100000', from: 'limits.cpu 250m' },
    { file: 'cpu.cfs_quota_us', value: '25000', from: 'limits.cpu 250m' },
    { file: 'memory.limit_in_bytes', value: '67108864', from: 'limits.memory 64Mi' },
    { file: 'memory.memsw.limit_in_bytes', value: '67108864', from: 'limits.memory 64Mi (swap off)', ifExists: true },
    { file: 'hugetlb.2MB.limit_in_bytes', value: '4194304', from: 'limits.hugepages-2Mi 4Mi' },
  ])
  t.same(containerWrites(2, r), [
    { file: 'cpu.weight', value: '4', from: 'requests.cpu 100m (shares 102)' },
    { file: 'cpu.max', value: '25000 100000', from: 'limits.cpu 250m' },
    { file: 'memory.max', value: '67108864', from: 'limits.memory 64Mi' },
    { file: 'memory.swap.max', value: '0', from: 'limits.memory 64Mi (swap off)', ifExists: true },
    { file: 'memory.oom.group', value: '1', from: 'kubelet default on cgroup v2 (singleProcessOOMKill false)', ifExists: true },
    { file: 'hugetlb.2MB.max', value: '4194304', from: 'limits.hugepages-2Mi 4Mi' },
  ])
})

t.test('a container with no resources gets the minimum shares and nothing else', async t => {
  t.same(containerWrites(1, res()), [{ file: 'cpu.shares', value: '2', from: 'requests.cpu unset' }])
  t.same(
    containerWrites(2, res()).map(w => [w.file, w.value]),
    [
      ['cpu.weight', '1'],
      ['memory.oom.group', '1'],
    ],
  )
})

t.test("singleProcessOOMKill (kubelet's option): no memory.oom.group on v2, the OOM killer takes one process", async t => {
  t.same(
    containerWrites(2, res(), { singleProcessOOMKill: true }).map(w => w.file),
    ['cpu.weight'],
  )
  t.same(containerWrites(1, res(), { singleProcessOOMKill: true }), containerWrites(1, res()), 'v1 has no group kill either way')
})

const pod = (containers: Resources[], init: Resources[] = []): PodResources => ({
  uid: 'u',
  name: 'p',
  containers: containers.map((resources, i) => ({ name: `c${i}`, resources })),
  initContainers: init.map((resources, i) => ({ name: `i${i}`, resources })),
})

t.test('pod totals: sum of containers, max with each init container (kubelet ResourceConfigForPod)', async t => {
  t.same(podTotals(pod([res({ cpu: '500m', memory: '512Mi' }), res({ cpu: '1', memory: '1Gi' })])), {
    cpuRequestMilli: 1500,
    cpuLimitMilli: 1500,
    memoryLimitBytes: 1610612736,
    hugepages: {},
  })
  t.same(
    podTotals(pod([res({ cpu: '500m', memory: '128Mi' })], [res({ cpu: '2', memory: '64Mi' })])),
    {
      cpuRequestMilli: 2000,
      cpuLimitMilli: 2000,
      memoryLimitBytes: 134217728,
      hugepages: {},
    },
    'an init container larger than the sum wins, per resource',
  )
  t.same(podTotals(pod([res({ hugepages: { '2Mi': '4Mi' } }), res({ hugepages: { '2Mi': '2Mi', '1Gi': '1Gi' } })])).hugepages, {
    '2Mi': 6291456,
    '1Gi': 1073741824,
  })
})

t.test('pod totals with sidecars: they add to the containers, and to each later init container (KEP-753)', async t => {
  const side = (r: Resources) => ({ name: 's', resources: r, restartPolicy: 'Always' as const })
  const p = (init: PodResources['initContainers'], containers: Resources[]): PodResources => ({
    uid: 'u',
    name: 'p',
    initContainers: init,
    containers: containers.map((resources, i) => ({ name: `c${i}`, resources })),
  })
  // sidecar 100m/64Mi beside a 500m/128Mi container: 600m, 192Mi.
  t.same(podTotals(p([side(res({ cpu: '100m', memory: '64Mi' }))], [res({ cpu: '500m', memory: '128Mi' })])), {
    cpuRequestMilli: 600,
    cpuLimitMilli: 600,
    memoryLimitBytes: 201326592,
    hugepages: {},
  })
  // A plain init container of 1 cpu / 256Mi after that sidecar needs 1100m / 320Mi: more than the running sum.
  t.same(
    podTotals(
      p([side(res({ cpu: '100m', memory: '64Mi' })), { name: 'i', resources: res({ cpu: '1', memory: '256Mi' }) }], [res({ cpu: '500m', memory: '128Mi' })]),
    ),
    {
      cpuRequestMilli: 1100,
      cpuLimitMilli: 1100,
      memoryLimitBytes: 335544320,
      hugepages: {},
    },
  )
  // Before the sidecar it runs alone: 1 cpu / 256Mi.
  t.same(
    podTotals(
      p([{ name: 'i', resources: res({ cpu: '1', memory: '256Mi' }) }, side(res({ cpu: '100m', memory: '64Mi' }))], [res({ cpu: '500m', memory: '128Mi' })]),
    ),
    {
      cpuRequestMilli: 1000,
      cpuLimitMilli: 1000,
      memoryLimitBytes: 268435456,
      hugepages: {},
    },
  )
  // A sidecar without a memory limit leaves the pod without one: it runs beside the containers.
  t.equal(podTotals(p([side(res({ cpu: '100m' }))], [res({ cpu: '500m', memory: '128Mi' })])).memoryLimitBytes, undefined)
  t.same(podTotals(p([side(res({ hugepages: { '2Mi': '2Mi' } }))], [res({ hugepages: { '2Mi': '4Mi' } })])).hugepages, { '2Mi': 6291456 })
})

t.test('pod limits only when every app container sets that limit', async t => {
  const p = pod([res({ cpu: '500m' }), res({ memory: '256Mi' }, { cpu: '200m' })])
  t.same(podTotals(p), { cpuRequestMilli: 700, cpuLimitMilli: undefined, memoryLimitBytes: undefined, hugepages: {} })
  t.same(podWrites(1, p), [{ file: 'cpu.shares', value: '716', from: 'pod requests.cpu 700m' }], 'shares from summed requests, no quota, no memory limit')
})

t.test('pod writes, v1 and v2, with a pids limit', async t => {
  const p = pod([res({ cpu: '500m', memory: '512Mi' }), res({ cpu: '250m', memory: '256Mi' })])
  t.same(
    podWrites(1, p, { pidsLimit: 64 }).map(w => [w.file, w.value, w.from]),
    [
      ['cpu.shares', '768', 'pod requests.cpu 750m'],
      ['cpu.cfs_period_us', '100000', 'pod limits.cpu 750m'],
      ['cpu.cfs_quota_us', '75000', 'pod limits.cpu 750m'],
      ['memory.limit_in_bytes', '805306368', 'pod limits.memory 768Mi'],
      ['pids.max', '64', 'pidsLimit 64'],
    ],
  )
  t.same(
    podWrites(2, p, { pidsLimit: 64 }).map(w => [w.file, w.value]),
    [
      ['cpu.weight', '30'],
      ['cpu.max', '75000 100000'],
      ['memory.max', '805306368'],
      ['pids.max', '64'],
    ],
  )
})

t.test('a best-effort pod gets 2 shares (weight 1) and no limits', async t => {
  t.same(
    podWrites(1, pod([res(), res()])).map(w => [w.file, w.value]),
    [['cpu.shares', '2']],
  )
  t.same(
    podWrites(2, pod([res()])).map(w => [w.file, w.value]),
    [['cpu.weight', '1']],
  )
})
