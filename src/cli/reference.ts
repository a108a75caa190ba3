// docs/cli.md: every command's --help, made by the parser itself, so the
// reference and --help cannot differ (test/unit/cli/reference.test.ts checks).
import { COMMANDS, main } from './main.js'

/** `image`'s subcommands, in the order its --help lists them. */
const IMAGE_COMMANDS = ['import', 'ls', 'rm', 'inspect', 'pull', 'login', 'logout']

/** A page per command word users type (so a new command cannot be left out), and one per `image` subcommand. */
const PAGES: string[][] = [
  [],
  ...COMMANDS.filter(c => !c.startsWith('__') && c !== 'help').flatMap(c => (c === 'image' ? [[c], ...IMAGE_COMMANDS.map(s => [c, s])] : [[c]])),
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
