// CRI log format: what a container wrote comes back byte for byte from the
// records, whatever the chunking of the pipe.
import t from 'tap'
import { existsSync, readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { CriLogFile, MAX_RECORD_BYTES, RecordSplitter, parseCriLog, rfc3339Nano, type Stream } from '../../../src/pod/logs.js'

const MAX = MAX_RECORD_BYTES
const NL = Buffer.from('\n')
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/

interface Rec {
  full: boolean
  content: Buffer
}

/** Feed `chunks` to a RecordSplitter, flush, and return its records (copied). */
function split(chunks: Buffer[]): Rec[] {
  const out: Rec[] = []
  const s = new RecordSplitter((content, full) => out.push({ full, content: Buffer.from(content) }))
  for (const c of chunks) s.push(c)
  s.flush()
  return out
}

/** What the container wrote, from records: F adds the newline the split removed. */
const bytesOf = (recs: Rec[]) => Buffer.concat(recs.flatMap(r => (r.full ? [r.content, NL] : [r.content])))

/** Records as `[F|P, length]` pairs: short to compare and to read in a failure. */
const shape = (recs: Rec[]) => recs.map(r => `${r.full ? 'F' : 'P'}${r.content.length}`)

/** Split `input` into a CriLogFile in `dir`, read the file back and parse it. */
async function throughFile(dir: string, input: Buffer, chunks = [input], stream: Stream = 'stdout') {
  const log = new CriLogFile(join(dir, 'c.log'))
  const s = new RecordSplitter((content, full) => log.write(stream, content, full))
  for (const c of chunks) s.push(c)
  s.flush()
  await log.end()
  const raw = readFileSync(log.path)
  return { raw, records: parseCriLog(raw) }
}

/** Cut `buf` at the given increasing offsets. */
const cut = (buf: Buffer, offsets: number[]) => [0, ...offsets].map((start, i) => buf.subarray(start, offsets[i] ?? buf.length))

/** Deterministic PRNG (mulberry32), so a failure can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

t.test('plain lines are one F record each and come back byte for byte', async t => {
  const input = Buffer.from('hello\nworld, with spaces F P\n')
  const { raw, records } = await throughFile(t.testdir(), input)
  t.same(
    records.map(r => [r.stream, r.full, r.content.toString()]),
    [
      ['stdout', true, 'hello'],
      ['stdout', true, 'world, with spaces F P'],
    ],
  )
  t.match(raw.toString(), /^\S+ stdout F hello\n\S+ stdout F world, with spaces F P\n$/)
  t.ok(
    records.every(r => TIME.test(r.time)),
    'every record has an RFC 3339 nano time',
  )
  t.same(bytesOf(records), input)
})

t.test('an unterminated last line is flushed as a P record, without a newline added', async t => {
  const input = Buffer.from('first\nno newline at the end')
  const { raw, records } = await throughFile(t.testdir(), input)
  t.same(shape(records), ['F5', 'P21'])
  t.equal(records[1].content.toString(), 'no newline at the end')
  t.match(raw.toString(), / stdout P no newline at the end\n$/)
  t.same(bytesOf(records), input)
})

t.test('a line longer than MAX_RECORD_BYTES is split into P records, then an F record', async t => {
  t.equal(MAX, 16384, 'containerd splits at 16 KiB')
  const line = Buffer.alloc(2 * MAX + 5, 'x')
  const input = Buffer.concat([line, NL, Buffer.from('next\n')])
  const { records } = await throughFile(t.testdir(), input)
  t.same(shape(records), [`P${MAX}`, `P${MAX}`, 'F5', 'F4'])
  t.same(bytesOf(records), input)
})

t.test('a line of exactly MAX_RECORD_BYTES is one F record; one byte more makes a P and an F', async t => {
  t.same(shape(split([Buffer.concat([Buffer.alloc(MAX, 'a'), NL])])), [`F${MAX}`])
  t.same(shape(split([Buffer.concat([Buffer.alloc(MAX + 1, 'a'), NL])])), [`P${MAX}`, 'F1'])
  t.same(shape(split([Buffer.alloc(MAX, 'a')])), [`P${MAX}`], 'unterminated: P at flush')
  t.same(shape(split([Buffer.alloc(2 * MAX, 'a')])), [`P${MAX}`, `P${MAX}`])
})

t.test('every byte value except newline survives inside a record', async t => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i).filter(b => b !== 0x0a))
  t.equal(all.length, 255)
  // Lines of all bytes, rotated so each line starts differently; one invalid UTF-8 line; a CR line.
  const lines = [0, 1, 13, 32, 128, 254].map(r => Buffer.concat([all.subarray(r), all.subarray(0, r)]))
  const input = Buffer.concat([...lines.flatMap(l => [l, NL]), Buffer.from([0xc3, 0x28, 0xff, 0x0d, 0x0a, 0x0d, 0x0d, 0x0a, 0x00])])
  const { records } = await throughFile(t.testdir(), input)
  t.same(shape(records), [...lines.map(() => 'F255'), 'F4', 'F2', 'P1'])
  t.same(records[0].content, all)
  t.same(bytesOf(records), input)
})

t.test('empty lines are F records with empty content', async t => {
  const input = Buffer.from('\n\nx\n\n')
  const { raw, records } = await throughFile(t.testdir(), input)
  t.same(shape(records), ['F0', 'F0', 'F1', 'F0'])
  t.match(raw.toString(), /^\S+ stdout F \n\S+ stdout F \n\S+ stdout F x\n\S+ stdout F \n$/)
  t.same(bytesOf(records), input)
})

t.test('no input, and an empty chunk, give no record', async t => {
  t.same(split([]), [])
  t.same(split([Buffer.alloc(0)]), [])
  t.same(shape(split([Buffer.from('a'), Buffer.alloc(0), Buffer.from('\n')])), ['F1'])
})

t.test('splitting a small input at any offset gives the same records', async t => {
  const input = Buffer.concat([Buffer.from('one\n\ntwo words\n'), Buffer.from([0, 0xff, 0x20, 0x0d, 0x0a]), Buffer.from('three\nlast')])
  const whole = split([input])
  t.same(shape(whole), ['F3', 'F0', 'F9', 'F4', 'F5', 'P4'])
  for (let i = 0; i <= input.length; i++) {
    const got = split([input.subarray(0, i), input.subarray(i)])
    t.same(got, whole, `split at ${i}`)
  }
  t.same(split([...input].map(b => Buffer.from([b]))), whole, 'one byte per chunk')
  t.same(bytesOf(whole), input)
})

t.test('splitting around the MAX_RECORD_BYTES boundary at any offset gives the same records', async t => {
  const input = Buffer.concat([Buffer.alloc(MAX - 1, 'a'), NL, Buffer.alloc(MAX, 'b'), NL, Buffer.alloc(MAX + 1, 'c'), NL, Buffer.alloc(MAX + 2, 'd')])
  const whole = split([input])
  t.same(shape(whole), [`F${MAX - 1}`, `F${MAX}`, `P${MAX}`, 'F1', `P${MAX}`, 'P2'])
  const around = [
    MAX - 2,
    MAX - 1,
    MAX,
    MAX + 1,
    2 * MAX,
    2 * MAX + 1,
    2 * MAX + 2,
    3 * MAX + 1,
    3 * MAX + 2,
    3 * MAX + 3,
    4 * MAX + 2,
    4 * MAX + 3,
    4 * MAX + 4,
    input.length - 1,
  ]
  for (const i of around) t.same(shape(split([input.subarray(0, i), input.subarray(i)])), shape(whole), `split at ${i}`)
  t.same(bytesOf(whole), input)
})

t.test('random chunk boundaries over a big input give the same records', async t => {
  const rand = rng(20240607)
  const parts: Buffer[] = []
  const lengths = [0, 1, MAX - 1, MAX, MAX + 1, 2 * MAX, 3 * MAX + 7]
  for (let i = 0; i < 120; i++) {
    const len = i < lengths.length ? lengths[i] : Math.floor(rand() * rand() * 3 * MAX)
    const line = Buffer.alloc(len)
    for (let j = 0; j < len; j++) {
      const b = Math.floor(rand() * 256)
      line[j] = b === 0x0a ? 0x0b : b
    }
    parts.push(line, NL)
  }
  parts.push(Buffer.from('tail without newline'))
  const input = Buffer.concat(parts)
  const whole = split([input])
  t.same(bytesOf(whole), input, 'the records rebuild the input')
  t.equal(whole.filter(r => r.full).length, 120)
  t.ok(
    whole.every(r => r.content.length <= MAX),
    'no record is longer than MAX_RECORD_BYTES',
  )
  for (let round = 0; round < 20; round++) {
    const offsets: number[] = []
    for (let at = 0; ;) {
      at += 1 + Math.floor(rand() * (round % 2 ? 64 : 40_000))
      if (at >= input.length) break
      offsets.push(at)
    }
    const chunks = cut(input, offsets)
    t.equal(Buffer.concat(chunks).length, input.length)
    t.same(split(chunks), whole, `round ${round}: ${chunks.length} chunks`)
  }
  const { records } = await throughFile(t.testdir(), input, cut(input, [5, MAX, 3 * MAX + 11]))
  t.same(bytesOf(records), input, 'and through a CriLogFile')
})

t.test('rfc3339Nano() is RFC 3339 with nanoseconds, in UTC', async t => {
  t.match(rfc3339Nano(), TIME)
  t.equal(rfc3339Nano(1475713029669794202n), '2016-10-06T00:17:09.669794202Z')
  t.equal(rfc3339Nano(1_000_000_007n), '1970-01-01T00:00:01.000000007Z')
  t.equal(rfc3339Nano(0n), '1970-01-01T00:00:00.000000000Z')
})

t.test('rfc3339Nano() is close to the wall clock and never goes back over calls', async t => {
  const before = Date.now()
  const times = Array.from({ length: 20_000 }, () => rfc3339Nano())
  const after = Date.now()
  t.ok(times.every(s => TIME.test(s)))
  const back = times.findIndex((s, i) => i > 0 && s < times[i - 1])
  t.equal(back, -1, 'each time >= the one before (fixed width: string order is time order)')
  t.ok(new Set(times.map(s => s.slice(20, 29))).size > 1, 'the nanosecond digits change')
  const ms = Date.parse(times[0].replace(/\.(\d{3})\d{6}Z$/, '.$1Z'))
  t.ok(ms >= before - 50 && ms <= after + 50, `${times[0]} is within 50 ms of Date.now()`)
})

t.test('a CriLogFile written by both streams parses back with the right stream tags', async t => {
  const dir = t.testdir()
  const log = new CriLogFile(join(dir, 'both.log'))
  const out = new RecordSplitter((c, full) => log.write('stdout', c, full))
  const err = new RecordSplitter((c, full) => log.write('stderr', c, full))
  out.push(Buffer.from('out 1\nout'))
  err.push(Buffer.from('err 1\n'))
  out.push(Buffer.from(' 2\n'))
  err.push(Buffer.from('err 2 partial'))
  out.flush()
  err.flush()
  await log.end()
  const records = parseCriLog(readFileSync(join(dir, 'both.log')))
  t.same(
    records.map(r => [r.stream, r.full ? 'F' : 'P', r.content.toString()]),
    [
      ['stdout', 'F', 'out 1'],
      ['stderr', 'F', 'err 1'],
      ['stdout', 'F', 'out 2'],
      ['stderr', 'P', 'err 2 partial'],
    ],
  )
  t.ok(records.every(r => TIME.test(r.time)))
  t.same(
    records.map(r => r.time),
    records
      .map(r => r.time)
      .slice()
      .sort(),
    'times in file order',
  )
})

t.test('a CriLogFile appends to an existing log, as for a restarted container', async t => {
  const dir = t.testdir()
  for (const word of ['first', 'second']) {
    const log = new CriLogFile(join(dir, 'c.log'))
    log.write('stdout', Buffer.from(word), true)
    await log.end()
  }
  t.same(
    parseCriLog(readFileSync(join(dir, 'c.log'))).map(r => r.content.toString()),
    ['first', 'second'],
  )
})

t.test('a CriLogFile exists once made (its directory too), and reopen moves the next records to a new file at its path (ReopenContainerLog)', async t => {
  const dir = t.testdir()
  const path = join(dir, 'c.log')
  const log = new CriLogFile(path)
  t.ok(existsSync(path), 'the file is there before anything is written')
  log.write('stdout', Buffer.from('before'), true)
  renameSync(path, `${path}.1`)
  await log.reopen()
  log.write('stdout', Buffer.from('after'), true)
  await log.end()
  await log.reopen() // after the end: nothing to write, nothing opened
  const words = (p: string) => parseCriLog(readFileSync(p)).map(r => r.content.toString())
  t.same(words(`${path}.1`), ['before'])
  t.same(words(path), ['after'])
  const made = new CriLogFile(join(dir, 'new', 'c.log'))
  t.ok(existsSync(join(dir, 'new', 'c.log')), 'its directory is made (as containerd makes it)')
  await made.end()
  t.throws(
    () => new CriLogFile(join(path, 'c.log')),
    { code: 'EEXIST', message: /^log\.open: .*c\.log\/c\.log: file already exists/ },
    'a file where its directory should be',
  )
})
