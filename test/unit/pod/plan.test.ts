import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseManifest } from '../../../src/index.js'
import { containerEnv, joinsNothing, planContainer, planExec, planHostCheck, planPause, sandboxNamespaces, terminationLogOf } from '../../../src/pod/index.js'
import { bindPlan, checkPlan, parseNsRef, planPaths, PLAN_VERSION, useNative, type SpawnPlan } from '../../../src/spawn/index.js'
import { CAPABILITIES, DEFAULT_CAPABILITIES } from '../../../src/spec/index.js'
import { ALL_CAPS, fakeNative } from '../../helpers/fake-native.js'

// Planning needs no root and no built addon: every kernel fact comes through the seam.
t.teardown(useNative(fakeNative()))

const spec = (share: boolean, extra: object = {}) =>
  parseManifest({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web' },
    spec: {
      shareProcessNamespace: share,
      ...extra,
      containers: [
        {
          name: 'a',
          command: ['nginx', '-g', 'daemon off;'],
          workingDir: '/srv',
          env: [
            { name: 'PATH', value: '/opt/bin:/bin' },
            { name: 'X', value: '1' },
          ],
        },
      ],
    },
  }).spec

const facts = { podIP: '', hostIP: '', nodeName: 'node1' }
const etc = { hosts: '/p/etc/hosts', hostname: '/p/etc/hostname', resolvConf: '/p/etc/resolv.conf' }
const plan = (s: ReturnType<typeof spec>) => planContainer(s, s.containers[0], { podDir: '/p', image: { kind: 'host' }, facts, etc, volumes: new Map() })
const fds: Record<string, number> = {
  '/proc/<pause>/ns/net': 100,
  '/proc/<pause>/ns/uts': 101,
  '/proc/<pause>/ns/ipc': 102,
  '/proc/<pause>/ns/pid': 103,
  '/proc/<container>/ns/mnt': 200,
  '/proc/<container>/ns/pid': 201,
}
const bind = (p: SpawnPlan) => bindPlan(p, { fdOf: path => fds[path], stdio: [3, 4, 5], rootFd: 202, dieWithParent: true })

t.test('pause makes uts, ipc, net, and pid only when the pod shares it', async t => {
  t.same(sandboxNamespaces(spec(false)).sort(), ['ipc', 'net', 'uts'])
  t.same(sandboxNamespaces(spec(true)).sort(), ['ipc', 'net', 'pid', 'uts'])
  const p = planPause(spec(false, { securityContext: { sysctls: [{ name: 'net.ipv4.ip_forward', value: '1' }] } }), '/bin/pause')
  t.match(p, {
    argv: ['/bin/pause'],
    join: [],
    hostname: 'web',
    loopback: true,
    newSession: true,
    mounts: [{ kind: 'write', source: '1', target: '/proc/sys/net/ipv4/ip_forward' }],
  })
})

t.test('a container joins ipc, uts, net of pause by path, in order, and makes its own mnt and pid', async t => {
  const p = plan(spec(false))
  t.same(p.join, [
    { type: 'ipc', path: '/proc/<pause>/ns/ipc' },
    { type: 'uts', path: '/proc/<pause>/ns/uts' },
    { type: 'net', path: '/proc/<pause>/ns/net' },
  ])
  t.same(p.unshare, ['mnt', 'pid'])
  t.equal(p.pidns, undefined)
  t.same(p.argv, ['nginx', '-g', 'daemon off;'])
  t.equal(p.searchPath, '/opt/bin:/bin', 'the PATH of the container env is searched')
  t.equal(p.cwd, '/srv')
  t.ok(
    p.mounts.some(m => m.kind === 'pivot' && m.target === '/p/rootfs'),
    "its root is built on the pod dir's one rootfs directory",
  )
  const n = bind(p)
  t.same(
    n.join,
    [
      { type: 'ipc', fd: 102 },
      { type: 'uts', fd: 101 },
      { type: 'net', fd: 100 },
    ],
    'bound to the fds behind the paths',
  )
  t.same(n.stdio, [3, 4, 5])
  t.ok(n.newSession && n.dieWithParent)
})

t.test('with a shared process namespace the container enters pause pid ns and makes only mnt', async t => {
  const p = plan(spec(true))
  t.same(p.unshare, ['mnt'])
  t.equal(p.pidns, '/proc/<pause>/ns/pid')
  t.equal(bind(p).pidns, 103)
  t.notOk(
    p.join.some(j => j.type === 'pid'),
    'pid is joined by the parent (pid_for_children), not setns in the child',
  )
})

t.test('a plan is plain JSON: it survives a round trip unchanged, seccomp as base64', async t => {
  const s = spec(false)
  const p = planContainer(s, s.containers[0], {
    podDir: '/p',
    image: { kind: 'host' },
    facts,
    etc,
    volumes: new Map(),
    seccomp: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]),
  })
  t.equal(p.version, PLAN_VERSION)
  t.same(JSON.parse(JSON.stringify(p)), p)
  t.same(bind(p).seccomp, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]))
})

