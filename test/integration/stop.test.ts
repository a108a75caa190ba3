import t from 'tap'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { requires } from '../helpers/requires.js'
import { manifest, start, terminated, uniqueName } from '../helpers/pods.js'
import { bootTicks, processesInNamespace } from '../helpers/procs.js'
import { spawnDaemon } from '../helpers/daemon.js'

const skip = requires('root', 'built')
const cli = fileURLToPath(new URL('../../bin/pod-launch', import.meta.url))
const graceful = "trap 'echo got TERM; exit 0' TERM; echo ready; while :; do sleep 0.05; done"
const stubborn = "trap '' TERM; echo ready; while :; do sleep 0.05; done"

t.test('stop sends SIGTERM, then SIGKILL after the grace period', { skip }, async t => {
  const { pod, lines, waitFor } = await start(
    t,
    manifest(
      uniqueName('stop'),
      [
        { name: 'polite', command: ['sh', '-c', graceful] },
        { name: 'stubborn', command: ['sh', '-c', stubborn] },
      ],
      { terminationGracePeriodSeconds: 1 },
    ),
  )
  await Promise.all([waitFor('polite', /ready/), waitFor('stubborn', /ready/)])
  const started = Date.now()
  const result = await pod.stop()
  const polite = terminated(result, 'polite')!
  const stubbornResult = terminated(result, 'stubborn')!
  t.equal(polite.exitCode, 0, 'the polite container exited 0 on SIGTERM')
  t.same(lines('polite'), ['ready', 'got TERM'])
  t.equal(stubbornResult.signal, 'SIGKILL', 'the stubborn one was killed')
  t.equal(stubbornResult.exitCode, 137)
  t.equal(result.exitCode, 137, 'the pod reports the first failing code')
  t.ok(Date.now() - started >= 900, 'SIGKILL came only after the grace period')
  t.same(processesInNamespace('uts', pod.sandbox.namespaces.uts, bootTicks()), [], 'no process left in the pod')
})

/** Run the CLI on a manifest; resolves with its exit code and output once it exits. */
function runCli(t: { testdir: () => string }, m: object, onStdout: (line: string, child: ReturnType<typeof spawn>) => void) {
  const file = join(t.testdir(), 'pod.json')
  writeFileSync(file, JSON.stringify(m))
  const child = spawnDaemon(process.execPath, [cli, 'run', file], { stdio: ['ignore', 'pipe', 'pipe'] }, 'TERM')
  let stdout = ''
  let stderr = ''
  let partial = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d
    const lines = (partial + d).split('\n')
    partial = lines.pop()!
    for (const line of lines) onStdout(line, child)
  })
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  return new Promise<{ code: number | null; stdout: string; stderr: string }>(resolve => child.on('exit', code => resolve({ code, stdout, stderr })))
}

t.test('Ctrl-C on the CLI stops the pod gracefully and leaves nothing', { skip }, async t => {
  let uts = 0
  const res = await runCli(
    t,
    manifest(uniqueName('cli-int'), [{ name: 'a', command: ['sh', '-c', `readlink /proc/self/ns/uts; ${graceful}`] }]),
    (line, child) => {
      const m = line.match(/^\[a\] uts:\[(\d+)\]$/)
      if (m) uts = Number(m[1])
      if (line === '[a] ready') child.kill('SIGINT')
    },
  )
  t.equal(res.code, 0, 'the container exited 0, so does the CLI')
  t.match(res.stdout, /\[a\] got TERM/)
  t.match(res.stderr, /SIGINT: stopping pod plt-cli-int/)
  t.ok(uts > 0)
  t.same(processesInNamespace('uts', uts, bootTicks()), [], 'no process left in the pod')
})

t.test('a second Ctrl-C kills at once', { skip }, async t => {
  let uts = 0
  let sent = 0
  const res = await runCli(
    t,
    manifest(uniqueName('cli-int2'), [{ name: 'a', command: ['sh', '-c', `readlink /proc/self/ns/uts; ${stubborn}`] }], { terminationGracePeriodSeconds: 60 }),
    (line, child) => {
      const m = line.match(/^\[a\] uts:\[(\d+)\]$/)
      if (m) uts = Number(m[1])
      if (line === '[a] ready' && sent++ === 0) {
        child.kill('SIGINT')
        setTimeout(() => child.kill('SIGINT'), 200)
      }
    },
  )
  t.equal(res.code, 137, 'the container was killed: 128 + SIGKILL')
  t.match(res.stderr, /grace 0s/)
  t.same(processesInNamespace('uts', uts, bootTicks()), [])
})

t.test("the CLI exit code is the first failing container's", { skip }, async t => {
  const res = await runCli(
    t,
    manifest(uniqueName('cli-code'), [
      { name: 'ok', command: ['true'] },
      { name: 'bad', command: ['sh', '-c', 'exit 42'] },
    ]),
    () => {},
  )
  t.equal(res.code, 42)
  t.match(res.stderr, /\nbad +Terminated +Error +42 +0\n/, 'the summary table shows it')
})
