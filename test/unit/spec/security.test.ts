import t from 'tap'
import { parseManifest } from '../../../src/index.js'
import { capabilityMasks } from '../../../src/spec/index.js'
import { normalizeSysctlName } from '../../../src/spec/security.js'
import { processGroups, sysctlPath } from '../../../src/pod/plan.js'

const pod = (container: object, spec: object = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p' },
  spec: { ...spec, containers: [{ name: 'c', command: ['x'], ...container }] },
})
const sec = (container: object, spec: object = {}) => parseManifest(pod(container, spec)).spec.containers[0].securityContext
const hex = (b: bigint) => b.toString(16).padStart(16, '0')

t.test("the default capability set is Docker/containerd's", async t => {
  t.equal(hex(capabilityMasks(sec({})).bounding), '00000000a80425fb')
})

t.test('drop ALL then add NET_BIND_SERVICE leaves only bit 10; names work with or without CAP_', async t => {
  t.equal(hex(capabilityMasks(sec({ securityContext: { capabilities: { drop: ['ALL'], add: ['CAP_NET_BIND_SERVICE'] } } })).bounding), '0000000000000400')
  const m = capabilityMasks(sec({ securityContext: { capabilities: { add: ['net_admin'], drop: ['CHOWN'] } } })).bounding
  t.ok(m & (1n << 12n), 'NET_ADMIN added')
  t.notOk(m & 1n, 'CHOWN dropped')
})

t.test('privileged gets every capability up to the last one', async t => {
  t.equal(capabilityMasks(sec({ securityContext: { privileged: true } }), 40).bounding, (1n << 41n) - 1n)
})

t.test('the container securityContext wins over the pod one, the pod one is inherited', async t => {
  const s = sec({ securityContext: { runAsUser: 7 } }, { securityContext: { runAsUser: 5, runAsGroup: 6, supplementalGroups: [9] } })
  t.match(s, { runAsUser: 7, runAsGroup: 6, supplementalGroups: [9] })
})

t.test('bad input names the field', async t => {
  t.throws(() => parseManifest(pod({ securityContext: { capabilities: { add: ['FLY'] } } })), {
    message: /spec\.containers\[0\]\.securityContext\.capabilities\.add\[0\]: "FLY" is not a capability/,
  })
  t.throws(() => parseManifest(pod({ securityContext: { runAsNonRoot: true, runAsUser: 0 } })), {
    message: /securityContext\.runAsNonRoot: conflicts with runAsUser 0/,
  })
  t.throws(() => parseManifest(pod({ securityContext: { privileged: true, allowPrivilegeEscalation: false } })), {
    message: /allowPrivilegeEscalation: cannot be false when privileged is true/,
  })
})

t.test('what is not applied yet is named', async t => {
  t.same(
    parseManifest(pod({ securityContext: { fsGroup: 1 } })).unsupported,
    ['spec.containers[0].securityContext.fsGroup (unknown field)'],
    'fsGroup is a pod-level field only',
  )
})

t.test('fsGroup is inherited by every container and becomes one of its groups', async t => {
  const s = sec({}, { securityContext: { fsGroup: 2000, supplementalGroups: [4000, 2000] } })
  t.equal(s.fsGroup, 2000)
  t.same(processGroups(s, [10, 4000]), [10, 4000, 2000], 'image groups, supplementalGroups, fsGroup; each once')
  t.throws(() => parseManifest(pod({}, { securityContext: { fsGroup: -1 } })), { message: /spec\.securityContext\.fsGroup/ })
  t.throws(() => parseManifest(pod({}, { securityContext: { fsGroupChangePolicy: 'Sometimes' } })), { message: /spec\.securityContext\.fsGroupChangePolicy/ })
})