t.test('exec copies the container plan: env, cwd, identity, seccomp; joins its mnt and pid, mounts nothing', async t => {
  const c = { ...plan(spec(false)), seccomp: 'AQIDBAUGBwg=' }
  const e = planExec(c, ['sh', '-c', 'id'], { newSession: false })
  t.same(e.argv, ['sh', '-c', 'id'])
  t.same([e.envp, e.cwd, e.identity, e.seccomp, e.nofileSoft, e.searchPath], [c.envp, c.cwd, c.identity, c.seccomp, c.nofileSoft, c.searchPath])
  t.same(
    e.join.map(j => j.path),
    ['/proc/<pause>/ns/ipc', '/proc/<pause>/ns/uts', '/proc/<pause>/ns/net', '/proc/<container>/ns/mnt'],
  )
  t.equal(e.pidns, '/proc/<container>/ns/pid')
  t.same([e.unshare, e.mounts, e.newSession], [[], [], false])
  t.same(planPaths(e), [...e.join.map(j => j.path), '/proc/<container>/ns/pid'])
  t.equal(e.root, 'container', "the container's root is entered after the joins (nsenter --root)")
  const b = { fdOf: () => 3, stdio: [0, 1, 2] as [number, number, number], dieWithParent: true }
  t.throws(() => bindPlan(e, b), /^plan\.path: \/proc\/<container>\/root: not open/)
  t.equal(bindPlan(e, { ...b, rootFd: 7 }).rootFd, 7)
  t.equal(bindPlan(c, b).rootFd, undefined, 'a container enters no root of another process')
})

t.test('namespace references name a process and a type; anything else is refused', async t => {
  t.same(parseNsRef('/proc/<pause>/ns/net'), { who: 'pause', type: 'net' })
  t.throws(() => parseNsRef('/proc/1/ns/net'), /^plan.path: /)
  t.throws(() => checkPlan({ version: 99 }, 'p/c'), /^plan.version: p\/c: /)
})

t.test('container env: PATH, HOSTNAME, HOME defaults, then the spec (spec wins)', async t => {
  const s = spec(false)
  t.same(
    [...containerEnv(s, s.containers[0], facts)],
    [
      ['PATH', '/opt/bin:/bin'],
      ['HOSTNAME', 'web'],
      ['HOME', '/root'],
      ['X', '1'],
    ],
  )
})

const capMask = (names: readonly string[]) => names.reduce((m, n) => m | (1n << BigInt(CAPABILITIES.indexOf(n as never))), 0n)
const identityOf = (extra: object, security: object = {}) => {
  const s = parseManifest({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'caps' },
    spec: { containers: [{ name: 'a', image: 'host', command: ['true'], securityContext: security }], ...extra },
  }).spec
  return planContainer(s, s.containers[0], { podDir: '/p', image: { kind: 'host' }, facts, etc, volumes: new Map() }).identity!
}

t.test('capabilities: the default set as root, all when privileged, none effective for another uid', async t => {
  const dflt = capMask(DEFAULT_CAPABILITIES).toString()
  t.match(identityOf({}), { uid: 0, capBounding: dflt, capEffective: dflt })
  t.match(identityOf({}, { privileged: true }), { capBounding: ALL_CAPS.toString(), capEffective: ALL_CAPS.toString() })
  t.match(identityOf({}, { runAsUser: 1000 }), { uid: 1000, capBounding: dflt, capEffective: '0' })
  t.match(identityOf({}, { capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] } }), { capBounding: capMask(['NET_ADMIN']).toString() })
})

t.test('capabilities: never more than this process holds, nor than the kernel knows', async t => {
  const restore = useNative(fakeNative({ permittedCaps: () => capMask(['CHOWN', 'KILL']) }))
  t.teardown(restore)
  t.match(identityOf({}, { privileged: true }), { capBounding: capMask(['CHOWN', 'KILL']).toString() }, 'a runner without CAP_SYS_ADMIN passes none on')
  restore()
  const old = useNative(fakeNative({ capLast: () => 37 }))
  t.teardown(old)
  t.match(identityOf({}, { privileged: true }), { capBounding: ((1n << 38n) - 1n).toString() }, 'a 5.8 kernel (cap_last_cap 37): 38 capabilities')
})

