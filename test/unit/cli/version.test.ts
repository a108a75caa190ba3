// `pod-launch --version` run as users run it (bin/pod-launch: the bundle when built, else the modules),
// from a directory that holds another project's package.json.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../../../bin/pod-launch', import.meta.url))
const ours = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version

t.test("--version prints pod-launch's version, not that of the project in the working directory", t => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-version-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'someone-else', version: '9.9.9' }))
  const out = execFileSync(process.execPath, [BIN, '--version'], { cwd: dir, encoding: 'utf8' })
  t.equal(out.trim(), ours)
  t.end()
})
