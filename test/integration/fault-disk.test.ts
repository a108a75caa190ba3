// Issue 24, item 5: a full state root never traps a pod. The root is a small
// tmpfs of the test's own, filled to ENOSPC; stop and rm --force still end
// the pod (kill first, then write what can be written), every write that
// fails is named by step, path and hint, a run -d that cannot start leaves no
// pod dir, and a log flood onto the full disk piles up no drain listeners.
// Each test ends with the leak check.
import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmdirSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requires } from '../helpers/requires.js'
import { manifest, uniqueName } from '../helpers/pods.js'
import { cliEnv, NO_LEAKS, onlyRecord, processesUnder, settledLeaks, uniqueParent, waitUntil, writeManifest, type T } from '../helpers/faults.js'
import { BIN } from '../helpers/cli.js'
import { engineExited } from '../helpers/detached-pods.js'
import { spawnDaemon } from '../helpers/daemon.js'

const skip = requires('root', 'built')
const UUID = /^[0-9a-f-]{36}$/

/** A state root on a tmpfs of `size`; at teardown every pod in it is removed, then it is unmounted. */
function smallRoot(t: T, size = '8m'): string {
  const root = mkdtempSync(join(tmpdir(), 'pl-disk-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0711`, 'tmpfs', root])
  t.teardown(async () => {
    rmSync(join(root, 'filler'), { force: true })
    for (const id of readdirSync(root).filter(d => UUID.test(d))) await cliEnv(root, {}, 'rm', '--force', id)
    // The root's engine keeps its log open on the tmpfs until it exits, about a second after the last pod.
    await engineExited(root)
    execFileSync('umount', [root])
    rmdirSync(root)
  })
  return root
}

/** Fill the filesystem under `root` until ENOSPC (a file `filler` at its top). */
function fill(root: string): void {
  const fd = openSync(join(root, 'filler'), 'a')
  const chunk = Buffer.alloc(64 * 1024)
  try {
    for (;;) writeSync(fd, chunk)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e
  } finally {
    closeSync(fd)
  }
  // Whatever a page could still take: one byte at a time.
  const small = openSync(join(root, 'filler'), 'a')
  try {
    for (;;) writeSync(small, 'x')
  } catch {
    // full
  } finally {
    closeSync(small)
  }
}

/** A container that records the stop signal it got in /out (a host dir outside the full root), and keeps logging. */
const trapper = () => ({
  name: 'c',
  command: ['sh', '-c', `trap 'echo TERM > /out/got; exit 0' TERM; while :; do echo tick; sleep 0.1; done`],
  volumeMounts: [{ name: 'out', mountPath: '/out' }],
})
/** The pod-level part of `trapper`: the host directory `out` as volume `out`. */
const outVolume = (out: string, spec: object = {}) => ({ volumes: [{ name: 'out', hostPath: { path: out, type: 'Directory' } }], ...spec })

/** A line that is neither a bare Node error (`pod-launch: ENOSPC: ...`) nor a PodError without its step, path and hint. */
function checkNoSpaceLines(t: Test, stderr: string, root: string): void {
  t.notMatch(stderr, /pod-launch: ENOSPC/, 'no bare ENOSPC error')
  for (const line of stderr.split('\n').filter(l => l.includes('ENOSPC'))) {
    t.match(line, new RegExp(`state\\.[a-z-]+: ${root}/\\S+: no space left on device \\(ENOSPC\\)`), 'step and path named')
    t.match(line, /hint: the state root's filesystem is full/, 'with the hint')
  }
}

t.test('stop of a detached pod on a full state root stops it (graceful, its stop signal first); rm then removes it', { skip }, async t => {
  const root = smallRoot(t)
  const parent = uniqueParent(t, 'diskstop')
  const out = t.testdir()
  const name = uniqueName('diskstop')
  const file = writeManifest(t, manifest(name, [trapper()], outVolume(out, { terminationGracePeriodSeconds: 20 })))
  const started = await cliEnv(root, {}, 'run', '-d', '--cgroup-parent', parent, file)
  t.equal(started.code, 0, started.stderr)
  fill(root)
  const stop = await cliEnv(root, {}, 'stop', name)
  t.equal(stop.code, 0, stop.stderr)
  checkNoSpaceLines(t, stop.stderr, root)
  t.equal(existsSync(join(out, 'got')) && readFileSync(join(out, 'got'), 'utf8').trim(), 'TERM', 'the container got its stop signal and exited by itself')
  t.same(processesUnder(parent), [], 'no process of the pod left')
  const rm = await cliEnv(root, {}, 'rm', name)
  t.equal(rm.code, 0, rm.stderr)
  rmSync(join(root, 'filler'))
  t.same(await settledLeaks(root, parent), NO_LEAKS, 'nothing left')
})

t.test('stop --grace-period=1 and rm --force of running pods on a full state root: both end at once, nothing left', { skip }, async t => {
  const root = smallRoot(t)
  const parent = uniqueParent(t, 'diskrm')
  const stubborn = { name: 'c', command: ['sh', '-c', "trap '' TERM; while :; do echo tick; sleep 0.1; done"] }
  const a = uniqueName('diskgrace')
  const b = uniqueName('diskrm')
  for (const n of [a, b]) {
    const started = await cliEnv(
      root,
      {},
      'run',
      '-d',
      '--cgroup-parent',
      parent,
      writeManifest(t, manifest(n, [stubborn], { terminationGracePeriodSeconds: 120 }), `${n}.json`),
    )
    t.equal(started.code, 0, started.stderr)
  }
  fill(root)
  // The full disk must not lose the stop request (it goes to the engine over its socket): the 1 s the caller asked for is kept (not the pod's 120 s).
  const begun = Date.now()
  const stop = await cliEnv(root, {}, 'stop', '--grace-period', '1', a)
  t.equal(stop.code, 0, stop.stderr)
  t.ok(Date.now() - begun < 60_000, `stopped within the asked grace, not the pod's 120 s (${Date.now() - begun} ms)`)
  checkNoSpaceLines(t, stop.stderr, root)
  const rm = await cliEnv(root, {}, 'rm', '--force', b)
  t.equal(rm.code, 0, rm.stderr)
  checkNoSpaceLines(t, rm.stderr, root)
  t.same(processesUnder(parent), [], 'no process of either pod left')
  t.equal((await cliEnv(root, {}, 'rm', a)).code, 0)
  rmSync(join(root, 'filler'))
  t.same(await settledLeaks(root, parent), NO_LEAKS, 'nothing left')
})

t.test('run -d on a full state root fails naming step, path and hint, and leaves no pod dir', { skip }, async t => {
  const root = smallRoot(t)
  const parent = uniqueParent(t, 'diskrun')
  const out = t.testdir()
  // A pod ran here before: the root's lock files exist, as on a host in use.
  const first = await cliEnv(root, {}, 'run', '-d', '--cgroup-parent', parent, writeManifest(t, manifest(uniqueName('diskfirst'), [trapper()], outVolume(out))))
  t.equal(first.code, 0, first.stderr)
  t.equal((await cliEnv(root, {}, 'rm', '--force', onlyRecord(root)!.id)).code, 0)
  fill(root)
  const run = await cliEnv(
    root,
    {},
    'run',
    '-d',
    '--cgroup-parent',
    parent,
    writeManifest(t, manifest(uniqueName('diskrun'), [trapper()], outVolume(out)), 'b.json'),
  )
  t.equal(run.code, 1)
  t.match(
    run.stderr,
    new RegExp(`^pod-launch: state\\.write: ${root}/[0-9a-f-]{36}/\\S+: no space left on device \\(ENOSPC\\)\\nhint: the state root's filesystem is full`),
  )
  t.same(
    readdirSync(root).filter(d => UUID.test(d) || d.endsWith('.log')),
    [],
    'no pod dir, no log',
  )
  const fg = await cliEnv(root, {}, 'run', '--cgroup-parent', parent, writeManifest(t, manifest(uniqueName('diskfg'), [trapper()], outVolume(out)), 'c.json'))
  t.equal(fg.code, 1)
  t.match(fg.stderr, /^pod-launch: state\.write: \S+: no space left on device \(ENOSPC\)\nhint: the state root's filesystem is full/m, 'a foreground run too')
  rmSync(join(root, 'filler'))
  t.same(await settledLeaks(root, parent), NO_LEAKS, 'nothing left')
})

t.test(
  'a foreground pod floods its log onto a full root, our stdout a slow pipe: it runs on, Ctrl-C stops it, no MaxListenersExceededWarning',
  { skip },
  async t => {
    const root = smallRoot(t, '4m')
    const parent = uniqueParent(t, 'diskflood')
    const out = t.testdir()
    // About 100 MB of output (the flood was 500 MB): the 4 MiB root is full after a few percent of it.
    const flood = {
      name: 'c',
      command: [
        'sh',
        '-c',
        // The flood in the background: the trap runs within 0.1 s of the stop signal, however far the flood got.
        `trap 'echo TERM > /out/got; exit 0' TERM; yes 0123456789012345678901234567890123456789012345678 | head -c 100000000 & while :; do sleep 0.1; done`,
      ],
      volumeMounts: [{ name: 'out', mountPath: '/out' }],
    }
    const file = writeManifest(t, manifest(uniqueName('diskflood'), [flood], outVolume(out, { terminationGracePeriodSeconds: 20 })))
    // Our stdout is a pipe nobody reads at first: the terminal side pushes back as well as the full log file.
    const child = spawnDaemon(process.execPath, [BIN, '--root', root, 'run', '--cgroup-parent', parent, file], { stdio: ['ignore', 'pipe', 'pipe'] }, 'TERM')
    t.teardown(() => child.kill('SIGKILL'))
    child.stdout.pause()
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    )
    t.ok(await waitUntil(() => onlyRecord(root)?.phase === 'Running'), 'running')
    const free = () => Number(execFileSync('stat', ['-f', '-c', '%a', root], { encoding: 'utf8' }).trim())
    await new Promise(r => setTimeout(r, 1000))
    child.stdout.resume() // now drain it: the flood reaches the log file, which fills the root
    t.ok(await waitUntil(() => free() === 0, 1200), 'the root filled up')
    t.ok(processesUnder(parent).length >= 2, 'the pod runs on')
    child.kill('SIGINT')
    const end = await exited
    t.equal(end.signal, null, 'the run ended by itself')
    t.notMatch(stderr, /MaxListenersExceededWarning/)
    t.notMatch(stderr, /pod-launch: ENOSPC/)
    t.equal(existsSync(join(out, 'got')) && readFileSync(join(out, 'got'), 'utf8').trim(), 'TERM', `its stop signal reached it (${stderr.slice(-2000)})`)
    t.same(await settledLeaks(root, parent), NO_LEAKS, 'nothing left')
  },
)
