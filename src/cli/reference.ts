// docs/cli.md: every command's --help, made by the parser itself, so the
// reference and --help cannot differ (test/unit/cli/reference.test.ts checks).
import { main } from './main.js'

const PAGES = [
  [],
  ['run'],
  ['ps'],
  ['inspect'],
  ['logs'],
  ['exec'],
  ['attach'],
  ['stop'],
  ['rm'],
  ['stats'],
  ['gc'],
  ['explain'],
  ['ns'],
  ['tree'],
  ['check'],
  ['lab'],
  ['image', 'import'],
  ['image', 'ls'],
  ['image', 'rm'],
  ['image', 'inspect'],
  ['image', 'pull'],
  ['image', 'login'],
  ['image', 'logout'],
  ['completion'],
]

/** The Markdown reference of the CLI. */
export async function cliReference(): Promise<string> {
  const parts = ['# pod-launch command reference', '', 'Generated from `--help` by `npm run docs:cli`; do not edit by hand.', '']
  for (const words of PAGES) {
    let out = ''
    await main([...words, '--help'], { out: s => void (out += s), err: s => void (out += s) }, {})
    parts.push(`## pod-launch ${words.join(' ') || '(overview)'}`, '', '```', out.trimEnd(), '```', '')
  }
  return parts.join('\n')
}
