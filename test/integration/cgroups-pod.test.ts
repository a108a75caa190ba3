// Cgroups through the pod engine: Kubernetes resources applied, OOMKilled
// reported in the container status, daemons that escaped killed at teardown.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { requires } from '../helpers/requires.js'
import { manifest, start, terminated, uniqueName } from '../helpers/pods.js'
import { bootTicks, processesInNamespace } from '../helpers/procs.js'

const skip = requires('root', 'built')

t.test('a container over its memory limit is OOMKilled while its sibling keeps running', { skip }, async t => {
  const { pod, waitFor } = await start(t, {
    ...manifest(uniqueName('oom'), []),
    spec: {
      restartPolicy: 'Never',
      containers: [
        { name: 'hog', command: ['sh', '-c', 'echo go; x=a; while :; do x="$x$x"; done'], resources: { limits: { memory: '32Mi' } } },
        { name: 'calm', command: ['sh', '-c', 'echo up; while :; do sleep 0.05; done'], resources: { limits: { memory: '64Mi', cpu: '250m' } } },
      ],
    },
  })
  await waitFor('calm', /^up$/)
  const hog = pod.runners.find(r => r.spec.name === 'hog')!
  for (let i = 0; i < 300 && !('terminated' in hog.status.state); i++) await new Promise(r => setTimeout(r, 50))
  t.match(hog.status.state, { terminated: { reason: 'OOMKilled', exitCode: 137, signal: 'SIGKILL' } })
  const calm = pod.runners.find(r => r.spec.name === 'calm')!
  t.ok('running' in calm.status.state, 'the sibling still runs')
  // The limits as kubelet writes them, in the container's own cgroup.
  const limitFile = pod.cgroups.paths.containers.calm.flatMap(p => ['memory.max', 'memory.limit_in_bytes'].map(f => join(p, f))).find(f => existsSync(f))!
  t.equal(readFileSync(limitFile, 'utf8').trim(), '67108864', `${limitFile} = 64Mi`)
  t.equal(pod.stats('hog').oomKills >= 1, true, 'stats count the OOM kill')
  const result = await pod.stop({ force: true })
  t.equal(terminated(result, 'hog')?.reason, 'OOMKilled')
})

t.test('an ordinary SIGKILL is not reported as OOMKilled', { skip }, async t => {
  const { pod, waitFor } = await start(
    t,
    manifest(uniqueName('kill'), [{ name: 'c', command: ['sh', '-c', 'echo up; exec sleep 60'], resources: { limits: { memory: '64Mi' } } } as never]),
  )
  await waitFor('c', /^up$/)
  process.kill(pod.runners[0].status.pid!, 'SIGKILL')
  const result = await pod.wait()
  t.match(terminated(result, 'c'), { reason: 'Error', exitCode: 137, signal: 'SIGKILL' })
})

t.test('a daemon that escaped its session and its parent is killed at teardown', { skip }, async t => {
  // Shared pid namespace: the daemon is reparented to pause, not killed with the container.
  const { pod, waitFor } = await start(
    t,
    manifest(uniqueName('daemon'), [{ name: 'c', command: ['sh', '-c', '(setsid sh -c "while :; do sleep 1; done" &); echo forked; sleep 0.3'] }], {
      shareProcessNamespace: true,
    }),
  )
  await waitFor('c', /^forked$/)
  const uts = pod.sandbox.namespaces.uts
  const result = await pod.wait()
  t.equal(result.phase, 'Succeeded')
  t.same(processesInNamespace('uts', uts, bootTicks()), [], 'the daemon is gone with the pod')
})
