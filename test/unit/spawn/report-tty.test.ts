import t from 'tap'
import { reportError } from '../../../src/spawn/index.js'

const steps = { 'child.tty': 14 }
const plan = { argv: ['sh'], envp: [], stdio: [0, 1, 2] as [number, number, number], tty: { socket: 9, rows: 0, cols: 0 }, newSession: true }

t.test('child.tty failures name what the child was doing with the pty', async t => {
  t.equal(reportError({ step: 14, errno: 2, arg: 0 }, steps, plan).message, 'child.tty: /dev/ptmx: no such file or directory (ENOENT)')
  t.match(reportError({ step: 14, errno: 2, arg: 0 }, steps, plan).hint, /devpts/)
  t.equal(
    reportError({ step: 14, errno: 1, arg: 5 }, steps, plan).message,
    'child.tty: the pty slave as controlling terminal (TIOCSCTTY): operation not permitted (EPERM)',
  )
  t.equal(reportError({ step: 14, errno: 32, arg: 4 }, steps, plan).message, 'child.tty: the pty master to the parent (SCM_RIGHTS): broken pipe (EPIPE)')
  t.equal(reportError({ step: 14, errno: 22, arg: 9 }, steps, plan).message, 'child.tty: pseudo-terminal: invalid argument (EINVAL)')
})
