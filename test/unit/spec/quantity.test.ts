import t from 'tap'
import { parseQuantity, quantityMilli, quantityValue } from '../../../src/spec/quantity.js'

const value = (s: unknown) => quantityValue(parseQuantity(s)!)
const milli = (s: unknown) => quantityMilli(parseQuantity(s)!)

t.test('memory quantities: binary and decimal suffixes, exact bytes', async t => {
  t.equal(value('512Mi'), 536870912)
  t.equal(value('1Gi'), 1073741824)
  t.equal(value('1G'), 1000000000)
  t.equal(value('128974848'), 128974848)
  t.equal(value('129e6'), 129000000)
  t.equal(value('123Mi'), 128974848)
  t.equal(value('1.5Gi'), 1610612736)
  t.equal(value('0.5Ki'), 512)
  t.equal(value('1k'), 1000)
})

t.test('cpu quantities: millicores, rounded up like MilliValue', async t => {
  t.equal(milli('250m'), 250)
  t.equal(milli('0.5'), 500)
  t.equal(milli(2), 2000)
  t.equal(milli('0.1'), 100)
  t.equal(milli('1.0005'), 1001)
  t.equal(milli('100u'), 1)
  t.equal(milli('1e-3'), 1)
})

t.test('invalid quantities are undefined, never NaN', async t => {
  for (const bad of ['12XB', '', ' 1', '1 ', 'Mi', '1.2.3', '1mi', '0x10', 'one', '--1', null, true, {}, NaN]) {
    t.equal(parseQuantity(bad), undefined, JSON.stringify(bad))
  }
})

t.test('sign and value() rounding up', async t => {
  t.equal(parseQuantity('-1')!.nanos, -1000000000n)
  t.equal(value('100m'), 1, 'Value() rounds 0.1 up to 1')
  t.equal(value('1.'), 1)
  t.equal(value('.5'), 1)
})
