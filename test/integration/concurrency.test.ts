import t from 'tap'
import { spawn } from 'node:child_process'
import { native, spawnProcess, startPod, type PodEvent } from '../../src/index.js'
import { requires } from '../helpers/requires.js'
import { exitCodes, manifest, track, uniqueName } from '../helpers/pods.js'

const skip = requires('root', 'built')

t.test('200 pod containers and 50 child_process children: every exit reaches its own owner once', { skip }, async t => {
  const PODS = 10
  const PER_POD = 20
  const CHILDREN = 50
  const exits = new Map<string, number[]>()
  const onEvent = (e: PodEvent) => {
    if (e.type !== 'container-exited') return
    const key = `${e.pod}/${e.container}`
    exits.set(key, [...(exits.get(key) ?? []), e.exitCode])
  }
  const code = (p: number, c: number) => (p * PER_POD + c) % 250
  const pods = Array.from({ length: PODS }, (_, p) =>
    startPod(
      manifest(
        uniqueName(`many${p}`),
        Array.from({ length: PER_POD }, (_, c) => ({ name: `c${c}`, command: ['sh', '-c', `exit ${code(p, c)}`] })),
      ) as Record<string, unknown>,
      { onEvent, onOutput: () => {}, onManifestWarning: () => {} },
    ).then(pod => (track(pod), pod.wait())),
  )
  const children = Array.from(
    { length: CHILDREN },
    (_, k) =>
      new Promise<{ k: number; code: number | null; count: number }>((resolve, reject) => {
        let count = 0
        const child = spawn('sh', ['-c', `exit ${k + 1}`], { stdio: 'ignore' })
        child.on('error', reject)
        child.on('exit', c => {
          count++
          setImmediate(() => resolve({ k, code: c, count }))
        })
      }),
  )
  const [results, childResults] = await Promise.all([Promise.all(pods), Promise.all(children)])
  for (const [p, result] of results.entries()) {
    t.same(
      exitCodes(result),
      Array.from({ length: PER_POD }, (_, c) => code(p, c)),
      `pod ${p}: every container's own code`,
    )
  }
  t.equal(exits.size, PODS * PER_POD, 'an exit event for every container')
  t.ok(
    [...exits.values()].every(v => v.length === 1),
    'each exactly once',
  )
  t.ok(
    childResults.every(r => r.code === r.k + 1 && r.count === 1),
    'child_process children each got their own code once',
  )
})

t.test('clone(2) fallback spawns as clone3 does', { skip }, async t => {
  const child = await spawnProcess({ argv: ['sh', '-c', 'exit 7'], envp: [], searchPath: '/usr/bin:/bin', stdio: [0, 1, 2], legacyClone: true })
  t.same(await child.exited, { code: 7, signal: null, exitCode: 7 })
  const modern = await spawnProcess({ argv: ['sh', '-c', 'exit 8'], envp: [], searchPath: '/usr/bin:/bin', stdio: [0, 1, 2] })
  t.equal((await modern.exited).code, 8)
  t.equal(native().hasClone3(), true, 'this kernel has clone3')
})

t.test('a signal death is reported as the signal and 128 + its number', { skip }, async t => {
  const child = await spawnProcess({ argv: ['sleep', '30'], envp: [], searchPath: '/usr/bin:/bin', stdio: [0, 1, 2] })
  t.ok(child.kill('SIGKILL'))
  t.same(await child.exited, { code: null, signal: 'SIGKILL', exitCode: 137 })
  t.notOk(child.kill('SIGTERM'), 'signalling an exited child is a no-op, never a recycled pid')
})
