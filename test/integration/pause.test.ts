import t from 'tap'
import { pausePath, spawnProcess } from '../../src/index.js'
import { requires } from '../helpers/requires.js'

const skip = requires('root', 'built')
/** Pause installs its handlers right after exec; a signal before that has the default action. */
async function handlersReady(pid: number): Promise<void> {
  const { readFileSync } = await import('node:fs')
  const want = (1n << 1n) | (1n << 14n) // SIGINT (2), SIGTERM (15): bit n-1
  for (let i = 0; i < 200; i++) {
    const caught = BigInt('0x' + readFileSync(`/proc/${pid}/status`, 'utf8').match(/SigCgt:\s*([0-9a-f]+)/)![1])
    if ((caught & want) === want) return
    await new Promise(r => setTimeout(r, 5))
  }
  throw new Error(`pause ${pid} never installed its handlers`)
}

const plan = (argv: string[], unshare: ('pid' | 'uts')[] = []) => ({ argv, envp: [], unshare, stdio: [0, 1, 2] as [number, number, number] })

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`pause exits 0 on ${sig}, also as pid 1 of its own pid namespace`, { skip }, async t => {
    for (const unshare of [[], ['pid']] as 'pid'[][]) {
      const pause = await spawnProcess({ ...plan([pausePath()], unshare), dieWithParent: true })
      await handlersReady(pause.pid)
      t.ok(pause.kill(sig))
      t.same(await pause.exited, { code: 0, signal: null, exitCode: 0 }, `unshare=[${unshare}]`)
    }
  })
}

t.test('pause refuses arguments with its own exit code', { skip }, async t => {
  const pause = await spawnProcess({ ...plan([pausePath(), 'extra']), stdio: [0, 0, 0] })
  t.equal((await pause.exited).code, 4)
})

t.test('pause as pid 1 reaps orphans reparented to it', { skip }, async t => {
  // A pod-style pid namespace: pause is pid 1; a shell there double-forks an
  // orphan that exits; pause must reap it so no zombie remains.
  const { openSync, closeSync, readFileSync, readdirSync } = await import('node:fs')
  const pause = await spawnProcess({ ...plan([pausePath()], ['pid']), dieWithParent: true })
  t.teardown(async () => {
    pause.kill('SIGKILL')
    await pause.exited
  })
  const pidns = openSync(`/proc/${pause.pid}/ns/pid`, 'r')
  t.teardown(() => closeSync(pidns))
  const sh = await spawnProcess({ ...plan(['/bin/sh', '-c', '(sleep 0.1 &) ; exit 0']), pidns })
  await sh.exited
  // The orphan (sleep) is now pause's child; wait for it to exit and be reaped.
  const childrenOfPause = () =>
    readdirSync('/proc')
      .filter(n => /^\d+$/.test(n))
      .flatMap(n => {
        try {
          const stat = readFileSync(`/proc/${n}/stat`, 'utf8')
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
          return Number(fields[1]) === pause.pid ? [{ pid: Number(n), state: fields[0] }] : []
        } catch {
          return []
        }
      })
  const deadline = Date.now() + 5000
  let kids = childrenOfPause()
  while (kids.length > 0 && Date.now() < deadline) {
    await new Promise(r => setTimeout(r, 50))
    kids = childrenOfPause()
  }
  t.same(kids, [], 'no child (and no zombie) of pause remains')
  t.ok(pause.isRunning, 'pause keeps running')
})
