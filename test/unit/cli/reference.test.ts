import t from 'tap'
import { readFileSync } from 'node:fs'
import { cliReference } from '../../../src/cli/reference.js'
import { main } from '../../../src/cli/main.js'

t.test('docs/cli.md is the --help of every command, as the parser prints it now', async t => {
  const file = new URL('../../../docs/cli.md', import.meta.url)
  t.equal(readFileSync(file, 'utf8'), await cliReference(), 'run `npm run docs:cli` after changing a command')
})

t.test('every command the help lists has its page, image subcommands included', async t => {
  const reference = await cliReference()
  for (const words of [[], ['image']]) {
    let out = ''
    await main([...words, '--help'], { out: s => void (out += s), err: s => void (out += s) }, {})
    const listed = [...out.matchAll(/^ {2}pod-launch ([a-z][a-z-]*(?: [a-z][a-z-]*)?)/gm)].map(m => m[1])
    t.ok(listed.length > (words.length ? 5 : 20), `${words.join(' ') || 'the overview'} lists its commands`)
    for (const command of listed) t.match(reference, `\n## pod-launch ${command}\n`, `a page for ${command}`)
  }
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
