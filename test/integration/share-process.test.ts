import t from 'tap'
import { requires } from '../helpers/requires.js'
import { manifest, start, uniqueName } from '../helpers/pods.js'

const skip = requires('root', 'built')

// The seeds' story: a web server and a sidecar in one pod with a shared
// process namespace; the sidecar finds the server by name and sends it SIGHUP
// to reload, as one would `kill -HUP $(pidof nginx)`. pgrep -o: the oldest match, not
// the server's own fork for `sleep` caught before its exec (still named "sh -c trap...").
t.test('with shareProcessNamespace a sidecar sees the server and signals it by pid', { skip }, async t => {
  const server = "trap 'echo reloaded; exit 0' HUP; echo serving; while :; do sleep 0.05; done"
  const sidecar = ['until pid=$(pgrep -o -f "^sh -c trap"); do sleep 0.05; done', 'echo found server pid $pid', 'ps -o pid=,args= -p 1', 'kill -HUP $pid'].join(
    '; ',
  )
  const { pod, lines, waitFor } = await start(
    t,
    manifest(
      uniqueName('hup'),
      [
        { name: 'server', command: ['sh', '-c', server] },
        { name: 'sidecar', command: ['sh', '-c', sidecar] },
      ],
      { shareProcessNamespace: true },
    ),
  )
  await waitFor('server', /^serving$/)
  const result = await pod.wait()
  t.equal(result.exitCode, 0, 'both exited 0')
  t.match(lines('sidecar')[0], /^found server pid \d+$/)
  t.match(lines('sidecar')[1], /^\s*1 .*\/pause$/, 'pid 1 is pause')
  t.same(lines('server'), ['serving', 'reloaded'], 'the server got SIGHUP from the sidecar')
})

t.test('without shareProcessNamespace a container sees only its own processes', { skip }, async t => {
  const { pod, lines } = await start(
    t,
    manifest(uniqueName('nosharepid'), [
      { name: 'a', command: ['sh', '-c', 'ls /proc | grep -E "^[0-9]+$" | sort -n | tr "\\n" " "'] },
      { name: 'b', command: ['sleep', '0.5'] },
    ]),
  )
  await pod.wait()
  // sh is pid 1; its children ls, grep, sort, tr come right after it.
  const pids = lines('a')[0].trim().split(' ').map(Number)
  t.equal(pids[0], 1)
  t.ok(
    pids.every(p => p < 10),
    `only a few low pids: ${pids.join(' ')}`,
  )
})
