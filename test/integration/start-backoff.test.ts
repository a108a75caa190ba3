// A pod that cannot run because a container before its containers restarts
// with back-off (a failing init container, a sidecar that cannot start:
// kubelet's Init:CrashLoopBackOff) never makes its caller wait on the loop:
// `run -d` returns with the pod Pending and says why (as `kubectl apply`
// returns), `rm --force` removes it, and one Ctrl-C ends a foreground run.
// Found by the manifest fuzz (fault-fuzz.test.ts): `run -d` of a mutant whose
// init container ran `sleep 1Ki` under restartPolicy OnFailure never returned.
import t from 'tap'
import { requires } from '../helpers/requires.js'
import { cliEnv, newRoot, NO_LEAKS, runForeground, settledLeaks, uniqueParent, waitUntil, writeManifest } from '../helpers/faults.js'

const skip = requires('root', 'built')

function pod(name: string, init: object): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      restartPolicy: 'OnFailure',
      terminationGracePeriodSeconds: 2,
      initContainers: [init],
      containers: [{ name: 'app', image: 'host', command: ['sleep', '30'] }],
    },
  }
}

const failingInit = { name: 'side', image: 'host', command: ['sh', '-c', 'echo no config >&2; exit 3'] }
const sidecarThatCannotStart = { name: 'shipper', image: 'host', restartPolicy: 'Always', command: ['/nonexistent/shipper'] }

for (const [what, init, container] of [
  ['a failing init container', failingInit, 'side'],
  ['a sidecar that cannot start', sidecarThatCannotStart, 'shipper'],
] as const) {
  t.test(`run -d of a pod with ${what}: returns Pending in CrashLoopBackOff, saying why; rm --force removes it`, { skip }, async t => {
    const root = newRoot(t)
    const parent = uniqueParent(t, 'backoff')
    const file = writeManifest(t, pod('loops', init))
    const r = await cliEnv(root, {}, 'run', '-d', '--network', 'none', '--cgroup-parent', parent, file)
    t.equal(r.code, 0, r.stderr)
    t.match(r.stdout, /^[0-9a-f-]{36}\n$/, 'the pod id, as for a pod that runs')
    t.match(r.stderr, new RegExp(`pod-launch: pod loops: container ${container}: CrashLoopBackOff: exited \\d+ \\(`), 'who loops, with its exit')
    t.match(r.stderr, new RegExp(`hint: .*pod-launch logs loops -c ${container}.*pod-launch rm --force loops`), 'where to look and how to give up')
    const ps = await cliEnv(root, {}, 'ps')
    t.match(ps.stdout, /loops\s+\S+\s+0\/\d\s+Init:CrashLoopBackOff/, 'ps says Init:CrashLoopBackOff')
    const rm = await cliEnv(root, {}, 'rm', '--force', 'loops')
    t.equal(rm.code, 0, rm.stderr)
    t.same(await settledLeaks(root, parent), NO_LEAKS, 'nothing left')
  })
}

t.test('a foreground run whose init container loops: one Ctrl-C ends it, nothing left', { skip }, async t => {
  const root = newRoot(t)
  const parent = uniqueParent(t, 'backoff-fg')
  const file = writeManifest(t, pod('loops-fg', failingInit))
  const { child, exited } = runForeground(root, ['--network', 'none', '--cgroup-parent', parent, file])
  let stderr = ''
  child.stderr!.on('data', (d: string) => (stderr += d))
  t.ok(await waitUntil(() => /container side: restarting in/.test(stderr)), 'the init container restarts with back-off')
  child.kill('SIGINT')
  const end = await exited
  t.not(end.code, 0, 'an interrupted pod that never ran is no success')
  t.equal(end.signal, null, 'it exits by itself (no second signal needed)')
  t.match(end.stderr, /side \(init\)/, 'the closing table names the init container')
  t.same(await settledLeaks(root, parent), NO_LEAKS, 'nothing left')
})
