import t from 'tap'
import { fileURLToPath } from 'node:url'
import { namespaceInodes } from '../../src/index.js'
import { requires } from '../helpers/requires.js'
import { manifest, run, start, uniqueName } from '../helpers/pods.js'

const report = fileURLToPath(new URL('../fixtures/ns-report.mjs', import.meta.url))
const node = process.execPath
const skip = requires('root', 'built')

type Report = { pid: number; hostname: string; ns: Record<string, number>; loUp: boolean; procPids: number[]; pid1: string }
const parse = (lines: string[]): Report => JSON.parse(lines.find(l => l.startsWith('{'))!)

t.test('containers share pause uts, ipc and net, and have their own mnt and pid', { skip }, async t => {
  const name = uniqueName('ns')
  const { pod, lines, result } = await run(
    t,
    manifest(name, [
      { name: 'a', command: [node, report] },
      { name: 'b', command: [node, report] },
    ]),
  )
  t.equal(result.exitCode, 0)
  const pause = pod.sandbox.namespaces
  const host = namespaceInodes('self')
  for (const c of ['a', 'b']) {
    const r = parse(lines(c))
    for (const type of ['uts', 'ipc', 'net'] as const) {
      t.equal(r.ns[type], pause[type], `${c} ${type} is pause's`)
      t.not(r.ns[type], host[type], `${c} ${type} is not the host's`)
    }
    t.not(r.ns.mnt, host.mnt, `${c} mnt is its own`)
    t.not(r.ns.pid, host.pid, `${c} pid is its own`)
    t.not(r.ns.pid, pause.pid, `${c} pid is not pause's`)
    t.equal(r.pid, 1, `${c} is pid 1 of its pid namespace`)
    t.equal(r.hostname, name, `${c} hostname is the pod name`)
    t.ok(r.loUp, `${c} sees lo up`)
  }
  t.not(parse(lines('a')).ns.mnt, parse(lines('b')).ns.mnt, 'a and b have different mnt namespaces')
  t.not(parse(lines('a')).ns.pid, parse(lines('b')).ns.pid, 'a and b have different pid namespaces')
})

t.test('with shareProcessNamespace containers join pause pid namespace and pause is pid 1', { skip }, async t => {
  const { pod, lines, result } = await run(
    t,
    manifest(
      uniqueName('sharepid'),
      [
        { name: 'a', command: [node, report] },
        { name: 'b', command: [node, report] },
      ],
      { shareProcessNamespace: true },
    ),
  )
  t.equal(result.exitCode, 0)
  for (const c of ['a', 'b']) {
    const r = parse(lines(c))
    t.equal(r.ns.pid, pod.sandbox.namespaces.pid, `${c} is in pause's pid namespace`)
    t.not(r.ns.pid, namespaceInodes('self').pid, `${c} is not in the host's`)
    t.match(r.pid1, /\/pause$/, `${c} sees pause as pid 1`)
    t.not(r.pid, 1, `${c} is not pid 1`)
  }
})

t.test('the host hostname is unchanged by a pod', { skip }, async t => {
  const { hostname } = await import('node:os')
  const before = hostname()
  const { pod } = await start(t, manifest(uniqueName('uts'), [{ name: 'a', command: ['sleep', '0.2'] }]))
  await pod.wait()
  t.equal(hostname(), before)
})

t.test("hostNetwork, hostIPC and hostPID keep those namespaces the host's", { skip }, async t => {
  const { pod, lines, result } = await run(
    t,
    manifest(uniqueName('hostns'), [{ name: 'a', command: [node, report] }], { hostNetwork: true, hostIPC: true, hostPID: true }),
  )
  t.equal(result.exitCode, 0)
  const host = namespaceInodes('self')
  const r = parse(lines('a'))
  for (const type of ['net', 'uts', 'ipc', 'pid'] as const) t.equal(r.ns[type], host[type], `${type} is the host's`)
  t.not(r.ns.mnt, host.mnt, 'mnt is still its own')
  t.equal(pod.sandbox.namespaces.net, host.net, 'pause made no net namespace')
})
