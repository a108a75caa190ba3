import t from 'tap'
import { constants } from 'node:os'
import { LINUX_STOP_SIGNALS, parseStopSignal, signalNumber } from '../../../src/spec/index.js'

t.test('the API server list: 34 standard names, SIGRTMIN..SIGRTMIN+15, SIGRTMAX-14..SIGRTMAX', async t => {
  t.equal(LINUX_STOP_SIGNALS.length, 65)
  t.equal(new Set(LINUX_STOP_SIGNALS).size, 65)
  t.ok(LINUX_STOP_SIGNALS.includes('SIGRTMIN+15') && LINUX_STOP_SIGNALS.includes('SIGRTMAX-14'))
})

t.test('signal numbers: standard ones as the kernel has them, aliases, real-time ones as glibc numbers them (SIGRTMIN 34)', async t => {
  t.equal(signalNumber('SIGTERM'), constants.signals.SIGTERM)
  t.equal(signalNumber('SIGQUIT'), 3)
  t.equal(signalNumber('SIGCLD'), constants.signals.SIGCHLD)
  t.equal(signalNumber('SIGPOLL'), constants.signals.SIGIO)
  t.equal(signalNumber('SIGIOT'), 6)
  t.equal(signalNumber('SIGRTMIN'), 34)
  t.equal(signalNumber('SIGRTMIN+15'), 49)
  t.equal(signalNumber('SIGRTMAX-14'), 50)
  t.equal(signalNumber('SIGRTMAX'), 64)
  t.equal(signalNumber('QUIT'), undefined, 'only canonical names')
  t.equal(signalNumber('SIGRTMIN+16'), undefined)
  for (const s of LINUX_STOP_SIGNALS) t.type(signalNumber(s), 'number', s)
})

t.test("an image's StopSignal as containerd parses it: number, name with or without SIG, any case", async t => {
  t.equal(parseStopSignal('SIGQUIT'), 'SIGQUIT')
  t.equal(parseStopSignal('quit'), 'SIGQUIT')
  t.equal(parseStopSignal('3'), 'SIGQUIT')
  t.equal(parseStopSignal('RTMIN+3'), 'SIGRTMIN+3')
  t.equal(parseStopSignal('37'), 'SIGRTMIN+3')
  t.equal(parseStopSignal('50'), 'SIGRTMAX-14')
  t.equal(parseStopSignal('64'), 'SIGRTMAX')
  t.equal(parseStopSignal('SIGWINCH'), 'SIGWINCH')
  for (const bad of ['', '0', '65', 'SIGFOO', 'TERM!', '-1']) t.equal(parseStopSignal(bad), undefined, JSON.stringify(bad))
})
