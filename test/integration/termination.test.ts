// Termination messages from real containers: the file at
// terminationMessagePath (writable by a non-root uid, at most the last 4096
// bytes), the log fallback of FallbackToLogsOnError, a new file per container
// instance with the previous message kept in lastState; and imagePullPolicy
// Never with a missing image (ErrImageNeverPull, nothing made).
import t from 'tap'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startPod } from '../../src/index.js'
import { requires } from '../helpers/requires.js'
import { manifest, run, terminated, uniqueName } from '../helpers/pods.js'

const skip = requires('root', 'built')
const fast = { initialMs: 50, maxMs: 200, resetAfterMs: 800_000 }

t.test('the message comes from the file, written by root or by a non-root uid, its last 4096 bytes', { skip }, async t => {
  const { result } = await run(
    t,
    manifest(uniqueName('tmfile'), [
      { name: 'root', command: ['sh', '-c', 'echo "all done: 42 items" > /dev/termination-log'] },
      {
        name: 'user',
        command: ['sh', '-c', 'id -u; printf "written by $(id -u)" > /var/run/msg; exit 3'],
        terminationMessagePath: '/var/run/msg',
        securityContext: { runAsUser: 1000 },
      } as never,
      { name: 'long', command: ['sh', '-c', 'head -c 5000 /dev/zero | tr "\\0" a > /dev/termination-log; printf END >> /dev/termination-log'] },
    ]),
  )
  t.equal(terminated(result, 'root')?.message, 'all done: 42 items\n')
  t.match(terminated(result, 'user'), { exitCode: 3, reason: 'Error', message: 'written by 1000' })
  t.equal(terminated(result, 'long')?.message, 'a'.repeat(4093) + 'END', 'the last 4096 bytes')
})

t.test('FallbackToLogsOnError: the log tail when the file is empty and the container failed; never for success', { skip }, async t => {
  const { result } = await run(
    t,
    manifest(uniqueName('tmlogs'), [
      {
        name: 'fails',
        command: ['sh', '-c', 'for i in $(seq 1 100); do echo "line $i"; done; echo oops >&2; exit 1'],
        terminationMessagePolicy: 'FallbackToLogsOnError',
      } as never,
      { name: 'succeeds', command: ['sh', '-c', 'echo fine'], terminationMessagePolicy: 'FallbackToLogsOnError' } as never,
      {
        name: 'file-wins',
        command: ['sh', '-c', 'echo from file > /dev/termination-log; echo from log; exit 2'],
        terminationMessagePolicy: 'FallbackToLogsOnError',
      } as never,
      { name: 'file-policy', command: ['sh', '-c', 'echo from log; exit 2'] },
    ]),
  )
  const want = [...Array.from({ length: 79 }, (_, i) => `line ${i + 22}`), 'oops'].join('\n') + '\n'
  t.equal(terminated(result, 'fails')?.message, want.slice(-2048), 'the last 80 lines, at most 2048 bytes')
  t.equal(terminated(result, 'succeeds')?.message, undefined)
  t.equal(terminated(result, 'file-wins')?.message, 'from file\n')
  t.equal(terminated(result, 'file-policy')?.message, undefined, 'policy File never reads the log')
})

t.test("each container instance gets a new, empty file; the last run's message is kept in lastState", { skip }, async t => {
  const step = 'c=$(cat /dev/shm/runs 2>/dev/null || echo 0); c=$((c+1)); echo $c > /dev/shm/runs'
  const { result, lines } = await run(
    t,
    manifest(
      uniqueName('tmrestart'),
      [
        {
          name: 'c',
          command: [
            'sh',
            '-c',
            `${step}; echo "seen: $(cat /dev/termination-log)"; if [ $c -lt 2 ]; then echo "run $c failed" > /dev/termination-log; exit 1; fi; echo "run $c ok" > /dev/termination-log`,
          ],
        },
      ],
      { restartPolicy: 'OnFailure' },
    ),
    { backoff: fast },
  )
  const s = result.containerStatuses[0]
  t.equal(s.restartCount, 1)
  t.same(lines('c'), ['seen: ', 'seen: '], 'the second run starts with an empty file')
  t.match(s.state, { terminated: { exitCode: 0, message: 'run 2 ok\n' } })
  t.match(s.lastState, { terminated: { exitCode: 1, reason: 'Error', message: 'run 1 failed\n' } })
})

t.test("a privileged container's termination-log lives in its own /dev, never in the host's", { skip }, async t => {
  const path = `/dev/pl-termination-${process.pid}`
  const { result, lines } = await run(
    t,
    manifest(uniqueName('tmpriv'), [
      {
        name: 'priv',
        command: ['sh', '-c', `echo privileged > ${path}; test -c /dev/loop-control && echo host-devices; exit 4`],
        terminationMessagePath: path,
        securityContext: { privileged: true },
      } as never,
    ]),
  )
  t.match(terminated(result, 'priv'), { exitCode: 4, message: 'privileged\n' })
  t.same(lines('priv'), ['host-devices'], "the host's devices are there")
  t.notOk(existsSync(path), 'no file made in the host /dev')
})

t.test('imagePullPolicy Never with an image the store lacks fails with ErrImageNeverPull before anything is made', { skip }, async t => {
  const root = mkdtempSync(join(tmpdir(), 'pl-neverpull-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const m = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: uniqueName('neverpull') },
    spec: { containers: [{ name: 'c', image: 'registry.example/app:1.0', imagePullPolicy: 'Never' }] },
  }
  await t.rejects(startPod(m, { stateRoot: root, onWarning: () => {}, onManifestWarning: () => {} }), {
    code: 'ErrImageNeverPull',
    step: 'image.resolve',
    message:
      'image.resolve: registry.example/app:1.0: ErrImageNeverPull: Container image "registry.example/app:1.0" is not present with pull policy of Never (spec.containers[0].image)',
  })
  t.same(readdirSync(root), [], 'nothing made under the state root')
})
