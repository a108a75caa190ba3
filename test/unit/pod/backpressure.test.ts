import t from 'tap'
import { spawn } from 'node:child_process'
import { closeSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { native } from '../../../src/spawn/index.js'
import { CriLogFile, readPipe } from '../../../src/pod/logs.js'

t.test('a terminal that cannot keep up pauses the pipe, so the writer blocks instead of us buffering', async t => {
  const [r, w] = native().pipe()
  // 10 000 lines of 100 bytes: about 1 MB, far more than a pipe holds.
  const writer = spawn('sh', ['-c', 'i=0; while [ $i -lt 10000 ]; do printf "%099d\\n" $i; i=$((i+1)); done'], { stdio: ['ignore', w, 'ignore'] })
  closeSync(w)
  let writerDone = false
  writer.on('exit', () => (writerDone = true))

  const pending: (() => void)[] = []
  let blocked = true
  const terminal = new Writable({
    highWaterMark: 1024,
    write(_chunk, _enc, cb) {
      if (blocked) pending.push(cb)
      else cb()
    },
  })
  let lines = 0
  const log = new CriLogFile(join(t.testdir(), '0.log'))
  const reader = readPipe(
    r,
    'stdout',
    log,
    line => {
      lines++
      terminal.write(line + '\n')
    },
    terminal,
  )

  await new Promise(res => setTimeout(res, 500))
  t.ok(lines < 2000, `while the terminal is stuck only a bounded amount was read (${lines} lines)`)
  t.notOk(writerDone, 'the writer is blocked in write(2), not finished')

  blocked = false
  pending.splice(0).forEach(cb => cb())
  await reader.done
  await log.end()
  t.equal(lines, 10000, 'once the terminal drains, every line arrives')
  await new Promise(res => (writerDone ? res(undefined) : writer.on('exit', res)))
})

t.test('a stuck log file gets one drain listener, however many records are waiting; a failed one releases the pipe', async t => {
  const [r, w] = native().pipe()
  const writer = spawn('sh', ['-c', 'i=0; while [ $i -lt 3000 ]; do printf "%099d\\n" $i; i=$((i+1)); done'], { stdio: ['ignore', w, 'ignore'] })
  closeSync(w)
  const writerExit = new Promise(res => writer.on('exit', res))
  const warnings: string[] = []
  const onWarning = (e: Error) => warnings.push(e.name)
  process.on('warning', onWarning)
  t.teardown(() => process.off('warning', onWarning))
  const log = new CriLogFile(join(t.testdir(), '0.log'))
  // The file never completes a write (a stuck disk): every record after the first finds it full.
  const sink = log.sink as unknown as { _write: (c: Buffer, e: string, cb: (err?: Error) => void) => void; _writev?: unknown }
  const held: ((err?: Error) => void)[] = []
  sink._write = (_c, _e, cb) => void held.push(cb)
  sink._writev = undefined
  let lines = 0
  const reader = readPipe(r, 'stdout', log, () => lines++)
  await new Promise(res => setTimeout(res, 300))
  t.ok(log.sink.listenerCount('drain') <= 1, `drain listeners: ${log.sink.listenerCount('drain')}`)
  // The disk fails (ENOSPC): the stream is destroyed; the pipe must not stay paused.
  held.splice(0).forEach(cb => cb(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })))
  await reader.done
  t.equal(lines, 3000, 'every line still reached the caller')
  t.notOk(warnings.includes('MaxListenersExceededWarning'))
  await writerExit
})
