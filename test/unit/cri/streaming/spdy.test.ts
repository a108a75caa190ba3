import t, { type Test } from 'tap'
import { constants as zc, createInflate, inflateSync } from 'node:zlib'
import { SPDY_DICTIONARY } from '../../../../src/cri/streaming/spdy-dictionary.js'
import {
  CONTROL,
  FLAG_FIN,
  FrameReader,
  RST,
  SETTINGS_INITIAL_WINDOW_SIZE,
  StoredDeflater,
  controlFrame,
  dataFrame,
  decodeHeaderBlock,
  encodeHeaderBlock,
  parseWords,
} from '../../../../src/cri/streaming/spdy-frames.js'
import { SpdySession, type SpdyStream } from '../../../../src/cri/streaming/spdy-session.js'
import { SpdyTestClient, socketPair } from '../../../helpers/spdy-client.js'

t.test('the header dictionary is the one of the SPDY/3 spec', async t => {
  t.equal(SPDY_DICTIONARY.length, 1423)
  t.equal(SPDY_DICTIONARY.subarray(0, 11).toString('latin1'), '\0\0\0\x07options')
  t.ok(SPDY_DICTIONARY.toString('latin1').endsWith('utf-,*,enq=0.'))
})

t.test('frames survive any split of the byte stream', async t => {
  const stream = Buffer.concat([
    controlFrame(CONTROL.PING, 0, Buffer.from([0, 0, 0, 1])),
    dataFrame(3, FLAG_FIN, Buffer.from('hello')),
    controlFrame(CONTROL.RST_STREAM, 0, Buffer.from([0, 0, 0, 3, 0, 0, 0, 5])),
  ])
  for (let cut = 0; cut <= stream.length; cut++) {
    const r = new FrameReader()
    const frames = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))]
    t.same(
      frames.map(f => (f.control ? `c${f.type}` : `d${f.streamId}:${f.flags}:${f.data.toString()}`)),
      ['c6', 'd3:1:hello', 'c3'],
      `cut at ${cut}`,
    )
  }
})

t.test('a control frame of another SPDY version is refused', async t => {
  const f = controlFrame(CONTROL.PING, 0, Buffer.alloc(4))
  f.writeUInt16BE(0x8002, 0)
  t.throws(() => new FrameReader().push(f), /version 2/)
})

t.test('header blocks carry lower-case names and NUL-joined values', async t => {
  const block = encodeHeaderBlock([
    ['StreamType', ['stdout']],
    ['X-Multi', ['a', 'b']],
  ])
  const h = decodeHeaderBlock(block)
  t.same(
    [...h.entries()],
    [
      ['streamtype', ['stdout']],
      ['x-multi', ['a', 'b']],
    ],
  )
  t.throws(() => decodeHeaderBlock(block.subarray(0, block.length - 1)), /ends inside/)
})

t.test('stored header blocks inflate one at a time, each complete at its sync point', async t => {
  const d = new StoredDeflater()
  const blocks = [encodeHeaderBlock([['a', ['1']]]), encodeHeaderBlock([]), encodeHeaderBlock([['big', ['x'.repeat(70_000)]]])]
  const wire = blocks.map(b => d.compress(b))
  t.same(wire[0].subarray(0, 2), Buffer.from([0x78, 0x01]), 'zlib header, no preset dictionary')
  t.same(wire[1].subarray(-5), Buffer.from([0, 0, 0, 0xff, 0xff]), 'each block ends with the sync-flush marker')
  // One inflater across the blocks, as a peer keeps one for the session.
  const inf = createInflate({ dictionary: SPDY_DICTIONARY })
  for (const [i, w] of wire.entries()) {
    const out = await new Promise<Buffer>(resolve => {
      const chunks: Buffer[] = []
      const on = (c: Buffer) => chunks.push(c)
      inf.on('data', on)
      inf.write(w)
      inf.flush(zc.Z_SYNC_FLUSH, () => (inf.off('data', on), resolve(Buffer.concat(chunks))))
    })
    t.same(out, blocks[i], `block ${i}`)
  }
  t.same(inflateSync(Buffer.concat(wire), { finishFlush: zc.Z_SYNC_FLUSH }), Buffer.concat(blocks))
})

async function session(t: Test, onStream: (s: SpdyStream) => void = s => s.reply()) {
  const [server, client] = await socketPair()
  const sess = new SpdySession(server, onStream)
  const c = new SpdyTestClient(client)
  t.teardown(() => {
    sess.close()
    client.destroy()
  })
  return { sess, c }
}

