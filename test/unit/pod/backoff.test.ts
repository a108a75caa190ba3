// kubelet's restart backoff and the --backoff option that changes it.
import t from 'tap'
import { Backoff, KUBELET_BACKOFF, parseBackoff, parseDurationMs } from '../../../src/pod/backoff.js'

t.test("kubelet's defaults are 10 s initial, 5 min cap, reset after 10 min", async t => {
  t.same(KUBELET_BACKOFF, { initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 })
})

t.test('the delay doubles from 10 s and is capped at 300 s', async t => {
  const b = new Backoff(KUBELET_BACKOFF)
  const delays = Array.from({ length: 9 }, () => b.next(1_000))
  t.same(delays, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000, 300_000])
})

t.test('the first restart waits the initial delay, however long the run was', async t => {
  t.equal(new Backoff(KUBELET_BACKOFF).next(0), 10_000)
  t.equal(new Backoff(KUBELET_BACKOFF).next(3_600_000), 10_000)
})

t.test('a run of at least resetAfterMs resets the delay to the initial one', async t => {
  const b = new Backoff(KUBELET_BACKOFF)
  t.same([b.next(0), b.next(0), b.next(0), b.next(0)], [10_000, 20_000, 40_000, 80_000])
  t.equal(b.next(600_000), 10_000, 'exactly resetAfterMs resets')
  t.equal(b.next(0), 20_000, 'and doubling starts again from there')
  t.equal(b.next(0), 40_000)
})

t.test('a run just shorter than resetAfterMs keeps doubling', async t => {
  const b = new Backoff(KUBELET_BACKOFF)
  t.same([b.next(0), b.next(599_999), b.next(599_999)], [10_000, 20_000, 40_000])
})

t.test('the cap holds for options that do not double evenly into it', async t => {
  const b = new Backoff({ initialMs: 300, maxMs: 1_000, resetAfterMs: 2_000 })
  t.same(
    Array.from({ length: 5 }, () => b.next(10)),
    [300, 600, 1_000, 1_000, 1_000],
  )
  t.equal(b.next(2_000), 300)
})

t.test('--backoff 100ms scales the kubelet cap by the same factor; the reset is 2 x max', async t => {
  t.same(parseBackoff('100ms'), { initialMs: 100, maxMs: 3_000, resetAfterMs: 6_000 })
})

t.test('--backoff 1s,10s sets initial and max', async t => {
  t.same(parseBackoff('1s,10s'), { initialMs: 1_000, maxMs: 10_000, resetAfterMs: 20_000 })
  t.same(parseBackoff('500ms,500ms'), { initialMs: 500, maxMs: 500, resetAfterMs: 1_000 }, 'max may equal initial')
})

t.test('--backoff with a bare number means seconds', async t => {
  t.same(parseBackoff('2'), { initialMs: 2_000, maxMs: 60_000, resetAfterMs: 120_000 })
})

t.test('--backoff 10s gives exactly the kubelet defaults', async t => {
  t.same(parseBackoff('10s'), KUBELET_BACKOFF)
})

t.test('a single --backoff value sets the cap at 30 x initial, as 10 s -> 5 min, even above 5 min', async t => {
  t.same(parseBackoff('6m'), { initialMs: 360_000, maxMs: 10_800_000, resetAfterMs: 21_600_000 })
  t.same(parseBackoff('6m,6m'), { initialMs: 360_000, maxMs: 360_000, resetAfterMs: 720_000 })
})

t.test('--backoff refuses text that is not a duration, three parts, or max below initial', async t => {
  for (const bad of ['abc', '1s,2s,3s', '10s,1s', '', ',', '1s,', ',1s', '-1s', '1h', '1 s', '1s;2s']) {
    t.equal(parseBackoff(bad), undefined, JSON.stringify(bad))
  }
})

t.test('parseDurationMs reads ms, s (the default unit) and m, with decimals', async t => {
  const cases: [string, number][] = [
    ['250ms', 250],
    ['0ms', 0],
    ['2s', 2_000],
    ['1.5s', 1_500],
    ['2', 2_000],
    ['0.25', 250],
    ['2m', 120_000],
    ['0.5m', 30_000],
    [' 3s ', 3_000],
    ['1.0004s', 1_000],
    ['1.0005s', 1_001],
  ]
  t.same(
    cases.map(([s]) => parseDurationMs(s)),
    cases.map(([, ms]) => ms),
  )
})

t.test('parseDurationMs refuses negative, unit-less garbage and other units', async t => {
  for (const bad of ['', 'ms', '-1', '+1s', '.5s', '1.s', '1h', '1us', '1S', '1e3', '1,5s', 'NaN']) {
    t.equal(parseDurationMs(bad), undefined, JSON.stringify(bad))
  }
})
