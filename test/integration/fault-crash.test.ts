// Issue 24, item 3: a crash at every step of start and stop is recoverable.
// POD_LAUNCH_TEST_CRASH_AFTER=<step> SIGKILLs the CLI or the engine right
// after that step (by name, never by timing); then `rm --force` or `gc`
// (alternately) must leave nothing: no process, pod cgroup, mount, pod
// directory or log file. Detached (run -d, stop) and foreground runs. A
// detached pod's shim outlives its engine: a stop whose engine died is
// finished by the next engine, which takes the pod over.
// POD_LAUNCH_TEST_CRASH_STEPS=a,b,... runs only those steps: the cgroup v2 VM
// lane (scripts/test.sh v2) runs the steps where cgroups exist, in emulation.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CRASH_STEPS, type CrashStep } from '../../src/crash-point.js'
import { requires } from '../helpers/requires.js'
import { manifest, uniqueName } from '../helpers/pods.js'
import { cliEnv, newRoot, NO_LEAKS, onlyRecord, runForeground, settledLeaks, uniqueParent, waitUntil, writeManifest } from '../helpers/faults.js'

const skip = requires('root', 'built')
/** The steps this run crashes at: every one, or POD_LAUNCH_TEST_CRASH_STEPS's (each a step's name). */
const STEPS: readonly CrashStep[] = (() => {
  const only = process.env.POD_LAUNCH_TEST_CRASH_STEPS?.split(',').filter(Boolean)
  if (!only) return CRASH_STEPS
  const unknown = only.filter(s => !(CRASH_STEPS as readonly string[]).includes(s))
  if (unknown.length > 0) throw new Error(`POD_LAUNCH_TEST_CRASH_STEPS: no such step ${unknown.join(', ')} (steps: ${CRASH_STEPS.join(', ')})`)
  return CRASH_STEPS.filter(s => only.includes(s))
})()
const STOP_STEPS: readonly CrashStep[] = ['stop-requested', 'containers-stopped', 'teardown-step']
/** Steps only `run -d` passes (the client, the engine taking the record over, the shim recorded). */
const DETACHED_ONLY: readonly CrashStep[] = ['client-record', 'engine-record', 'shim-recorded']

function podManifest(name: string) {
  return manifest(name, [{ name: 'c', command: ['sleep', '600'], volumeMounts: [{ name: 'm', mountPath: '/m' }] } as never], {
    terminationGracePeriodSeconds: 1,
    volumes: [{ name: 'm', emptyDir: { medium: 'Memory', sizeLimit: '4Mi' } }],
  })
}

/** rm --force (even i) or gc then a plain rm of what gc kept as ended (odd i); returns the commands that failed. */
async function recover(root: string, other: string, i: number): Promise<string[]> {
  const failed: string[] = []
  const id = () => onlyRecord(root)?.id
  const left = id()
  if (i % 2 === 0) {
    if (left) {
      const rm = await cliEnv(root, {}, 'rm', '--force', left)
      if (rm.code !== 0) failed.push(`rm --force: ${rm.stderr}`)
    }
    return failed
  }
  const gc = await cliEnv(root, {}, 'gc', '--cgroup-parent', other)
  if (gc.code !== 0) failed.push(`gc: ${gc.stderr}`)
  const kept = id()
  if (kept) {
    const rm = await cliEnv(root, {}, 'rm', kept) // gc leaves a detached pod ended (its logs), removable without --force
    if (rm.code !== 0) failed.push(`rm after gc: ${rm.stderr}`)
  }
  return failed
}

t.test('run -d / stop: a SIGKILL after each step, then rm --force or gc leave nothing', { skip }, async t => {
  for (const [i, step] of STEPS.entries()) {
    await t.test(step, async t => {
      const root = newRoot(t)
      const parent = uniqueParent(t, 'crash')
      const other = uniqueParent(t, 'none')
      const file = writeManifest(t, podManifest(uniqueName('crash')))
      const env = { POD_LAUNCH_TEST_CRASH_AFTER: step }
      const run = await cliEnv(root, env, 'run', '-d', '--cgroup-parent', parent, file)
      if (STOP_STEPS.includes(step)) {
        t.equal(run.code, 0, run.stderr)
        const stop = await cliEnv(root, {}, 'stop', '--grace-period', '1', run.stdout.trim())
        t.equal(stop.code, 0, stop.stderr)
        const id = run.stdout.trim()
        const log = readFileSync(join(root, id, 'engine.log'), 'utf8')
        t.match(log, /stop requested/, 'the engine got the stop')
        // Died before the end of it: a pod still running is taken over by the next engine; one already recorded as
        // ended (a crash in its teardown) is skipped by it, and the stop itself ends the shim and finishes the teardown.
        t.match(
          log.slice(log.indexOf('stop requested')),
          step === 'teardown-step' ? /adopted by engine \d+|"type":"pod-phase".*"phase":"Failed"/ : /adopted by engine \d+/,
          'died before the end of it, and the stop was finished',
        )
        t.equal(onlyRecord(root)?.supervisor ?? null, null, 'stop finished what the dead engine left')
      } else if (step === 'client-record') {
        t.equal(run.signal, 'SIGKILL', 'the client died')
      } else {
        t.not(run.code, 0, 'run -d failed')
        t.match(run.stderr, /the engine exited without a word/, `the engine died at ${step}`)
        t.notMatch(run.stderr, /cleaning up failed/, 'and the client cleaned up after it')
      }
      t.same(await recover(root, other, i), [], i % 2 === 0 ? 'rm --force succeeded' : 'gc succeeded')
      t.same(await settledLeaks(root, parent), NO_LEAKS, `nothing left after a crash at ${step}`)
    })
  }
})

t.test('foreground run: a SIGKILL after each step, then rm --force or gc leave nothing', { skip }, async t => {
  for (const [i, step] of STEPS.filter(s => !DETACHED_ONLY.includes(s)).entries()) {
    await t.test(step, async t => {
      const root = newRoot(t)
      const parent = uniqueParent(t, 'fgcrash')
      const other = uniqueParent(t, 'none')
      const file = writeManifest(t, podManifest(uniqueName('fgcrash')))
      const fg = runForeground(root, ['--cgroup-parent', parent, file], { POD_LAUNCH_TEST_CRASH_AFTER: step })
      t.teardown(() => fg.child.kill('SIGKILL'))
      if (STOP_STEPS.includes(step)) {
        t.ok(await waitUntil(() => onlyRecord(root)?.phase === 'Running'), 'Running')
        fg.child.kill('SIGTERM')
      }
      const end = await fg.exited
      t.equal(end.signal, 'SIGKILL', `the run died at ${step}: ${end.stderr}`)
      t.ok(onlyRecord(root), 'its record is there to recover from')
      t.same(await recover(root, other, i), [], i % 2 === 0 ? 'rm --force succeeded' : 'gc succeeded')
      t.same(await settledLeaks(root, parent), NO_LEAKS, `nothing left after a crash at ${step}`)
    })
  }
})
