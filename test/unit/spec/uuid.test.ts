// A pod's uid: RFC 9562 version 4 (the version and variant bits set, the rest random).
import t from 'tap'
import { randomUuid } from '../../../src/spec/uuid.js'

t.test('randomUuid is a version 4 UUID, a new one each call', t => {
  const ids = Array.from({ length: 200 }, () => randomUuid())
  for (const id of ids) t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, id)
  t.equal(new Set(ids).size, ids.length, 'no two alike')
  // Every bit outside the version and variant varies over 200 draws (a constant byte would show).
  const bits = (id: string) => BigInt(`0x${id.replace(/-/g, '')}`)
  const or = ids.reduce((a, id) => a | bits(id), 0n)
  const and = ids.reduce((a, id) => a & bits(id), (1n << 128n) - 1n)
  t.equal((or ^ and).toString(16), 'ffffffffffff0fff3fffffffffffffff', 'only the version and variant bits are fixed')
  t.end()
})
