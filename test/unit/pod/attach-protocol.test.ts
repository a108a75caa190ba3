import t from 'tap'
import { DetachKeys, FRAME, FrameDecoder, encodeFrame, parseResize, resizeFrame } from '../../../src/pod/index.js'

t.test('frames survive any split of the byte stream', async t => {
  const stream = Buffer.concat([
    encodeFrame(FRAME.STDIN, Buffer.from('ls\r')),
    resizeFrame(33, 101),
    encodeFrame(FRAME.STDIN_END),
    encodeFrame(FRAME.HELLO, { tty: true }),
  ])
  for (let cut = 0; cut <= stream.length; cut++) {
    const d = new FrameDecoder()
    const frames = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))]
    t.same(
      frames.map(f => f.type),
      [FRAME.STDIN, FRAME.RESIZE, FRAME.STDIN_END, FRAME.HELLO],
      `cut at ${cut}`,
    )
    t.equal(frames[0].payload.toString(), 'ls\r')
    t.same(parseResize(frames[1].payload), { rows: 33, cols: 101 })
    t.equal(frames[2].payload.length, 0)
    t.same(JSON.parse(frames[3].payload.toString()), { tty: true })
  }
})

t.test('byte by byte too', async t => {
  const d = new FrameDecoder()
  const out = [...encodeFrame(FRAME.STDOUT, Buffer.from('hello'))].flatMap(b => d.push(Buffer.from([b])))
  t.equal(out.length, 1)
  t.equal(out[0].payload.toString(), 'hello')
})

t.test('an oversized frame is refused (a peer speaking something else)', async t => {
  const head = Buffer.from([FRAME.STDIN, 0xff, 0xff, 0xff, 0xff])
  t.throws(() => new FrameDecoder().push(head), /over the/)
})

t.test('a resize payload of the wrong size is ignored; sizes clamp to uint16', async t => {
  t.equal(parseResize(Buffer.alloc(3)), undefined)
  t.same(parseResize(new FrameDecoder().push(resizeFrame(70000, -1))[0].payload), { rows: 65535, cols: 0 })
})

t.test('Ctrl-P Ctrl-Q detaches and is not forwarded, even split across reads', async t => {
  const k = new DetachKeys()
  t.same(k.push(Buffer.from('ab\x10')), { data: Buffer.from('ab'), detach: false }, 'a trailing Ctrl-P is held')
  t.same(k.push(Buffer.from('\x11zz')), { data: Buffer.alloc(0), detach: true }, 'nothing after the sequence is forwarded')
})

t.test('a Ctrl-P not followed by Ctrl-Q is passed on', async t => {
  const k = new DetachKeys()
  t.same(k.push(Buffer.from('\x10x')), { data: Buffer.from('\x10x'), detach: false })
  t.same(k.push(Buffer.from('\x10')), { data: Buffer.alloc(0), detach: false })
  t.same(k.push(Buffer.from('\x10\x11')), { data: Buffer.from('\x10'), detach: true }, 'Ctrl-P Ctrl-P Ctrl-Q: the first goes through')
})
