// Every lab is also a test: it must PASS on the real kernel.
import t from 'tap'
import { LABS, runLab } from '../../src/labs/index.js'
import { requires } from '../helpers/requires.js'

const skip = requires('root', 'built')

for (const lab of LABS) {
  t.test(`lab ${lab.name} passes`, { skip }, async t => {
    let out = ''
    const { passed, checks } = await runLab(lab.name, { out: s => (out += s), color: false })
    t.ok(checks.length >= 2, 'it checks something')
    t.ok(passed, `every check holds:\n${out}`)
    t.match(out, new RegExp(`\\nPASS  ${lab.name}: `))
    t.notMatch(out, /\x1b\[/, 'no colour when not asked for')
  })
}

t.test('an unknown lab is a usage error naming the labs', { skip }, async t => {
  const e = (await runLab('nope', { out: () => {} }).catch(e => e)) as { step: string; exitCode: number; hint: string }
  t.match(e, { step: 'lab', exitCode: 2, hint: /shared-net/ })
})
