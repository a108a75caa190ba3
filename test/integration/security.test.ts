// securityContext on the real kernel: capabilities, users and groups,
// no_new_privs, privileged, runAsNonRoot.
import t from 'tap'
import { requires } from '../helpers/requires.js'
import * as fs from 'node:fs'
import { startPod } from '../../src/index.js'
import { manifest, run, terminated, uniqueName } from '../helpers/pods.js'

const skip = requires('root', 'built')
const status = ['sh', '-c', 'grep -E "^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):" /proc/self/status | tr -s "\\t " " "']
const field = (lines: string[], name: string) =>
  lines
    .find(l => l.startsWith(`${name}:`))
    ?.split(' ')
    .slice(1)
    .join(' ')
    .trim()
const ownBnd = BigInt('0x' + (await import('node:fs')).readFileSync('/proc/self/status', 'utf8').match(/CapBnd:\s*([0-9a-f]+)/)![1])
const masked = (hex: string) => (BigInt('0x' + hex) & ownBnd).toString(16).padStart(16, '0')

t.test('a default root container has the default set in bounding, permitted and effective, no ambient', { skip }, async t => {
  const { lines } = await run(t, manifest(uniqueName('caps'), [{ name: 'c', command: status }]))
  const l = lines('c')
  for (const f of ['CapBnd', 'CapPrm', 'CapEff']) t.equal(field(l, f), masked('00000000a80425fb'), f)
  t.equal(field(l, 'CapAmb'), '0000000000000000')
  t.equal(field(l, 'CapInh'), '0000000000000000')
})

t.test('add NET_ADMIN and drop CHOWN; privileged gets everything we hold', { skip }, async t => {
  const { lines } = await run(
    t,
    manifest(uniqueName('capsmod'), [
      { name: 'mod', command: status, securityContext: { capabilities: { add: ['NET_ADMIN'], drop: ['CHOWN'] } } } as never,
      { name: 'priv', command: status, securityContext: { privileged: true } } as never,
    ]),
  )
  const mod = BigInt('0x' + field(lines('mod'), 'CapEff'))
  t.ok(mod & (1n << 12n), 'NET_ADMIN')
  t.notOk(mod & 1n, 'no CHOWN')
  t.equal(field(lines('priv'), 'CapEff'), ownBnd.toString(16).padStart(16, '0'))
})

t.test('a non-root container has no permitted or effective capabilities; drop ALL + add NET_BIND_SERVICE bounds it to 0x400', { skip }, async t => {
  const { lines } = await run(
    t,
    manifest(
      uniqueName('nonroot'),
      [
        {
          name: 'c',
          command: status,
          securityContext: { runAsUser: 1000, runAsGroup: 3000, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } },
        } as never,
      ],
      { securityContext: { supplementalGroups: [4000, 4001] } },
    ),
  )
  const l = lines('c')
  t.equal(field(l, 'Uid'), '1000 1000 1000 1000')
  t.equal(field(l, 'Gid'), '3000 3000 3000 3000')
  t.equal(field(l, 'Groups'), '4000 4001')
  t.equal(field(l, 'CapPrm'), '0000000000000000')
  t.equal(field(l, 'CapEff'), '0000000000000000')
  t.equal(field(l, 'CapBnd'), '0000000000000400')
})

t.test('allowPrivilegeEscalation false sets no_new_privs: a setuid binary does not gain root', { skip }, async t => {
  // A setuid-root copy of id in an emptyDir: with no_new_privs the euid stays 1000.
  const { lines } = await run(t, {
    ...manifest(uniqueName('nnp'), []),
    spec: {
      restartPolicy: 'Never',
      volumes: [{ name: 'bin', emptyDir: {} }],
      initContainers: [
        {
          name: 'setup',
          command: ['sh', '-c', 'cp /usr/bin/id /bin-dir/id && chmod 4755 /bin-dir/id'],
          volumeMounts: [{ name: 'bin', mountPath: '/bin-dir' }],
        },
      ],
      containers: [
        {
          name: 'nnp',
          command: ['sh', '-c', 'grep NoNewPrivs /proc/self/status | tr -s "\\t" " "; /bin-dir/id -u'],
          securityContext: { runAsUser: 1000, allowPrivilegeEscalation: false },
          volumeMounts: [{ name: 'bin', mountPath: '/bin-dir' }],
        },
        {
          name: 'plain',
          command: ['sh', '-c', 'grep NoNewPrivs /proc/self/status | tr -s "\\t" " "; /bin-dir/id -u'],
          securityContext: { runAsUser: 1000 },
          volumeMounts: [{ name: 'bin', mountPath: '/bin-dir' }],
        },
      ],
    },
  })
  t.same(lines('nnp'), ['NoNewPrivs: 1', '1000'], 'the setuid bit is ignored')
  t.same(lines('plain'), ['NoNewPrivs: 0', '0'], 'without it the setuid binary runs as root (the control)')
})

t.test('a privileged container can mount a tmpfs and sees host devices; a default one cannot', { skip }, async t => {
  const script = 'mount -t tmpfs none /mnt 2>/dev/null && echo mounted || echo refused; ls /dev | wc -l'
  const { lines } = await run(
    t,
    manifest(uniqueName('priv'), [
      { name: 'priv', command: ['sh', '-c', script], securityContext: { privileged: true } } as never,
      { name: 'plain', command: ['sh', '-c', script] },
    ]),
  )
  t.equal(lines('priv')[0], 'mounted')
  t.equal(lines('plain')[0], 'refused')
  t.ok(Number(lines('priv')[1]) > Number(lines('plain')[1]) + 5, `more devices when privileged (${lines('priv')[1]} vs ${lines('plain')[1]})`)
})

