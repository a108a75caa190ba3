import t from 'tap'
import { fstatSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createPodCgroups, detectCgroups, planPodCgroups } from '../../../src/cgroups/index.js'
import type { PodResources, Resources } from '../../../src/spec/resources.js'
import { FakeCgroupFs, type FakeMode } from '../../helpers/fake-cgroupfs.js'

const Mi = 2 ** 20
const res = (cpuMilli?: number, memoryBytes?: number): Resources => ({
  limits: { cpuMilli, memoryBytes, hugepages: {} },
  requests: { cpuMilli, memoryBytes, hugepages: {} },
})
const pod = (uid = 'abc'): PodResources => ({
  uid,
  name: 'web',
  initContainers: [],
  containers: [
    { name: 'app', resources: res(500, 512 * Mi) },
    { name: 'side', resources: res() },
  ],
})

function setup(t: { testdir: () => string }, mode: FakeMode, uid = 'abc') {
  const root = join(t.testdir(), 'cg')
  const fs = new FakeCgroupFs(root, mode, { swap: true })
  const host = detectCgroups(root, fs)
  return { root, fs, host, plan: planPodCgroups(pod(uid), host) }
}

t.test('a rejected write names file and value, with a hint, and leaves nothing behind', async t => {
  const { fs, root, plan } = setup(t, 'v2')
  fs.failWrite.set('pod-launch/pod-abc/app/memory.max', 'EINVAL')
  t.throws(() => createPodCgroups(plan, fs), {
    message: `cgroup.write: ${root}/pod-launch/pod-abc/app/memory.max = "536870912": invalid argument (EINVAL)`,
    step: 'cgroup.write',
    code: 'EINVAL',
    path: `${root}/pod-launch/pod-abc/app/memory.max`,
    hint: "the kernel rejected this value for this file (malformed, or out of range: on v1 a child's cfs quota may not exceed its parent's)",
  })
  t.same(fs.leftovers(), [])
  t.notOk(fs.exists(join(root, 'pod-launch')), 'the parent we made is removed too')
})

t.test('a missing v2 control file hints at cgroup.subtree_control', async t => {
  const { fs, root, plan } = setup(t, 'v2')
  fs.failWrite.set('pod-launch/pod-abc/cpu.weight', 'ENOENT')
  t.throws(() => createPodCgroups(plan, fs), {
    message: `cgroup.write: ${root}/pod-launch/pod-abc/cpu.weight = "20": no such file or directory (ENOENT)`,
    hint: "the controller is not enabled for this cgroup: on v2 add it to the parent's cgroup.subtree_control; on v1 check that it is mounted",
  })
  t.same(fs.leftovers(), [])
})

t.test('mkdir refused: cgroup.mkdir names the directory; the other hierarchies are rolled back', async t => {
  const { fs, root, plan } = setup(t, 'hybrid')
  fs.failMkdir.set('memory/pod-launch/pod-abc', 'EACCES')
  t.throws(() => createPodCgroups(plan, fs), {
    message: `cgroup.mkdir: ${root}/memory/pod-launch/pod-abc: permission denied (EACCES)`,
    hint: 'run as root, with the cgroup filesystem mounted read-write',
  })
  t.same(fs.leftovers(), [])
})

t.test('another pod removing the shared parent mid-create is retried', async t => {
  const { fs, plan } = setup(t, 'v2')
  let raced = false
  const racy = Object.create(fs) as FakeCgroupFs
  racy.mkdir = (path: string) => {
    if (!raced && path.endsWith('/pod-abc')) {
      raced = true
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT', errno: -2, syscall: 'mkdir', path })
    }
    return fs.mkdir(path)
  }
  const cg = createPodCgroups(plan, racy)
  t.ok(raced)
  t.ok(fs.exists(cg.paths.containers.app[0]))
})

