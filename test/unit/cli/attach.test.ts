import t from 'tap'
import { EventEmitter } from 'node:events'
import { PassThrough } from 'node:stream'
import { parseManifest, attachTarget } from '../../../src/index.js'
import { foregroundTarget, ForegroundClient } from '../../../src/cli/attach.js'
import { LocalTerminal } from '../../../src/cli/terminal.js'
import type { AttachedIo } from '../../../src/index.js'

const spec = (containers: object[], initContainers: object[] = []) =>
  parseManifest({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: { initContainers, containers: containers.map(c => ({ command: ['sh'], ...c })) },
  }).spec

t.test('the foreground attaches the first regular container with stdin or tty, and names the others', async t => {
  const s = spec([{ name: 'a' }, { name: 'b', stdin: true }, { name: 'c', tty: true, stdin: true }], [{ name: 'i', command: ['true'], stdin: true }])
  const target = foregroundTarget(s)!
  t.equal(target.container.name, 'b')
  t.same(target.others, ['i', 'c'])
  t.equal(foregroundTarget(spec([{ name: 'a' }])), undefined, 'none: the terminal is left alone')
})

t.test('attach picks -c (init containers too), else the first with stdin or tty, else the first', async t => {
  const s = spec([{ name: 'a' }, { name: 'b', tty: true }], [{ name: 'i', command: ['true'] }])
  t.equal(attachTarget(s), 'b')
  t.equal(attachTarget(s, 'i'), 'i')
  t.equal(attachTarget(s, 'nope'), undefined)
  t.equal(attachTarget(spec([{ name: 'x' }, { name: 'y' }])), 'x')
})

/** A terminal-like stdin/stdout pair that records raw mode. */
function fakeTerminal(rows = 24, cols = 80) {
  const stdin = Object.assign(new PassThrough(), { isTTY: true, isRaw: false, modes: [] as boolean[] })
  ;(stdin as unknown as { setRawMode: (on: boolean) => void }).setRawMode = (on: boolean) => {
    stdin.isRaw = on
    stdin.modes.push(on)
  }
  const stdout = Object.assign(new EventEmitter(), { isTTY: true, rows, columns: cols })
  return { stdin, stdout, term: new LocalTerminal(stdin as unknown as NodeJS.ReadStream, stdout as unknown as NodeJS.WriteStream) }
}

function fakeRun(tty: boolean, stdin = true) {
  const seen = { input: [] as string[], sizes: [] as string[], ended: 0 }
  const io: AttachedIo = {
    tty,
    stdin,
    write: d => seen.input.push(d.toString()),
    resize: s => seen.sizes.push(`${s.rows}x${s.cols}`),
    end: () => seen.ended++,
  }
  return { io, seen }
}

t.test('a tty run: raw mode, input forwarded, resizes followed, Ctrl-P Ctrl-Q detaches and restores', async t => {
  const { stdin, stdout, term } = fakeTerminal(33, 101)
  const io = { out: () => {}, err: () => {} }
  const client = new ForegroundClient(spec([{ name: 'sh', tty: true, stdin: true }]).containers[0], io, term)
  t.same(client.size(), { rows: 33, cols: 101 }, 'the tty starts with our size')
  const { io: run, seen } = fakeRun(true)
  client.started(run)
  t.equal(stdin.isRaw, true)
  t.equal(client.active(), true, 'the [name] printer leaves this container to us')
  stdin.write('ls\r')
  await new Promise(r => setImmediate(r))
  stdout.rows = 40
  stdout.columns = 120
  stdout.emit('resize')
  stdin.write('\x10\x11')
  await new Promise(r => setImmediate(r))
  t.same(seen.input, ['ls\r'])
  t.same(seen.sizes, ['33x101', '40x120'])
  t.equal(seen.ended, 1, 'the session ended (stdinOnce would close)')
  t.equal(stdin.isRaw, false, 'terminal restored')
  t.equal(client.active(), false, 'its lines are printed again')
  client.started(fakeRun(true).io)
  t.equal(stdin.isRaw, false, 'a detached foreground does not re-attach on restart')
})

t.test('a stdin-only run: no raw mode; the end of our input ends the session', async t => {
  const { stdin, term } = fakeTerminal()
  const client = new ForegroundClient(spec([{ name: 'cat', stdin: true }]).containers[0], { out: () => {}, err: () => {} }, term)
  t.equal(client.size(), undefined)
  const { io: run, seen } = fakeRun(false)
  client.started(run)
  t.equal(stdin.isRaw, false)
  t.equal(client.active(), false, 'lines keep their [name] prefix')
  stdin.end('a\x10\x11b\n')
  await new Promise(r => setImmediate(r))
  t.same(seen.input, ['a\x10\x11b\n'], 'no detach keys outside raw mode')
  t.equal(seen.ended, 1)
  client.ended()
  t.same(stdin.modes, [])
})
