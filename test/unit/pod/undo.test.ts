import t from 'tap'
import { UndoStack } from '../../../src/pod/undo.js'

t.test('undo runs newest first; a failing step warns and the rest still run', async t => {
  const order: string[] = []
  const warnings: string[] = []
  const u = new UndoStack()
  u.push('first', () => order.push('first'))
  u.push('second', () => {
    throw new Error('boom')
  })
  u.push('third', async () => order.push('third'))
  await u.run(w => warnings.push(w))
  t.same(order, ['third', 'first'])
  t.same(warnings, ['undo second: boom'])
  await u.run(w => warnings.push(w))
  t.same(order, ['third', 'first'], 'each undo runs once')
})
