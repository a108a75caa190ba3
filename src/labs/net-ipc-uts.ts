// Labs: shared-net, shared-ipc, uts. What the pod's containers share through pause.
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { namespaceInodes } from '../index.js'
import type { Lab } from './lab.js'

const node = process.execPath
const server = (port: number, other: number) =>
  `const net = require('net'); net.createServer(s => s.end('hello from :${port}\\n')).listen(${port}, '127.0.0.1', () => {
    console.log('listening on 127.0.0.1:${port}')
    const go = () => net.connect(${other}, '127.0.0.1')
      .on('data', d => console.log('reached :${other}: ' + String(d).trim()))
      .on('error', () => setTimeout(go, 50))
    go()
  })`

export const sharedNet: Lab = {
  name: 'shared-net',
  title: 'Containers of a pod share one network namespace: localhost reaches the other container',
  async run(l) {
    l.say(
      "Two containers, the seeds' servers on 8080 and 8081. Each connects to the other over 127.0.0.1: " +
        'they are in the network namespace pause made, so one loopback serves both.',
    )
    const a = await l.pod('net', {
      containers: [
        { name: 'web-8080', command: [node, '-e', server(8080, 8081)] },
        { name: 'web-8081', command: [node, '-e', server(8081, 8080)] },
      ],
    })
    const got = await Promise.all([a.waitFor('web-8080', /^reached :8081/), a.waitFor('web-8081', /^reached :8080/)])
    const [c1, c2] = a.pod.runners.map(r => r.namespaces!.net)
    l.show('pause net namespace', `net:[${a.pod.sandbox.namespaces.net}]`)
    l.show('web-8080 net namespace', `net:[${c1}]`)
    l.show('web-8081 net namespace', `net:[${c2}]`)
    l.show('host net namespace (this process)', `net:[${namespaceInodes('self').net}]`)
    l.show('web-8080 says', got[0])
    l.show('web-8081 says', got[1])
    l.check("both containers are in pause's net namespace", c1 === a.pod.sandbox.namespaces.net && c2 === c1)
    l.check("which is not the host's", c1 !== namespaceInodes('self').net)
    l.check(
      'each reached the other over localhost',
      got.every(g => /hello from/.test(g)),
    )
    l.say('A third pod has its own pause, its own network namespace and its own loopback: 127.0.0.1:8080 there is nobody.')
    const b = await l.pod('other', {
      containers: [
        {
          name: 'probe',
          command: [
            node,
            '-e',
            "require('net').connect(8080, '127.0.0.1').on('connect', () => console.log('connected')).on('error', e => console.log('refused: ' + e.code))",
          ],
        },
      ],
    })
    const probe = await b.waitFor('probe', /^(connected|refused)/)
    l.show('other pod net namespace', `net:[${b.pod.sandbox.namespaces.net}]`)
    l.show('its probe of 127.0.0.1:8080', probe)
    l.check("the third pod cannot reach the first pod's localhost", probe === 'refused: ECONNREFUSED')
  },
}

export const sharedIpc: Lab = {
  name: 'shared-ipc',
  title: 'System V IPC objects are per pod: made in one container, seen in the other, not on the host',
  async run(l) {
    l.say("Container a creates a shared memory segment (ipcmk); container b lists segments (ipcs). Both joined pause's IPC namespace; the host has another.")
    const p = await l.pod('ipc', {
      containers: [
        { name: 'a', command: ['sh', '-c', 'ipcmk -M 4096; exec sleep 60'] },
        { name: 'b', command: ['sh', '-c', "until ipcs -m | grep -q '^0x'; do sleep 0.05; done; ipcs -m | grep '^0x'; exec sleep 60"] },
      ],
    })
    const made = (await p.waitFor('a', /Shared memory id: \d+/)).match(/(\d+)$/)![1]
    const row = await p.waitFor('b', /^0x/)
    const key = row.split(/\s+/)[0]
    const hostKeys = readFileSync('/proc/sysvipc/shm', 'utf8')
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map(r => BigInt(r.trim().split(/\s+/)[0]))
    l.show('a: ipcmk -M 4096', `Shared memory id: ${made}`)
    l.show('b: ipcs -m', row.replace(/\s+/g, ' '))
    l.show('ipc namespace of a / b / pause', `${p.pod.runners[0].namespaces!.ipc} / ${p.pod.runners[1].namespaces!.ipc} / ${p.pod.sandbox.namespaces.ipc}`)
    l.show('host /proc/sysvipc/shm keys', hostKeys.length ? hostKeys.map(k => '0x' + k.toString(16).padStart(8, '0')).join(' ') : '(none)')
    l.check('b sees the segment a made', row.split(/\s+/)[1] === made)
    l.check('the host does not', !hostKeys.includes(BigInt(key)))
  },
}

export const uts: Lab = {
  name: 'uts',
  title: "The hostname is per pod: set once in pause's UTS namespace, seen by every container",
  async run(l) {
    l.say('pause made a UTS namespace and set its hostname (spec.hostname, else the pod name); the containers joined it.')
    const p = await l.pod('uts', {
      hostname: 'lab-host',
      containers: [
        { name: 'a', command: ['hostname'] },
        { name: 'b', command: ['cat', '/proc/sys/kernel/hostname'] },
      ],
    })
    await p.pod.wait()
    l.show('spec.hostname', 'lab-host')
    l.show('a: hostname', p.lines('a')[0])
    l.show('b: /proc/sys/kernel/hostname', p.lines('b')[0])
    l.show('the host', hostname())
    l.check("both containers see the pod's hostname", p.lines('a')[0] === 'lab-host' && p.lines('b')[0] === 'lab-host')
    l.check('the host keeps its own', hostname() !== 'lab-host')
  },
}