t.test('plan errors: a controller the host lacks, a name that cannot be a directory', async t => {
  const { host } = setup(t, 'hybrid')
  const hp = pod()
  hp.containers[0].resources.limits.hugepages['2Mi'] = 4 * Mi
  t.throws(() => planPodCgroups(hp, host), {
    message:
      'cgroup.plan: pod-launch/pod-abc/hugetlb.2MB.limit_in_bytes = "4194304": the hugetlb controller is not available on this host (pod limits.hugepages-2Mi 4Mi)',
    step: 'cgroup.plan',
    code: 'ENOTSUP',
  })
  for (const name of ['../x', 'pause', 'pod', 'tasks']) {
    t.throws(() => planPodCgroups({ ...pod(), containers: [{ name, resources: res() }] }, host), {
      message: `cgroup.plan: container "${name}": not usable as a cgroup directory name`,
      exitCode: 2,
      hint: 'container names and the pod uid become cgroup directory names: letters, digits, ".", "_", "-"; "pause", "pod" and "tasks" are reserved: rename the container',
    })
  }
  t.throws(() => planPodCgroups({ ...pod(), uid: 'a/b' }, host), { message: 'cgroup.plan: pod uid "a/b": not usable as a cgroup directory name' })
})

t.test('enter writes the pid to cgroup.procs in every hierarchy, and only to leaves', async t => {
  const { fs, plan } = setup(t, 'hybrid')
  const cg = createPodCgroups(plan, fs)
  fs.writes.length = 0
  cg.enter(4242, 'app')
  t.same(
    fs.writes,
    ['cpu', 'cpuacct', 'memory', 'pids', 'freezer', 'unified'].map(h => [`${h}/pod-launch/pod-abc/app/cgroup.procs`, '4242']),
  )
  t.throws(() => cg.enter(1, 'pod'), { step: 'cgroup.enter', code: 'EINVAL' })
  t.throws(() => cg.enter(1, 'nope'), { message: 'cgroup.enter: nope: no such container in pod cgroup pod-launch/pod-abc' })
  fs.failWrite.set('memory/pod-launch/pod-abc/pause/cgroup.procs', 'ESRCH')
  t.throws(() => cg.enter(77, 'pause'), {
    message: `cgroup.enter: ${fs.root}/memory/pod-launch/pod-abc/pause/cgroup.procs = "77": no such process (ESRCH)`,
    hint: 'the process exited before it could be placed in its cgroup',
  })
})

t.test('cgroupFd: a cgroup2 directory fd on v2 and hybrid, none on v1', async t => {
  const hy = setup(t, 'hybrid')
  const cg = createPodCgroups(hy.plan, hy.fs)
  const fd = cg.cgroupFd('app')!
  t.ok(fstatSync(fd).isDirectory())
  t.equal(cg.cgroupFd('app'), fd, 'cached')
  await cg.remove()
  t.throws(() => fstatSync(fd), { code: 'EBADF' }, 'remove() closed it')
  const v1 = setup(t, 'v1')
  t.equal(createPodCgroups(v1.plan, v1.fs).cgroupFd('app'), undefined)
})

t.test('spawnPlacement: the cgroup2 fd and open v1 tasks files; placed() writes cgroup.procs only where clone3 did not place the child', async t => {
  const hy = setup(t, 'hybrid')
  const cg = createPodCgroups(hy.plan, hy.fs)
  const p = cg.spawnPlacement('app')
  t.equal(p.cgroupFd, cg.cgroupFd('app'))
  const v1 = ['cpu', 'cpuacct', 'memory', 'pids', 'freezer']
  t.same(
    p.paths,
    v1.map(h => `${hy.fs.root}/${h}/pod-launch/pod-abc/app/tasks`),
  )
  t.equal(p.tasks.length, 5)
  for (const fd of p.tasks) t.ok(fstatSync(fd).isFile())
  t.same(cg.spawnPlacement('app').tasks, p.tasks, 'cached')
  hy.fs.writes.length = 0
  cg.placed(4242, 'app', true)
  t.same(hy.fs.writes, [], 'born in its cgroup2 cgroup, moved itself in v1: nothing to write')
  cg.placed(4242, 'app', false)
  t.same(hy.fs.writes, [['unified/pod-launch/pod-abc/app/cgroup.procs', '4242']], 'no CLONE_INTO_CGROUP: cgroup.procs of cgroup2')
  writeFileSync(`${hy.fs.root}/unified/pod-launch/pod-abc/app/cgroup.procs`, '') // 4242 "exited"
  await cg.remove()
  t.throws(() => fstatSync(p.tasks[0]), { code: 'EBADF' }, 'remove() closed them')
  const v2 = setup(t, 'v2')
  const p2 = createPodCgroups(v2.plan, v2.fs).spawnPlacement('app')
  t.same([p2.tasks, p2.paths], [[], []], 'v2: no v1 hierarchy')
  t.ok(p2.cgroupFd !== undefined)
  const old = setup(t, 'v1')
  const cg1 = createPodCgroups(old.plan, old.fs)
  old.fs.writes.length = 0
  cg1.placed(7, 'app', false)
  t.same(old.fs.writes, [], 'v1 only: the child moves itself everywhere')
  t.throws(() => cg1.spawnPlacement('nope'), { step: 'cgroup.enter', code: 'ENOENT' })
})

