// Labs: memory-limit, cpu-limit, graceful-stop, host-namespaces.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { namespaceInodes, type Pod } from '../index.js'
import type { Lab } from './lab.js'

/** The first of `files` that exists in one of the container's cgroup directories. */
function cgroupFile(pod: Pod, who: string, ...files: string[]): string | undefined {
  const dirs = who === 'pod' ? pod.cgroups.paths.pod : pod.cgroups.paths.containers[who]
  return dirs.flatMap(d => files.map(f => join(d, f))).find(f => existsSync(f))
}
const readTrim = (f?: string) => (f ? readFileSync(f, 'utf8').trim() : '(none)')

export const memoryLimit: Lab = {
  name: 'memory-limit',
  title: 'limits.memory becomes the cgroup memory limit; past it the kernel OOM-kills the container',
  async run(l) {
    l.say(
      'The hog container has limits.memory: 32Mi and keeps allocating. pod-launch wrote 32Mi = 33554432 bytes to its cgroup; ' +
        'the kernel\'s OOM killer sends SIGKILL when it goes past, and the cgroup counts the kill, so the status says OOMKilled, not just "killed".',
    )
    const p = await l.pod('mem', {
      containers: [
        { name: 'hog', command: ['sh', '-c', 'echo allocating; x=a; while :; do x="$x$x"; done'], resources: { limits: { memory: '32Mi' } } },
        { name: 'neighbour', command: ['sh', '-c', 'echo up; exec sleep 60'] },
      ],
    })
    await p.waitFor('neighbour', /^up$/)
    const limitFile = cgroupFile(p.pod, 'hog', 'memory.max', 'memory.limit_in_bytes')
    l.show('limits.memory', '32Mi')
    l.show(limitFile ?? 'memory limit file', readTrim(limitFile))
    const hog = p.pod.runners[0]
    for (let i = 0; i < 400 && !('terminated' in hog.status.state); i++) await new Promise(r => setTimeout(r, 50))
    const t = 'terminated' in hog.status.state ? hog.status.state.terminated : undefined
    l.show('hog state', t ? `Terminated, reason ${t.reason}, exit code ${t.exitCode}, signal ${t.signal}` : JSON.stringify(hog.status.state))
    l.show('OOM kills counted by the cgroup', p.pod.stats('hog').oomKills)
    l.show('neighbour state', Object.keys(p.pod.runners[1].status.state)[0])
    l.check('the cgroup limit is exactly 32Mi', readTrim(limitFile) === '33554432')
    l.check('the hog was OOMKilled with exit code 137', t?.reason === 'OOMKilled' && t.exitCode === 137)
    l.check('its neighbour keeps running', 'running' in p.pod.runners[1].status.state)
  },
}

export const cpuLimit: Lab = {
  name: 'cpu-limit',
  title: 'limits.cpu in millicores becomes a CFS quota per period; a busy loop gets that share of one cpu',
  async run(l) {
    l.say('limits.cpu: 250m means 250/1000 of a cpu: a quota of 25000 us in every 100000 us period. A busy loop is throttled to about a quarter of a cpu.')
    const p = await l.pod('cpu', {
      containers: [{ name: 'spin', command: ['sh', '-c', 'echo spinning; while :; do :; done'], resources: { limits: { cpu: '250m' } } }],
    })
    await p.waitFor('spin', /^spinning$/)
    const quota = cgroupFile(p.pod, 'spin', 'cpu.max', 'cpu.cfs_quota_us')
    const period = cgroupFile(p.pod, 'spin', 'cpu.cfs_period_us')
    l.show(quota ?? 'quota', readTrim(quota))
    if (period) l.show(period, readTrim(period))
    const before = p.pod.stats('spin').cpuUsageNs ?? 0
    const t0 = process.hrtime.bigint()
    await new Promise(r => setTimeout(r, 1500))
    const used = (p.pod.stats('spin').cpuUsageNs ?? 0) - before
    const share = used / Number(process.hrtime.bigint() - t0)
    const stat = cgroupFile(p.pod, 'spin', 'cpu.stat')
    const throttled = readTrim(stat)
      .split('\n')
      .filter(x => /^(nr_periods|nr_throttled|throttled_(time|usec))/.test(x))
      .join(', ')
    l.show('cpu used over 1.5 s', `${(share * 100).toFixed(1)}% of one cpu`)
    l.show('throttling (cpu.stat)', throttled)
    l.check('the quota is 25000 us per 100000 us', /^25000( 100000)?$/.test(readTrim(quota)) && (!period || readTrim(period) === '100000'))
    l.check('the loop got about a quarter of a cpu (0.15-0.35)', share > 0.15 && share < 0.35, `${share.toFixed(3)}`)
    l.check('the kernel throttled it', /nr_throttled \d*[1-9]/.test(throttled))
  },
}

