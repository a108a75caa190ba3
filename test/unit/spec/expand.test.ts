import t from 'tap'
import { expand } from '../../../src/spec/index.js'

const vars: Record<string, string> = { A: 'alpha', EMPTY: '' }
const x = (s: string) => expand(s, n => vars[n])

t.test('$(VAR) expands as Kubernetes does', async t => {
  t.equal(x('$(A)'), 'alpha')
  t.equal(x('pre-$(A)-post'), 'pre-alpha-post')
  t.equal(x('$(EMPTY)x'), 'x')
})

t.test('an undefined $(VAR) is left as written', async t => {
  t.equal(x('$(NOPE) and $(A)'), '$(NOPE) and alpha')
})

t.test('$$ escapes a $', async t => {
  t.equal(x('$$(A)'), '$(A)')
  t.equal(x('echo $$$$'), 'echo $$')
  t.equal(x('cost: $$5'), 'cost: $5')
})

t.test('other $ forms are kept verbatim', async t => {
  t.equal(x('$A ${A} $'), '$A ${A} $')
  t.equal(x('$(A'), '$(A')
})
