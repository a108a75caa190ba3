import t from 'tap'
import { readFileSync } from 'node:fs'
import { cliReference } from '../../../src/cli/reference.js'
import { main } from '../../../src/cli/main.js'

t.test('docs/cli.md is the --help of every command, as the parser prints it now', async t => {
  const file = new URL('../../../docs/cli.md', import.meta.url)
  t.equal(readFileSync(file, 'utf8'), await cliReference(), 'run `npm run docs:cli` after changing a command')
})

t.test('completion prints a bash or zsh script that asks pod-launch for the next words', async t => {
  for (const shell of ['bash', 'zsh']) {
    let out = ''
    t.equal(await main(['completion', shell], { out: s => void (out += s), err: s => void (out += s) }, {}), 0)
    t.match(out, /pod-launch --get-yargs-completions/)
    t.match(out, /complete -o filenames -F _pod_launch_complete pod-launch/)
    if (shell === 'zsh') t.match(out, /bashcompinit/)
  }
  let err = ''
  t.equal(await main(['completion', 'fish'], { out: () => {}, err: s => void (err += s) }, {}), 2)
  t.match(err, /Invalid values/)
})
