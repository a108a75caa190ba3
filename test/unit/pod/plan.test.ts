import t from 'tap'
import { parseManifest } from '../../../src/index.js'
import { containerEnv, containerPlan, runConfig, sandboxNamespaces } from '../../../src/pod/index.js'
import type { NsType } from '../../../src/spawn/index.js'

const spec = (share: boolean) =>
  parseManifest({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web' },
    spec: { shareProcessNamespace: share, containers: [{ name: 'a', command: ['nginx', '-g', 'daemon off;'], workingDir: '/srv', env: [{ name: 'PATH', value: '/opt/bin:/bin' }, { name: 'X', value: '1' }] }] },
  }).spec

const fds = (types: NsType[]) => new Map(types.map((t, i) => [t, 100 + i] as [NsType, number]))
const facts = { podIP: '', hostIP: '', nodeName: 'node1' }
const plan = (s: ReturnType<typeof spec>, shared: Map<NsType, number>, stdio: [number, number, number]) =>
  containerPlan(s, s.containers[0], { shared, stdio, mounts: [{ target: '/x' }], run: runConfig(s, s.containers[0], facts) })

t.test('pause makes uts, ipc, net, and pid only when the pod shares it', async t => {
  t.same(sandboxNamespaces(spec(false)).sort(), ['ipc', 'net', 'uts'])
  t.same(sandboxNamespaces(spec(true)).sort(), ['ipc', 'net', 'pid', 'uts'])
})

t.test('a container joins ipc, uts, net in order and makes its own mnt and pid', async t => {
  const s = spec(false)
  const p = plan(s, fds(['net', 'uts', 'ipc']), [3, 4, 5])
  t.same(p.join, [{ type: 'ipc', fd: 102 }, { type: 'uts', fd: 101 }, { type: 'net', fd: 100 }])
  t.same(p.unshare, ['mnt', 'pid'])
  t.equal(p.pidns, undefined)
  t.same(p.argv, ['nginx', '-g', 'daemon off;'])
  t.equal(p.searchPath, '/opt/bin:/bin', 'the PATH of the container env is searched')
  t.equal(p.cwd, '/srv')
  t.same(p.stdio, [3, 4, 5])
  t.same(p.mounts, [{ target: '/x' }], 'the mount plan is passed through')
  t.ok(p.newSession && p.dieWithParent)
})

t.test('with a shared process namespace the container enters pause pid ns and makes only mnt', async t => {
  const s = spec(true)
  const p = plan(s, fds(['ipc', 'uts', 'net', 'pid']), [0, 1, 2])
  t.same(p.unshare, ['mnt'])
  t.equal(p.pidns, 103)
  t.notOk(p.join!.some(j => j.type === 'pid'), 'pid is joined by the parent (pid_for_children), not setns in the child')
})

t.test('container env: PATH, HOSTNAME, HOME defaults, then the spec (spec wins)', async t => {
  const s = spec(false)
  t.same([...containerEnv(s, s.containers[0], facts)], [['PATH', '/opt/bin:/bin'], ['HOSTNAME', 'web'], ['HOME', '/root'], ['X', '1']])
})
