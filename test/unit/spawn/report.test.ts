import t from 'tap'
import { parseReport, reportError, reportObject } from '../../../src/spawn/index.js'
import type { NativePlan } from '../../../src/index.js'

const steps = { 'spawn.plan': 0, 'child.setns': 6, 'child.exec': 17, 'child.chdir': 13, 'child.mount': 12 }
const plan: NativePlan = {
  argv: ['nginx', '-g', 'daemon off;'],
  envp: [],
  cwd: '/srv',
  join: [
    { type: 'ipc', fd: 20 },
    { type: 'net', fd: 21 },
  ],
  mounts: [
    { target: '/', flags: 0 },
    { source: 'proc', target: '/proc', fstype: 'proc', flags: 0 },
  ],
  stdio: [0, 1, 2],
}
const record = (step: number, errno: number, arg: number) => {
  const b = Buffer.alloc(12)
  b.writeInt32LE(step, 0)
  b.writeInt32LE(errno, 4)
  b.writeInt32LE(arg, 8)
  return b
}

t.test('an empty report means the exec happened; a short one is truncated', async t => {
  t.equal(parseReport(Buffer.alloc(0)), undefined)
  t.equal(parseReport(Buffer.alloc(5)), 'truncated')
  t.same(parseReport(record(17, 2, -1)), { step: 17, errno: 2, arg: -1 })
})

t.test('a record becomes `<step>: <object>: <reason> (<CODE>)` with a hint', async t => {
  const exec = reportError({ step: 17, errno: 2, arg: -1 }, steps, plan)
  t.equal(exec.message, 'child.exec: nginx: no such file or directory (ENOENT)')
  t.equal(exec.code, 'ENOENT')
  t.match(exec.hint, /command/)
  const setns = reportError({ step: 6, errno: 1, arg: 1 }, steps, plan, { join: ['/proc/41/ns/ipc', '/proc/41/ns/net'] })
  t.equal(setns.message, 'child.setns: /proc/41/ns/net: operation not permitted (EPERM)')
  t.match(setns.hint, /run as root/)
  t.equal(reportError({ step: 13, errno: 20, arg: -1 }, steps, plan).message, 'child.chdir: /srv: not a directory (ENOTDIR)')
})

t.test('the object of each step comes from the plan', async t => {
  t.equal(reportObject('child.mount', 1, plan), 'proc on /proc')
  t.equal(reportObject('child.mount', 0, plan), 'remount on /')
  t.equal(reportObject('child.setns', 0, plan), 'ipc namespace')
  t.equal(reportObject('child.stdio', 2, plan), 'fd 2')
})

t.test('an unknown step id still gives a readable message', async t => {
  t.equal(reportError({ step: 99, errno: 5, arg: -1 }, steps, plan).message, 'child.step-99: -: i/o error (EIO)')
})
