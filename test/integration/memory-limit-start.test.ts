// A memory limit too small to start the pod is named with the limit: pause
// killed by the pod cgroup's limit (where "ns.open: /proc/N/ns/ipc" was all one
// saw), and a container OOM-killed at start in the closing table. The OOM
// kill is counted differently on cgroup v1 and v2: both lanes run this file.
import t from 'tap'
import { readdirSync } from 'node:fs'
import { requires } from '../helpers/requires.js'
import { manifest, uniqueName } from '../helpers/pods.js'
import { cli } from '../helpers/cli.js'
import { newRoot, writeManifest } from '../helpers/detached-pods.js'

const skip = requires('root', 'built')

t.test('a memory limit too small for pause, or for the container, says so, naming the limit', { skip }, async t => {
  const root = newRoot(t)
  const tiny = writeManifest(t, manifest(uniqueName('oom-pause'), [{ name: 'c', command: ['sleep', '5'], resources: { limits: { memory: '64Ki' } } } as never]))
  const r = await cli(root, 'run', tiny)
  t.equal(r.code, 1)
  t.match(
    r.stderr,
    /^pod-launch: sandbox\.start: .*: pause \(pid \d+\) was killed by the pod's memory limit: 64Ki, the sum of its containers' limits\.memory, is too small to start the pod\n/,
  )
  t.match(r.stderr, /hint: raise resources\.limits\.memory/)
  t.notMatch(r.stderr, /ns\.open/)
  t.same(
    readdirSync(root).filter(d => !d.startsWith('.')),
    [],
    'nothing left',
  )
  // Enough for pause (the pod total), too little for a shell in the container.
  const small = manifest(uniqueName('oom-c'), [
    {
      name: 'c',
      command: ['sh', '-c', 'echo started; x=$(head -c 8000000 /dev/zero | tr "\\0" a); echo never'],
      resources: { limits: { memory: '4Mi' } },
    } as never,
  ])
  const c = await cli(root, 'run', writeManifest(t, small))
  t.equal(c.code, 137, c.stderr)
  t.match(c.stderr, /c +Terminated +OOMKilled +137 \(SIGKILL\) +0 +killed at its memory limit \(limits\.memory 4Mi\)/)
})
