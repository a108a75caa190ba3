import t from 'tap'
import { closeSync, openSync, readSync } from 'node:fs'
import { RunStdio, type AttachClient, type AttachedIo } from '../../../src/pod/stdio.js'

/** Any fd stands for /dev/null here: RunStdio never closes it. */
const DEV_NULL = 0

function client(): AttachClient & { io?: AttachedIo } {
  const c: AttachClient & { io?: AttachedIo } = {
    started: io => (c.io = io),
    output: () => {},
    ended: () => {},
  }
  return c
}

/** Read the container side of the stdin pipe to EOF (what `cat` would see). */
function drain(fd: number): string {
  const buf = Buffer.alloc(256)
  let text = ''
  for (;;) {
    const n = readSync(fd, buf)
    if (n === 0) return text
    text += buf.subarray(0, n).toString()
  }
}

t.test('without stdin the container reads /dev/null: the plan keeps the given fd', async t => {
  const io = new RunStdio({ name: 'a', stdin: false, stdinOnce: false, tty: false }, DEV_NULL)
  t.equal(io.plan.stdio[0], 0)
  t.equal(io.plan.tty, undefined)
  io.afterSpawn(false)
})

t.test('stdinOnce: input reaches the pipe, and the first session end closes it (EOF)', async t => {
  const io = new RunStdio({ name: 'a', stdin: true, stdinOnce: true, tty: false }, DEV_NULL)
  const r = io.plan.stdio[0]
  t.not(r, DEV_NULL, 'stdin is a pipe of its own')
  // Keep the read end as the child would: afterSpawn closes our copy.
  const childCopy = openSync(`/proc/self/fd/${r}`, 'r')
  io.afterSpawn(true)
  const c = client()
  io.attach(c)
  t.equal(c.io!.stdin, true)
  c.io!.write(Buffer.from('hello\n'))
  c.io!.end()
  t.equal(c.io!.stdin, false, 'no more input after the session')
  await new Promise(res => setTimeout(res, 50))
  t.equal(drain(childCopy), 'hello\n', 'the data, then EOF')
  closeSync(childCopy)
  io.close()
})

t.test('without stdinOnce a session end leaves stdin open', async t => {
  const io = new RunStdio({ name: 'a', stdin: true, stdinOnce: false, tty: false }, DEV_NULL)
  io.afterSpawn(true)
  const a = client()
  io.attach(a)
  a.io!.end()
  const b = client()
  io.attach(b)
  t.equal(b.io!.stdin, true, 'the next session can still write')
  io.close()
  t.equal(b.io!.stdin, false)
})
