import t from 'tap'
import { errnoName, hintFor, ignoreEnoent, PodError } from '../../src/errors.js'

t.test('errno names and descriptions, including ones libuv lacks', async t => {
  t.same(errnoName(2), ['ENOENT', 'no such file or directory'])
  t.same(errnoName(8), ['ENOEXEC', 'exec format error'])
  t.same(errnoName(-1), ['EPERM', 'operation not permitted'])
  t.same(errnoName(4000), ['E4000', 'error 4000'])
})

t.test('hints: step + code first, then any step with the code', async t => {
  t.match(hintFor('child.exec', 'ENOENT'), /executable/)
  t.match(hintFor('child.setns', 'EPERM'), /run as root/)
  t.equal(hintFor('child.exec', 'EIO'), undefined)
})

t.test('PodError.system wraps a Node error with its errno, keeping the cause', async t => {
  const cause = Object.assign(new Error('ENOENT: no such file'), { errno: -2, code: 'ENOENT', syscall: 'open', path: '/x' })
  const e = PodError.system('spec.read', cause, '/x', { exitCode: 2 })
  t.equal(e.message, 'spec.read: /x: no such file or directory (ENOENT)')
  t.equal(e.cause, cause)
  t.equal(e.exitCode, 2)
  t.equal(e.syscall, 'open')
})

t.test('ignoreEnoent ignores ENOENT only', async t => {
  t.equal(
    ignoreEnoent(() => {
      throw Object.assign(new Error('x'), { code: 'ENOENT' })
    }),
    undefined,
  )
  t.throws(
    () =>
      ignoreEnoent(() => {
        throw Object.assign(new Error('y'), { code: 'EACCES' })
      }),
    { code: 'EACCES' },
  )
})