t.test('values from Secrets never enter a plan: envp and argv show stand-ins, the real lists go to the sealed file and come back at bind', async t => {
  const s = parseManifest({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web' },
    spec: {
      containers: [
        {
          name: 'a',
          command: ['connect', '--password=$(PW)', '$(HOST)'],
          env: [
            { name: 'HOST', value: 'db' },
            { name: 'PW', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
            { name: 'URL', value: 'pg://u:$(PW)@$(HOST)' },
          ],
        },
      ],
    },
  }).spec
  const objects = {
    configMaps: [],
    secrets: [{ kind: 'Secret' as const, name: 'db', namespace: 'default', type: 'Opaque', data: { password: Buffer.from('s3cr3t').toString('base64') } }],
  }
  const dir = t.testdir({ secrets: {} })
  const sealed: Record<string, unknown> = {}
  const p = planContainer(s, s.containers[0], {
    podDir: dir,
    image: { kind: 'host' },
    facts: { ...facts, objects },
    etc,
    volumes: new Map(),
    seal: (file, lists) => {
      sealed[file] = lists
      writeFileSync(file, JSON.stringify(lists))
    },
  })
  t.notMatch(JSON.stringify(p), /s3cr3t/, 'not in the plan')
  t.same(p.argv, ['connect', '--password=$(PW)', 'db'])
  t.ok(p.envp.includes("PW=<set to the key 'password' in secret 'db'>"))
  t.ok(p.envp.includes('URL=pg://u:$(PW)@db'))
  t.same(p.sealed, { file: join(dir, 'secrets', 'a.json'), argv: true })
  t.same(Object.keys(sealed), [join(dir, 'secrets', 'a.json')])
  const bound = bind(p)
  t.same(bound.argv, ['connect', '--password=s3cr3t', 'db'])
  t.ok(bound.envp.includes('PW=s3cr3t') && bound.envp.includes('URL=pg://u:s3cr3t@db'))
  t.notOk('sealed' in bound, 'the addon never sees the field')
  const ex = planExec(p, ['env'])
  t.same(ex.sealed, { file: p.sealed!.file, argv: false }, 'exec keeps the real env, with its own argv')
  const be = bind(ex)
  t.same(be.argv, ['env'])
  t.ok(be.envp.includes('PW=s3cr3t'))
  writeFileSync(p.sealed!.file, 'garbage s3cr3t')
  t.throws(() => bind(p), { step: 'plan.sealed', message: /not a sealed env file$/ })
  try {
    bind(p)
  } catch (e) {
    t.notMatch((e as Error).message, /s3cr3t/, 'a broken file is never quoted')
  }
})

t.test("the host check's process is planned too: true in our namespaces, a seccomp filter with no_new_privs", async t => {
  t.match(planHostCheck(), { argv: ['true'], join: [], unshare: [], mounts: [], newSession: false })
  t.equal(planHostCheck().seccomp, undefined)
  t.match(planHostCheck({ seccomp: Buffer.alloc(8, 1) }), { noNewPrivs: true, seccomp: Buffer.alloc(8, 1).toString('base64') })
  t.throws(
    () =>
      bindPlan(
        { ...planHostCheck(), join: [{ type: 'net', path: '/proc/<pause>/ns/net' }] },
        { fdOf: joinsNothing('check'), stdio: [0, 1, 2], dieWithParent: false },
      ),
    {
      message: 'plan.path: /proc/<pause>/ns/net: check joins no namespace',
    },
  )
})

t.test("a container's termination-log is the file its plan binds at terminationMessagePath, whatever layout planned it", async t => {
  const s = spec(false)
  const c = s.containers[0]
  const inputs = { podDir: '/p', image: { kind: 'host' } as const, facts, etc, volumes: new Map<string, string>() }
  // As a pod-launch of the layout with a root and a termination-log in each container's directory stored the
  // plan (a detached pod it started, adopted by this one).
  const older = (path: string | undefined) =>
    path?.replace('/p/rootfs', '/p/containers/a/rootfs').replace('/p/containers/a.termination-log', '/p/containers/a/termination-log')
  const stored = (p: SpawnPlan): SpawnPlan => ({ ...p, mounts: p.mounts.map(m => ({ ...m, target: older(m.target)!, source: older(m.source) })) })
  t.equal(terminationLogOf(plan(s), c, '/p'), '/p/containers/a.termination-log', "this layout's file")
  t.equal(terminationLogOf(stored(plan(s)), c, '/p'), '/p/containers/a/termination-log', "the stored plan's file")
  const own = { ...c, terminationMessagePath: '/var/log/message' }
  t.equal(terminationLogOf(stored(planContainer(s, own, inputs)), own, '/p'), '/p/containers/a/termination-log', 'at the path the container names')
  t.equal(terminationLogOf(undefined, c, '/p'), '/p/containers/a.termination-log', "without a plan, this layout's file")
  const partial = { file: '/bin/sh' } as unknown as SpawnPlan
  t.equal(terminationLogOf(partial, c, '/p'), '/p/containers/a.termination-log', "a stored plan without mounts (as the CRI tests' records): this layout's file")
  // kubelet binds its own file at /dev/termination-log (a CRI mount, after ours): it is not the pod's to make or remove.
  const p = plan(s)
  const ours = p.mounts.find(m => m.source === '/p/containers/a.termination-log')!
  const kubelet = { ...p, mounts: [...p.mounts, { ...ours, source: '/var/lib/kubelet/pods/u/containers/a/0b1c' }] }
  t.equal(terminationLogOf(kubelet, c, '/p'), '/p/containers/a.termination-log', "a kubelet's file bound there too: the pod's own file")
})