t.test('a stream: SYN_STREAM, SYN_REPLY, DATA both ways, FIN each way', async t => {
  let stream: SpdyStream | undefined
  const { c } = await session(t, s => {
    stream = s
    s.reply()
  })
  await c.synStream(1, { streamType: 'stdin', port: '80' })
  const reply = await c.until('SYN_REPLY', fs => fs.find(f => f.frame.control && f.frame.type === CONTROL.SYN_REPLY))
  t.equal(parseWords(reply.frame.data, 1, 'SYN_REPLY')[0], 1)
  t.same([...reply.headers!.keys()], [])
  t.equal(stream!.header('StreamType'), 'stdin', 'headers are case-insensitive')
  const got: Buffer[] = []
  stream!.on('data', (d: Buffer) => got.push(d))
  const ended = new Promise(resolve => stream!.once('end', resolve))
  c.data(1, 'ping')
  c.data(1, '', FLAG_FIN)
  await ended
  t.equal(Buffer.concat(got).toString(), 'ping')
  stream!.end('pong')
  await c.until('FIN', () => c.finOn(1))
  t.equal(c.dataOn(1).toString(), 'pong')
})

t.test('PINGs from the client are echoed', async t => {
  const { c } = await session(t)
  c.control(CONTROL.PING, Buffer.from([0, 0, 0, 7]))
  const pong = await c.until('PING', () => c.controls(CONTROL.PING)[0])
  t.equal(pong.data.readUInt32BE(0), 7)
})

t.test('a reset from the client closes the stream without a reset back; ours sends CANCEL', async t => {
  const streams: SpdyStream[] = []
  const { c } = await session(t, s => (streams.push(s), s.reply()))
  await c.synStream(1, { streamType: 'data' })
  await c.synStream(3, { streamType: 'error' })
  await c.until('two streams', () => streams.length === 2)
  const closed = new Promise(resolve => streams[0].once('close', resolve))
  c.control(CONTROL.RST_STREAM, Buffer.from([0, 0, 0, 1, 0, 0, 0, RST.CANCEL]))
  await closed
  streams[1].destroy()
  const rst = await c.until('RST_STREAM', () => c.controls(CONTROL.RST_STREAM)[0])
  t.same(parseWords(rst.data, 2, 'RST'), [3, RST.CANCEL])
  t.equal(c.controls(CONTROL.RST_STREAM).length, 1)
})

t.test('a stream id that is even or goes backwards is refused', async t => {
  const seen: number[] = []
  const { c } = await session(t, s => (seen.push(s.id), s.reply()))
  await c.synStream(5, { a: '1' })
  await c.synStream(2, { a: '2' })
  await c.synStream(3, { a: '3' })
  const rsts = await c.until('two resets', () => c.controls(CONTROL.RST_STREAM).length === 2 && c.controls(CONTROL.RST_STREAM))
  t.same(
    rsts.map(f => parseWords(f.data, 2, 'RST')[0]),
    [2, 3],
  )
  t.same(seen, [5])
})

t.test('what we receive is credited back with WINDOW_UPDATE (stream and session)', async t => {
  const { c } = await session(t, s => (s.reply(), s.resume()))
  await c.synStream(1, { streamType: 'stdin' })
  c.data(1, Buffer.alloc(40 * 1024))
  const updates = await c.until('two WINDOW_UPDATEs', () => c.controls(CONTROL.WINDOW_UPDATE).length >= 2 && c.controls(CONTROL.WINDOW_UPDATE))
  t.same(
    updates.map(f => parseWords(f.data, 2, 'WU')),
    [
      [1, 40 * 1024],
      [0, 40 * 1024],
    ],
  )
})

t.test('once the peer keeps windows, we send no more than its window', async t => {
  let stream: SpdyStream | undefined
  const { c } = await session(t, s => ((stream = s), s.reply()))
  const settings = Buffer.alloc(12)
  settings.writeUInt32BE(1, 0)
  settings.writeUInt32BE(SETTINGS_INITIAL_WINDOW_SIZE, 4)
  settings.writeUInt32BE(10, 8)
  c.control(CONTROL.SETTINGS, settings)
  await c.synStream(1, { streamType: 'stdout' })
  await c.until('stream', () => stream)
  stream!.write('0123456789abcdefghij')
  await c.until('10 bytes', () => c.dataOn(1).length === 10)
  await new Promise(r => setTimeout(r, 100))
  t.equal(c.dataOn(1).toString(), '0123456789', 'held at the window')
  c.control(CONTROL.WINDOW_UPDATE, Buffer.from([0, 0, 0, 1, 0, 0, 0, 10]))
  await c.until('20 bytes', () => c.dataOn(1).length === 20)
  t.equal(c.dataOn(1).toString(), '0123456789abcdefghij')
})

t.test('garbage ends the session with GOAWAY', async t => {
  const { sess, c } = await session(t)
  const closed = new Promise(resolve => sess.once('close', resolve))
  const bad = controlFrame(CONTROL.SYN_STREAM, 0, Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from('not zlib')]))
  c.socket.write(bad)
  await closed
  await c.until('GOAWAY', () => c.controls(CONTROL.GOAWAY)[0] ?? (c.closed && ({} as never)))
  t.ok(sess.closed)
})
