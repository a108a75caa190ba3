// Daemons a test starts die with it: the registry helper's docker-registry and
// token issuer get a parent-death signal (test/helpers/daemon.ts), so a test
// file SIGKILLed by tap's timeout leaves neither running under pid 1.
import t from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { until } from '../helpers/detached-pods.js'
import { alive } from '../helpers/procs.js'
import { requires } from '../helpers/requires.js'

const skip = requires('root')
const PARENT = fileURLToPath(new URL('../fixtures/daemon-parent.ts', import.meta.url))

const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
  } catch {
    return ''
  }
}

t.test('a SIGKILLed test takes its registry and token issuer with it', { skip }, async t => {
  // The fixture runs as this file does (tap's TypeScript loader is in our execArgv).
  const parent = spawn(process.execPath, [...process.execArgv, PARENT], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise(resolve => parent.once('exit', resolve))
  t.teardown(() => void parent.kill('SIGKILL'))
  let out = ''
  parent.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  await until('the fixture started its registry', () => out.includes('\n') || parent.exitCode !== null, 120_000)
  const { pids, dir } = JSON.parse(out) as { pids: number[]; dir: string }
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const daemons = pids.map(pid => ({ pid, cmd: cmdline(pid) }))
  t.equal(daemons.length, 2, 'docker-registry and the token issuer')
  t.match(daemons.map(d => d.cmd).join('\n'), /docker-registry serve[^]*token-issuer\.mjs|token-issuer\.mjs[^]*docker-registry serve/)
  t.ok(
    daemons.every(d => alive(d.pid)),
    'both run while their test does',
  )
  parent.kill('SIGKILL')
  await exited
  // Gone, or the pid now another process's (its command line differs): bounded by until's limit, not timed.
  await until('the daemons to die with their test', () => daemons.every(d => !alive(d.pid) || cmdline(d.pid) !== d.cmd))
  t.pass('neither outlived the SIGKILLed test')
})