t.test('oomKilled: v1 memory.oom_control oom_kill above the count at enter', async t => {
  const { fs, plan } = setup(t, 'hybrid')
  const cg = createPodCgroups(plan, fs)
  const oom = (n: number) => fs.set('memory/pod-launch/pod-abc/app/memory.oom_control', `oom_kill_disable 0\nunder_oom 0\noom_kill ${n}\n`)
  cg.enter(10, 'app')
  t.notOk(cg.oomKilled('app'))
  oom(1)
  t.ok(cg.oomKilled('app'))
  t.notOk(cg.oomKilled('side'), 'the sibling had none')
  cg.enter(11, 'app', { exec: true })
  t.ok(cg.oomKilled('app'), 'an exec keeps the baseline')
  cg.enter(12, 'app')
  t.notOk(cg.oomKilled('app'), 'a restart starts a new count')
  t.equal(cg.stats().oomKills, 1, 'the pod sums its children on v1 (not hierarchical there)')
})

t.test('oomKilled and stats on v2 read memory.events, memory.current/peak, cpu.stat, pids.current', async t => {
  const { fs, plan } = setup(t, 'v2')
  const cg = createPodCgroups(plan, fs)
  cg.enter(10, 'app')
  fs.set('pod-launch/pod-abc/app/memory.events', 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 1\n')
  fs.set('pod-launch/pod-abc/app/memory.current', '1048576\n')
  fs.set('pod-launch/pod-abc/app/memory.peak', '2097152\n')
  fs.set('pod-launch/pod-abc/app/cpu.stat', 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n')
  fs.set('pod-launch/pod-abc/app/pids.current', '3\n')
  t.ok(cg.oomKilled('app'))
  t.same(cg.stats('app'), { memoryBytes: 1048576, memoryPeakBytes: 2097152, cpuUsageNs: 1_500_000, pids: 3, oomKills: 1 })
})

t.test('stats on v1 come from each controller hierarchy', async t => {
  const { fs, plan } = setup(t, 'v1')
  const cg = createPodCgroups(plan, fs)
  fs.set('memory/pod-launch/pod-abc/memory.usage_in_bytes', '4096\n')
  fs.set('memory/pod-launch/pod-abc/memory.max_usage_in_bytes', '8192\n')
  fs.set('cpuacct/pod-launch/pod-abc/cpuacct.usage', '123456789\n')
  fs.set('pids/pod-launch/pod-abc/pids.current', '5\n')
  t.same(cg.stats(), { memoryBytes: 4096, memoryPeakBytes: 8192, cpuUsageNs: 123456789, pids: 5, oomKills: 0 })
})

t.test('killAll on v1: freeze, SIGKILL every pid of every hierarchy, thaw', async t => {
  const { fs, plan } = setup(t, 'v1')
  const cg = createPodCgroups(plan, fs)
  fs.addProcess('freezer/pod-launch/pod-abc/app', 101)
  fs.addProcess('pids/pod-launch/pod-abc/app', 101)
  fs.addProcess('pids/pod-launch/pod-abc/side', 102)
  fs.writes.length = 0
  await cg.killAll()
  t.same(fs.killed.sort(), [101, 102])
  t.same(fs.writes, [
    ['freezer/pod-launch/pod-abc/freezer.state', 'FROZEN'],
    ['freezer/pod-launch/pod-abc/freezer.state', 'THAWED'],
  ])
})

t.test('killAll on v2 writes cgroup.kill once', async t => {
  const { fs, plan } = setup(t, 'v2')
  const cg = createPodCgroups(plan, fs)
  fs.addProcess('pod-launch/pod-abc/app', 201)
  fs.writes.length = 0
  await cg.killAll()
  t.same(fs.writes, [['pod-launch/pod-abc/cgroup.kill', '1']])
  t.same(fs.killed, [], 'no pid is signalled one by one')
})

t.test('remove: every cgroup bottom-up in every hierarchy, nested ones too, then the empty parent', async t => {
  const { fs, root, plan } = setup(t, 'hybrid')
  const cg = createPodCgroups(plan, fs)
  fs.mkdir(join(root, 'memory/pod-launch/pod-abc/app/nested'))
  await cg.remove()
  t.same(fs.leftovers(), [])
  for (const h of ['cpu', 'memory', 'unified']) t.notOk(fs.exists(join(root, h, 'pod-launch')), `${h}/pod-launch removed`)
  await cg.remove()
  t.pass('a second remove is fine (ENOENT)')
})

t.test('remove right after killAll found the pod empty rmdirs the tree that walk read, without reading it again', async t => {
  const { fs, root, plan } = setup(t, 'hybrid')
  const cg = createPodCgroups(plan, fs)
  fs.mkdir(join(root, 'memory/pod-launch/pod-abc/app/nested'))
  const walked: string[] = []
  const subdirs = fs.subdirs.bind(fs)
  fs.subdirs = (path: string) => (walked.push(path), subdirs(path))
  await cg.killAll()
  const once = walked.length
  t.ok(once > 0, 'killAll walked the tree')
  await cg.remove()
  t.equal(walked.length, once, 'remove read no directory again')
  t.same(fs.leftovers(), [])
  t.notOk(fs.exists(join(root, 'memory/pod-launch')), 'nested ones and the parent too')
})

t.test("the pod's killAll takes a container's cgroups that its own killAll found empty as read, until a process of it is placed", async t => {
  const { fs, root, plan } = setup(t, 'hybrid')
  const cg = createPodCgroups(plan, fs)
  fs.mkdir(join(root, 'memory/pod-launch/pod-abc/app/nested'))
  const walked: string[] = []
  const subdirs = fs.subdirs.bind(fs)
  fs.subdirs = (path: string) => (walked.push(path), subdirs(path))
  const ofApp = () => walked.filter(d => /\/app(\/|$)/.test(d))
  await cg.killAll('app')
  const once = ofApp().length
  t.ok(once > 0, "the container's killAll walked its cgroups")
  await cg.killAll()
  t.equal(ofApp().length, once, "the pod's walk did not read them again")
  t.ok(
    walked.some(d => d.endsWith('/side')),
    'its sibling was read',
  )
  cg.enter(77, 'app')
  walked.length = 0
  await cg.killAll()
  t.ok(ofApp().length > 0, 'after a placement, they are read again')
  await cg.remove()
  t.same(fs.leftovers(), [])
  t.notOk(fs.exists(join(root, 'memory/pod-launch')), 'nested ones and the parent too')
})

t.test('a cgroup made after killAll (addContainer) is still removed: the walk is read again', async t => {
  const { fs, root, plan } = setup(t, 'hybrid')
  const cg = createPodCgroups(plan, fs)
  await cg.killAll()
  cg.addContainer({ name: 'late', resources: res() })
  t.ok(fs.exists(join(root, 'memory/pod-launch/pod-abc/late')))
  await cg.remove()
  t.same(fs.leftovers(), [])
})

t.test('remove keeps the parent another pod still uses', async t => {
  const { fs, host, plan } = setup(t, 'v2')
  const a = createPodCgroups(plan, fs)
  createPodCgroups(planPodCgroups(pod('other'), host), fs)
  await a.remove()
  t.same(fs.leftovers(), ['pod-launch', 'pod-launch/pod-other'])
  t.notOk(fs.exists(join(fs.root, 'pod-launch/pod-abc')))
  t.ok(fs.exists(join(fs.root, 'pod-launch/pod-other')))
})

t.test('remove gives up on a cgroup that stays busy, naming it', async t => {
  const { fs, root, plan } = setup(t, 'v2')
  const cg = createPodCgroups(plan, fs)
  fs.addProcess('pod-launch/pod-abc/side', 303)
  await t.rejects(cg.remove(), {
    message: `cgroup.remove: ${root}/pod-launch/pod-abc/side: resource busy or locked (EBUSY)`,
    hint: 'processes remain in the cgroup: kill them first (killAll), then remove',
  })
})

t.test('killAll(container) kills only that container cgroup', async t => {
  const { fs, plan } = setup(t, 'hybrid')
  const cg = createPodCgroups(plan, fs)
  fs.addProcess('unified/pod-launch/pod-abc/side', 501)
  fs.addProcess('unified/pod-launch/pod-abc/app', 502)
  fs.writes.length = 0
  await cg.killAll('side')
  t.same(fs.writes, [['unified/pod-launch/pod-abc/side/cgroup.kill', '1']])
  t.equal(fs.read('unified/pod-launch/pod-abc/app/cgroup.procs'), '502\n', 'the sibling is untouched')
})

t.test('oomKilledAfterExit waits briefly for a count the kernel bumps after its SIGKILL', async t => {
  const { fs, plan } = setup(t, 'v2')
  const cg = createPodCgroups(plan, fs)
  cg.enter(10, 'app')
  setTimeout(() => fs.set('pod-launch/pod-abc/app/memory.events', 'oom 1\noom_kill 1\n'), 20)
  t.notOk(cg.oomKilled('app'), 'not counted yet')
  t.ok(await cg.oomKilledAfterExit('app', 500))
  t.notOk(await cg.oomKilledAfterExit('side', 30), 'false after the grace period')
})

t.test('killAll on a cgroup2 kernel without cgroup.kill: cgroup.freeze, SIGKILL each pid, thaw', async t => {
  const { fs, plan } = setup(t, 'v2')
  const cg = createPodCgroups(plan, fs)
  fs.failWrite.set('pod-launch/pod-abc/cgroup.kill', 'ENOENT')
  fs.addProcess('pod-launch/pod-abc/app', 601)
  fs.addProcess('pod-launch/pod-abc/side', 602)
  fs.writes.length = 0
  await cg.killAll()
  t.same(fs.killed.sort(), [601, 602])
  t.same(fs.writes, [
    ['pod-launch/pod-abc/cgroup.freeze', '1'],
    ['pod-launch/pod-abc/cgroup.freeze', '0'],
  ])
})

t.test('a container added after the pod (CRI CreateContainer) gets its own cgroup with its limits, once', async t => {
  for (const mode of ['v2', 'hybrid'] as const) {
    const { fs, root, plan } = setup(t, mode)
    const cg = createPodCgroups(plan, fs)
    cg.addContainer({ name: 'late', resources: res(250, 64 * Mi) })
    cg.addContainer({ name: 'late', resources: res(250, 64 * Mi) }) // already there: nothing new
    const memory = mode === 'v2' ? join(root, 'pod-launch/pod-abc/late/memory.max') : join(root, 'memory/pod-launch/pod-abc/late/memory.limit_in_bytes')
    t.equal(fs.readFile(memory), String(64 * Mi), `${mode}: its memory limit is written`)
    t.same(
      cg.paths.containers.late,
      plan.hierarchies.map(h => join(h.path, 'pod-launch/pod-abc/late')),
      `${mode}: its directories are named in the paths`,
    )
    t.ok(
      cg.plan.containers.some(c => c.who === 'late'),
      `${mode}: and in the plan the record keeps`,
    )
    t.throws(
      () => cg.addContainer({ name: 'pause', resources: res() }),
      { message: /^cgroup\.plan: container "pause": not usable/ },
      `${mode}: a reserved name is refused`,
    )
    await cg.remove()
    t.same(fs.leftovers(), [], `${mode}: remove takes it too`)
  }
})