t.test("sysctls: namespaced ones are kept (normalized); others are refused with kubelet's words", async t => {
  const sysctls = (list: object[], spec: object = {}) => parseManifest(pod({}, { ...spec, securityContext: { sysctls: list } })).spec.securityContext.sysctls
  t.same(
    sysctls([
      { name: 'net.ipv4.ip_forward', value: '1' },
      { name: 'kernel/shm_rmid_forced', value: '1' },
      { name: 'kernel.sem', value: '250 32000 32 128' },
      { name: 'fs.mqueue.msg_max', value: '20' },
    ]),
    [
      { name: 'net.ipv4.ip_forward', value: '1', namespace: 'net' },
      { name: 'kernel.shm_rmid_forced', value: '1', namespace: 'ipc' },
      { name: 'kernel.sem', value: '250 32000 32 128', namespace: 'ipc' },
      { name: 'fs.mqueue.msg_max', value: '20', namespace: 'ipc' },
    ],
  )
  t.equal(normalizeSysctlName('net/ipv4/conf/eth0.100/forwarding'), 'net.ipv4.conf.eth0/100.forwarding')
  t.equal(sysctlPath('net.ipv4.conf.eth0/100.forwarding'), '/proc/sys/net/ipv4/conf/eth0.100/forwarding')
  t.throws(() => sysctls([{ name: 'kernel.semx', value: '1' }]), { message: /sysctls\[0\]\.name: forbidden sysctl: "kernel\.semx" not allowlisted/ })
  t.throws(() => sysctls([{ name: 'vm.swappiness', value: '1' }]), { message: /not allowlisted/ })
  t.throws(() => sysctls([{ name: 'Net..x', value: '1' }]), { message: /sysctls\[0\]\.name: "Net\.\.x" must have at most 253 characters and match/ })
  t.throws(
    () =>
      sysctls([
        { name: 'net.a', value: '1' },
        { name: 'net/a', value: '2' },
      ]),
    { message: /sysctls\[1\]\.name: "net\/a" is a duplicate/ },
  )
  t.throws(() => sysctls([{ name: 'kernel.shmmax', value: '1' }], { hostIPC: true }), { message: /"kernel\.shmmax" not allowed with host ipc enabled/ })
  t.same(sysctls([{ name: 'kernel.shmmax', value: '1' }], { hostNetwork: true }).length, 1, 'an ipc sysctl is fine with hostNetwork')
})

t.test('procMount Default is accepted; Unmasked is refused (it needs a user namespace)', async t => {
  t.same(parseManifest(pod({ securityContext: { procMount: 'Default' } })).unsupported, [])
  t.throws(() => parseManifest(pod({ securityContext: { procMount: 'Unmasked' } })), {
    message: /securityContext\.procMount: Unmasked requires spec\.hostUsers: false/,
  })
})

t.test('seccompProfile: the container one wins, the pod one is inherited, with the field it came from', async t => {
  t.same(sec({}).seccompProfile, undefined)
  t.same(sec({}, { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }).seccompProfile, {
    type: 'RuntimeDefault',
    localhostProfile: undefined,
    field: 'spec.securityContext.seccompProfile',
  })
  t.same(
    sec(
      { securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } } },
      { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } },
    ).seccompProfile,
    {
      type: 'Localhost',
      localhostProfile: 'p.json',
      field: 'spec.containers[0].securityContext.seccompProfile',
    },
  )
  t.same(parseManifest(pod({ securityContext: { seccompProfile: { type: 'Unconfined' } } })).unsupported, [])
})

t.test('seccompProfile: bad type, a missing or misplaced localhostProfile, and ".." name the field', async t => {
  const p = 'spec.containers[0].securityContext.seccompProfile'
  t.throws(() => sec({ securityContext: { seccompProfile: { type: 'Strict' } } }), {
    message: new RegExp(`${p.replace(/[[\].]/g, '\\$&')}\.type: "Strict" is not a seccomp profile type`),
  })
  t.throws(() => sec({ securityContext: { seccompProfile: {} } }), { message: /seccompProfile\.type: required/ })
  t.throws(() => sec({ securityContext: { seccompProfile: { type: 'Localhost' } } }), {
    message: /seccompProfile\.localhostProfile: required when type is Localhost/,
  })
  t.throws(() => sec({ securityContext: { seccompProfile: { type: 'RuntimeDefault', localhostProfile: 'x.json' } } }), {
    message: /localhostProfile: may only be set when type is Localhost, not RuntimeDefault/,
  })
  t.throws(() => sec({ securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: '../etc/x.json' } } }), { message: /must not contain "\.\."/ })
  t.throws(() => parseManifest(pod({}, { securityContext: { seccompProfile: { type: 'Nope' } } })), {
    message: /spec\.securityContext\.seccompProfile\.type: "Nope"/,
  })
})