export const gracefulStop: Lab = {
  name: 'graceful-stop',
  title: 'Stopping a pod: preStop, then SIGTERM, then SIGKILL when the grace period ends',
  async run(l) {
    l.say(
      'polite handles SIGTERM and exits 0; its preStop hook runs first, inside the container. ' +
        'stubborn ignores SIGTERM and is killed when terminationGracePeriodSeconds (2) runs out.',
    )
    const p = await l.pod('stop', {
      terminationGracePeriodSeconds: 2,
      containers: [
        {
          name: 'polite',
          command: ['sh', '-c', "trap 'echo got SIGTERM, saving state; exit 0' TERM; echo ready; while :; do sleep 0.05; done"],
          lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo "preStop: draining connections" > /proc/1/fd/1'] } } },
        },
        { name: 'stubborn', command: ['sh', '-c', "trap '' TERM; echo ready; while :; do sleep 0.05; done"] },
      ],
    })
    await Promise.all([p.waitFor('polite', /^ready$/), p.waitFor('stubborn', /^ready$/)])
    const t0 = Date.now()
    const result = await p.pod.stop()
    const took = Date.now() - t0
    const term = (n: string) => {
      const s = result.containerStatuses.find(c => c.name === n)!.state
      return 'terminated' in s ? s.terminated : undefined
    }
    const describe = (n: string) => {
      const t = term(n)
      return t ? `Terminated ${t.reason}, exit code ${t.exitCode}${t.signal ? ` (${t.signal})` : ''}` : 'still running'
    }
    l.show('polite printed', p.lines('polite').join(' / '))
    l.show('polite', describe('polite'))
    l.show('stubborn', describe('stubborn'))
    l.show('stop took', `${took} ms`)
    l.check('preStop ran before SIGTERM', p.lines('polite').join('|') === 'ready|preStop: draining connections|got SIGTERM, saving state')
    l.check('polite exited 0 on SIGTERM', term('polite')?.exitCode === 0)
    l.check('stubborn was SIGKILLed (137) after the grace period', term('stubborn')?.exitCode === 137 && took >= 1900)
  },
}

export const hostNamespaces: Lab = {
  name: 'host-namespaces',
  title: "hostNetwork, hostPID, hostIPC: which namespaces stay the host's",
  async run(l) {
    l.say(
      'A normal pod gets its own net, uts, ipc (through pause) and pid; the host* fields keep those of the host instead. ' +
        "The mount namespace is always the container's own.",
    )
    const host = namespaceInodes('self')
    const plain = await l.pod('plain', { containers: [{ name: 'c', command: ['sleep', '0.3'] }] })
    const open = await l.pod('host', { hostNetwork: true, hostPID: true, hostIPC: true, containers: [{ name: 'c', command: ['sleep', '0.3'] }] })
    const a = plain.pod.runners[0].namespaces!
    const b = open.pod.runners[0].namespaces!
    for (const t of ['net', 'uts', 'ipc', 'pid', 'mnt'] as const) l.show(`${t}: host / plain pod / host* pod`, `${host[t]} / ${a[t]} / ${b[t]}`)
    l.check(
      'a plain pod shares none of net, uts, ipc, pid, mnt with the host',
      (['net', 'uts', 'ipc', 'pid', 'mnt'] as const).every(t => a[t] !== host[t]),
    )
    l.check(
      "hostNetwork, hostPID, hostIPC keep net, uts, pid, ipc the host's",
      (['net', 'uts', 'ipc', 'pid'] as const).every(t => b[t] === host[t]),
    )
    l.check('its mount namespace is still its own', b.mnt !== host.mnt)
    await Promise.all([plain.pod.wait(), open.pod.wait()])
  },
}
