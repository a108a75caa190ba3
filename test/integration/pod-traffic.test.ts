import t from 'tap'
import { readFileSync } from 'node:fs'
import { requires } from '../helpers/requires.js'
import { manifest, run, start, uniqueName } from '../helpers/pods.js'

const node = process.execPath
const skip = requires('root', 'built')

t.test('container b reaches container a over 127.0.0.1 inside the pod', { skip }, async t => {
  const port = 18080
  const server = `require('net').createServer(s => { s.end('pong from a\\n'); process.exit(0) }).listen(${port}, '127.0.0.1', () => console.log('listening'))`
  const client = `const net = require('net'); const go = () => { const s = net.connect(${port}, '127.0.0.1'); s.on('data', d => { process.stdout.write(d) }); s.on('error', () => setTimeout(go, 20)) }; go()`
  const { result, lines } = await run(
    t,
    manifest(uniqueName('lo'), [
      { name: 'a', command: [node, '-e', server] },
      { name: 'b', command: [node, '-e', client] },
    ]),
  )
  t.equal(result.exitCode, 0)
  t.same(lines('a'), ['listening'])
  t.same(lines('b'), ['pong from a'])
})

t.test('a System V shm segment made in a is seen in b and not on the host', { skip }, async t => {
  const { pod, lines, waitFor } = await start(
    t,
    manifest(uniqueName('ipc'), [
      { name: 'a', command: ['sh', '-c', 'ipcmk -M 4096 && exec sleep 60'] },
      { name: 'b', command: ['sh', '-c', "until ipcs -m | grep -q '^0x'; do sleep 0.05; done; ipcs -m; exec sleep 60"] },
    ]),
  )
  const made = (await waitFor('a', /Shared memory id: \d+/)).match(/(\d+)$/)![1]
  await waitFor('b', /^0x/)
  const row = lines('b').find(l => /^0x/.test(l) && l.split(/\s+/)[1] === made)
  t.ok(row, `b sees shmid ${made}`)
  const key = BigInt(row!.split(/\s+/)[0])
  const host = readFileSync('/proc/sysvipc/shm', 'utf8')
    .split('\n')
    .slice(1)
    .filter(r => r.trim())
  t.notOk(
    host.some(r => BigInt(r.trim().split(/\s+/)[0]) === key),
    `the host does not see key ${row!.split(/\s+/)[0]}`,
  )
  await pod.stop({ force: true })
})
