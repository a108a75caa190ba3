import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { requires } from '../helpers/requires.js'
import { manifest, run, start, uniqueName } from '../helpers/pods.js'

const skip = requires('root', 'built')

t.test('a container has only fds 0, 1 and 2', { skip }, async t => {
  // Read from the host while it runs: nothing of Node's (epoll, eventfd, pipes,
  // the namespace fds of pause) may leak into the exec'd program.
  const { pod, waitFor } = await start(t, manifest(uniqueName('fds'), [{ name: 'a', command: ['sh', '-c', 'echo up; exec sleep 30'] }]))
  await waitFor('a', /^up$/)
  const pid = pod.runners[0].status.pid!
  // After `echo up` the shell execs sleep: wait until sleep is in its sleeping syscall (nanosleep 35 or
  // clock_nanosleep 230 on x86_64), past its own start-up (setlocale briefly opens a file), then look.
  const asleep = () => /sleep/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8')) && /^(35|230) /.test(readFileSync(`/proc/${pid}/syscall`, 'utf8'))
  for (let i = 0; i < 1000 && !asleep(); i++) await new Promise(r => setTimeout(r, 10))
  t.ok(asleep(), 'sleep is sleeping')
  t.same(readdirSync(`/proc/${pid}/fd`).sort(), ['0', '1', '2'])
  t.ok(readdirSync('/proc/self/fd').length > 3, 'the test process itself has more fds')
  await pod.stop({ force: true })
})

t.test('SIGPIPE and every other signal are default, none blocked, inside a container', { skip }, async t => {
  const { lines } = await run(t, manifest(uniqueName('sig'), [{ name: 'a', command: ['grep', '-E', '^Sig(Ign|Blk)', '/proc/self/status'] }]))
  t.same(lines('a'), ['SigBlk:\t0000000000000000', 'SigIgn:\t0000000000000000'])
})

t.test('a writer to a closed pipe dies of SIGPIPE (status 141), not of EPIPE', { skip }, async t => {
  // With SIGPIPE ignored (Node's own setting), yes would print "Broken pipe" and exit 1.
  const { stderr } = await run(t, manifest(uniqueName('pipe'), [{ name: 'a', command: ['sh', '-c', '(yes; echo "status $?" >&2) | head -n 1 >/dev/null'] }]))
  t.same(stderr('a'), ['status 141'])
})

t.test('stdin is /dev/null and stdout, stderr are the pod pipes', { skip }, async t => {
  const { lines, stderr } = await run(
    t,
    manifest(uniqueName('stdio'), [{ name: 'a', command: ['sh', '-c', 'stat -L -c %t:%T /proc/self/fd/0; echo to-out; echo to-err >&2'] }]),
  )
  t.same(lines('a'), ['1:3', 'to-out'], 'stdin is the null device (char 1:3)')
  t.same(stderr('a'), ['to-err'])
})
