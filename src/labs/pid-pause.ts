// Labs: pid-sharing, pause-role.
import { closeSync, openSync } from 'node:fs'
import type { Lab } from './lab.js'

export const pidSharing: Lab = {
  name: 'pid-sharing',
  title: 'Process namespaces: private per container, or shared through pause with shareProcessNamespace',
  async run(l) {
    l.say('Without shareProcessNamespace every container is PID 1 of its own pid namespace and sees only its own processes.')
    const ps = 'echo "$(cat /proc/1/comm) is pid 1; pids: $(ls /proc | grep -E "^[0-9]+$" | sort -n | tr "\\n" " ")"'
    const alone = await l.pod('private', {
      containers: [
        { name: 'a', command: ['sh', '-c', ps] },
        { name: 'b', command: ['sh', '-c', `sleep 0.2; ${ps}`] },
      ],
    })
    await alone.pod.wait()
    l.show('a sees', alone.lines('a')[0])
    l.show('b sees', alone.lines('b')[0])
    l.check('each container is pid 1 of its own namespace', alone.lines('a')[0].startsWith('sh is pid 1') && alone.lines('b')[0].startsWith('sh is pid 1'))
    l.say(
      'With shareProcessNamespace: true, pause is PID 1 of one pid namespace for the whole pod. ' +
        'A config-reloader sidecar can find the server and send it SIGHUP, as with nginx.',
    )
    const shared = await l.pod('shared', {
      shareProcessNamespace: true,
      containers: [
        { name: 'server', command: ['sh', '-c', "trap 'echo reloading config after SIGHUP; exit 0' HUP; echo serving; while :; do sleep 0.05; done"] },
        {
          name: 'reloader',
          command: [
            'sh',
            '-c',
            'until pid=$(pgrep -f "^sh -c trap"); do sleep 0.05; done; echo "pid 1 is $(cat /proc/1/comm); server is pid $pid; sending SIGHUP"; kill -HUP $pid',
          ],
        },
      ],
    })
    const result = await shared.pod.wait()
    l.show('reloader', shared.lines('reloader')[0])
    l.show('server', shared.lines('server').join(' / '))
    l.check('pause is pid 1 of the shared namespace', /^pid 1 is pause;/.test(shared.lines('reloader')[0] ?? ''))
    l.check('the sidecar signalled the server by pid', shared.lines('server').includes('reloading config after SIGHUP') && result.phase === 'Succeeded')
  },
}

export const pauseRole: Lab = {
  name: 'pause-role',
  title: 'pause holds the namespaces: a restarted container comes back into the same ones; when pause dies the pod gets a new sandbox',
  async run(l) {
    l.say(
      'A container that crashes is restarted (restartPolicy Always); the net namespace it returns to is the same inode, because pause kept it alive meanwhile.',
    )
    const p = await l.pod(
      'pause',
      {
        restartPolicy: 'Always',
        containers: [
          {
            name: 'app',
            command: [
              'sh',
              '-c',
              'echo "run with $(readlink /proc/self/ns/net)"; [ -e /dev/shm/crashed ] && exec sleep 60; touch /dev/shm/crashed; echo crashing; exit 1',
            ],
          },
        ],
      },
      { backoff: { initialMs: 200, maxMs: 400, resetAfterMs: 800_000 } },
    )
    await p.waitFor('app', /^crashing$/)
    for (let i = 0; i < 100 && p.lines('app').filter(x => x.startsWith('run')).length < 2; i++) await new Promise(r => setTimeout(r, 50))
    const runs = p.lines('app').filter(x => x.startsWith('run'))
    l.show('first run', runs[0])
    l.show('after the restart', runs[1] ?? '(none)')
    l.show('pause', `net:[${p.pod.sandbox.namespaces.net}] pid ${p.pod.sandbox.pid}`)
    l.show('restartCount', p.pod.runners[0].status.restartCount)
    l.check('the container restarted', p.pod.runners[0].status.restartCount === 1)
    l.check('into the same net namespace', runs.length === 2 && runs[0] === runs[1] && runs[0].endsWith(`net:[${p.pod.sandbox.namespaces.net}]`))
    l.say(
      'Now kill pause. Nothing holds the namespaces any more: as kubelet does, pod-launch kills the container, ' +
        'makes a new sandbox (a new pause, new namespaces) and starts the container again in it.',
    )
    // The sandbox is re-made in place: keep what the old pause was.
    const oldPause = { pid: p.pod.sandbox.pid, namespaces: { ...p.pod.sandbox.namespaces } }
    // Held open, the old net namespace cannot be freed: the kernel cannot hand its inode number to the new one.
    const holdOld = openSync(`/proc/${oldPause.pid}/ns/net`, 'r')
    process.kill(oldPause.pid, 'SIGKILL')
    for (let i = 0; i < 200 && p.lines('app').filter(x => x.startsWith('run')).length < 3; i++) await new Promise(r => setTimeout(r, 50))
    const third = p.lines('app').filter(x => x.startsWith('run'))[2] ?? '(none)'
    l.show('event', JSON.stringify(p.events.find(e => e.type === 'sandbox-changed')))
    l.show('new pause', `net:[${p.pod.sandbox.namespaces.net}] pid ${p.pod.sandbox.pid} (was net:[${oldPause.namespaces.net}] pid ${oldPause.pid})`)
    l.show('after the new sandbox', third)
    l.show('restartCount', p.pod.runners[0].status.restartCount)
    l.check('a new pause in new namespaces', p.pod.sandbox.pid !== oldPause.pid && p.pod.sandbox.namespaces.net !== oldPause.namespaces.net)
    l.check(
      'the container runs in the new net namespace, counted as a restart',
      third.endsWith(`net:[${p.pod.sandbox.namespaces.net}]`) && p.pod.runners[0].status.restartCount === 2,
    )
    closeSync(holdOld)
    await p.pod.stop({ force: true })
  },
}
