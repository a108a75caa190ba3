import t from 'tap'
import { existsSync, openSync, closeSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { PodError, runPod, spawnProcess, type PodEvent } from '../../src/index.js'
import { requires } from '../helpers/requires.js'
import { manifest, uniqueName } from '../helpers/pods.js'

const skip = requires('root', 'built')
const fdCount = () => readdirSync('/proc/self/fd').length

/** Mount the directory of `file` at the same path in the pod's containers. */
function withDir(m: ReturnType<typeof manifest>, file: string) {
  const dir = dirname(file)
  m.spec.volumes.push({ name: 'testdir', hostPath: { path: dir, type: 'Directory' } })
  for (const c of m.spec.containers) (c as { volumeMounts: object[] }).volumeMounts.push({ name: 'testdir', mountPath: dir })
  return m
}

/** Run a pod whose container cannot start; returns its start error, status and every pid it started. */
async function failingStart(m: object) {
  const events: PodEvent[] = []
  const fdsBefore = fdCount()
  const result = await runPod(m as Record<string, unknown>, {
    onEvent: e => events.push(e),
    onOutput: () => {},
    onManifestWarning: () => {},
    onWarning: () => {},
  })
  const failed = events.find(e => e.type === 'container-failed-to-start')
  const pids = events.flatMap(e => ('pid' in e && e.pid ? [e.pid] : []))
  return { error: (failed as { error: PodError } | undefined)?.error as PodError, result, events, pids, fdsLeaked: fdCount() - fdsBefore }
}

function assertNothingLeft(t: { ok: Function; notOk: Function; equal: Function; match: Function }, r: Awaited<ReturnType<typeof failingStart>>) {
  t.ok(r.pids.length > 0, 'the sandbox was started before the failure')
  for (const pid of r.pids) t.notOk(existsSync(`/proc/${pid}`), `pid ${pid} is gone (not even a zombie)`)
  t.equal(r.fdsLeaked, 0, 'no fd of ours is left open')
  t.equal(r.events.at(-1)?.type, 'pod-removed')
  t.equal(r.result.phase, 'Failed')
  const failed = r.result.containerStatuses.find(s => 'terminated' in s.state && s.state.terminated.reason === 'ContainerCannotRun')
  t.ok(failed, 'the container is Terminated / ContainerCannotRun')
  t.match(failed && 'terminated' in failed.state ? failed.state.terminated : {}, { exitCode: 128, message: r.error.message })
}

t.test('a missing executable names child.exec, the path and ENOENT, and leaves nothing', { skip }, async t => {
  const r = await failingStart(
    manifest(uniqueName('noexe'), [
      { name: 'ok', command: ['true'] },
      { name: 'web', command: ['/no/such/bin', '--flag'] },
    ]),
  )
  t.type(r.error, PodError)
  t.equal(r.error.message, 'child.exec: /no/such/bin: no such file or directory (ENOENT)')
  t.equal(r.error.step, 'child.exec')
  t.equal(r.error.code, 'ENOENT')
  t.equal(r.error.container, 'web')
  t.match(r.error.hint, /executable/)
  assertNothingLeft(t, r)
})

t.test('a command not on PATH is searched like execvp and reported ENOENT', { skip }, async t => {
  const r = await failingStart(manifest(uniqueName('nopath'), [{ name: 'a', command: ['no-such-command-xyz'] }]))
  t.equal(r.error.message, 'child.exec: no-such-command-xyz: no such file or directory (ENOENT)')
  assertNothingLeft(t, r)
})

t.test('a file without execute permission gives EACCES', { skip }, async t => {
  const file = join(t.testdir(), 'not-executable')
  writeFileSync(file, '#!/bin/sh\n', { mode: 0o644 })
  const r = await failingStart(withDir(manifest(uniqueName('noexec'), [{ name: 'a', command: [file] }]), file))
  t.equal(r.error.message, `child.exec: ${file}: permission denied (EACCES)`)
  assertNothingLeft(t, r)
})

t.test('an executable that is not a program gives ENOEXEC', { skip }, async t => {
  const file = join(t.testdir(), 'no-shebang')
  writeFileSync(file, 'echo this has no #! line\n', { mode: 0o755 })
  const r = await failingStart(withDir(manifest(uniqueName('enoexec'), [{ name: 'a', command: [file] }]), file))
  t.equal(r.error.message, `child.exec: ${file}: exec format error (ENOEXEC)`)
  t.match(r.error.hint, /#!/)
  assertNothingLeft(t, r)
})

t.test('a working directory that is a file names child.chdir and the path', { skip }, async t => {
  // A missing workingDir is made, as runc does; a file in its place cannot be entered.
  const r = await failingStart(manifest(uniqueName('nocwd'), [{ name: 'a', command: ['true'], workingDir: '/etc/hostname' }]))
  t.equal(r.error.message, 'child.chdir: /etc/hostname: not a directory (ENOTDIR)')
  t.match(r.error.hint, /workingDir/)
  assertNothingLeft(t, r)
})

t.test('an unjoinable namespace names child.setns, the namespace and EINVAL', { skip }, async t => {
  const notANamespace = openSync('/dev/null', 'r')
  t.teardown(() => closeSync(notANamespace))
  const fdsBefore = fdCount()
  const error = (await spawnProcess(
    { argv: ['true'], envp: [], join: [{ type: 'net', fd: notANamespace }], stdio: [notANamespace, notANamespace, notANamespace] },
    { paths: { join: ['/dev/null'] } },
  ).catch(e => e)) as PodError
  t.equal(error.message, 'child.setns: /dev/null: invalid argument (EINVAL)')
  t.equal(error.step, 'child.setns')
  t.equal(error.errno, 22)
  t.equal(fdCount(), fdsBefore, 'pipes and pidfd closed')
})

t.test('the pid namespace of a pod whose pause is gone cannot be joined', { skip }, async t => {
  // Joining pid_for_children of a dead pod: the kernel refuses at clone.
  const events: PodEvent[] = []
  const m = manifest(uniqueName('deadpid'), [{ name: 'a', command: ['true'] }], { shareProcessNamespace: true })
  const result = await runPod(m, {
    onOutput: () => {},
    onWarning: () => {},
    onEvent: e => {
      events.push(e)
      if (e.type !== 'sandbox-started') return
      process.kill(e.pid, 'SIGKILL')
      // Wait (synchronously: the engine goes on when we return) until pause is a zombie, its pid namespace dead.
      const deadline = Date.now() + 2000
      while (Date.now() < deadline && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${e.pid}/stat`, 'utf8'))) {
        // spin
      }
    },
  })
  const failed = events.find(e => e.type === 'container-failed-to-start') as { error: PodError } | undefined
  t.type(failed?.error, PodError)
  t.match(failed?.error.step, /^(spawn\.clone|spawn\.pidns|spawn\.go|child\.)/)
  t.equal(result.phase, 'Failed')
  t.equal(events.at(-1)?.type, 'pod-removed')
})