t.test('runAsNonRoot refuses a container that would run as root, with the Kubernetes message', { skip }, async t => {
  const { result } = await run(t, manifest(uniqueName('nonrootcheck'), [{ name: 'c', command: ['true'], securityContext: { runAsNonRoot: true } } as never]))
  t.match(terminated(result, 'c'), { reason: 'ContainerCannotRun', message: /container has runAsNonRoot and image will run as root/ })
})

t.test(
  'supplementalGroups and fsGroup are in Groups; an fsGroup emptyDir is set-gid, group-writable, and files made in it get the group',
  { skip },
  async t => {
    const script = 'grep ^Groups: /proc/self/status | tr -s "\\t " " "; stat -c "%a %g" /data; touch /data/f && stat -c "%u %g" /data/f'
    const { lines } = await run(
      t,
      manifest(
        uniqueName('fsgroup'),
        [
          {
            name: 'c',
            command: ['sh', '-c', script],
            securityContext: { runAsUser: 1000, runAsGroup: 3000 },
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          } as never,
        ],
        { securityContext: { supplementalGroups: [4000], fsGroup: 2000 }, volumes: [{ name: 'data', emptyDir: {} }] },
      ),
    )
    const l = lines('c')
    t.equal(l[0].trim(), 'Groups: 2000 4000', 'fsGroup and the supplemental group')
    t.equal(l[1], '2777 2000', 'the emptyDir: set-gid, rwx for the group, owned by the fsGroup')
    t.equal(l[2], '1000 2000', 'a file the container wrote: its uid, the fsGroup')
  },
)

t.test('a namespaced sysctl is seen inside the pod and not on the host', { skip }, async t => {
  const host = (p: string) => fs.readFileSync(p, 'utf8').trim()
  const before = { port: host('/proc/sys/net/ipv4/ip_unprivileged_port_start'), shm: host('/proc/sys/kernel/shm_rmid_forced') }
  const want = { port: before.port === '123' ? '124' : '123', shm: before.shm === '1' ? '0' : '1' }
  const { lines } = await run(
    t,
    manifest(
      uniqueName('sysctl'),
      [{ name: 'c', command: ['sh', '-c', 'cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shm_rmid_forced'] }],
      {
        securityContext: {
          sysctls: [
            { name: 'net.ipv4.ip_unprivileged_port_start', value: want.port },
            { name: 'kernel/shm_rmid_forced', value: want.shm },
          ],
        },
      },
    ),
  )
  t.same(lines('c'), [want.port, want.shm], "inside: the pod's values")
  t.same({ port: host('/proc/sys/net/ipv4/ip_unprivileged_port_start'), shm: host('/proc/sys/kernel/shm_rmid_forced') }, before, 'the host is unchanged')
})

t.test('sysctls: a host-wide one and a net one with hostNetwork are refused before anything is made; a bad value names the field', { skip }, async t => {
  await t.rejects(
    startPod(manifest(uniqueName('sysctlbad'), [{ name: 'c', command: ['true'] }], { securityContext: { sysctls: [{ name: 'vm.swappiness', value: '10' }] } })),
    {
      message: /spec\.securityContext\.sysctls\[0\]\.name: forbidden sysctl: "vm\.swappiness" not allowlisted/,
    },
  )
  await t.rejects(
    startPod(
      manifest(uniqueName('sysctlhost'), [{ name: 'c', command: ['true'] }], {
        hostNetwork: true,
        securityContext: { sysctls: [{ name: 'net.ipv4.tcp_syncookies', value: '1' }] },
      }),
    ),
    {
      message: /sysctls\[0\]\.name: forbidden sysctl: "net\.ipv4\.tcp_syncookies" not allowed with host net enabled/,
    },
  )
  // A parent of its own, so the check sees only this pod's cgroups.
  const cgroupParent = uniqueName('pod-launch-sysctl')
  const parents = () =>
    ['/sys/fs/cgroup', ...fs.readdirSync('/sys/fs/cgroup').map(d => `/sys/fs/cgroup/${d}`)].map(d => `${d}/${cgroupParent}`).filter(d => fs.existsSync(d))
  t.teardown(() => parents().forEach(d => fs.rmdirSync(d)))
  await t.rejects(
    startPod(
      manifest(uniqueName('sysctlval'), [{ name: 'c', command: ['true'] }], {
        securityContext: { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: 'lots' }] },
      }),
      { cgroupParent },
    ),
    {
      step: 'sandbox.sysctl',
      message: /spec\.securityContext\.sysctls\[0\] \(net\.ipv4\.ip_unprivileged_port_start=lots\): the kernel refused the value "lots"/,
    },
  )
  t.same(
    parents().flatMap(d => fs.readdirSync(d).filter(n => n.startsWith('pod-'))),
    [],
    'no pod cgroup left',
  )
})

t.test('open files: soft 1024 as in a containerd container, the hard limit inherited', { skip }, async t => {
  const hard = fs.readFileSync('/proc/self/limits', 'utf8').match(/^Max open files\s+\d+\s+(\d+)/m)![1]
  const { lines } = await run(t, manifest(uniqueName('nofile'), [{ name: 'c', command: ['sh', '-c', 'ulimit -Sn; ulimit -Hn'] }]))
  t.same(lines('c'), [String(Math.min(1024, Number(hard))), hard])
})
