import t from 'tap'
import { parseManifest } from '../../../src/index.js'
import { capabilityMasks } from '../../../src/spec/index.js'

const pod = (container: object, spec: object = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { ...spec, containers: [{ name: 'c', command: ['x'], ...container }] } })
const sec = (container: object, spec: object = {}) => parseManifest(pod(container, spec)).spec.containers[0].securityContext
const hex = (b: bigint) => b.toString(16).padStart(16, '0')

t.test('the default capability set is Docker/containerd\'s', async t => {
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
  t.throws(() => parseManifest(pod({ securityContext: { capabilities: { add: ['FLY'] } } })), { message: /spec\.containers\[0\]\.securityContext\.capabilities\.add\[0\]: "FLY" is not a capability/ })
  t.throws(() => parseManifest(pod({ securityContext: { runAsNonRoot: true, runAsUser: 0 } })), { message: /securityContext\.runAsNonRoot: conflicts with runAsUser 0/ })
  t.throws(() => parseManifest(pod({ securityContext: { privileged: true, allowPrivilegeEscalation: false } })), { message: /allowPrivilegeEscalation: cannot be false when privileged is true/ })
})

t.test('what is not applied yet is named', async t => {
  t.same(parseManifest(pod({ securityContext: { procMount: 'Default' } })).unsupported, ['spec.containers[0].securityContext.procMount (not supported)'])
})

t.test('seccompProfile: the container one wins, the pod one is inherited, with the field it came from', async t => {
  t.same(sec({}).seccompProfile, undefined)
  t.same(sec({}, { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }).seccompProfile, { type: 'RuntimeDefault', localhostProfile: undefined, field: 'spec.securityContext.seccompProfile' })
  t.same(sec({ securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } } }, { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }).seccompProfile, {
    type: 'Localhost',
    localhostProfile: 'p.json',
    field: 'spec.containers[0].securityContext.seccompProfile',
  })
  t.same(parseManifest(pod({ securityContext: { seccompProfile: { type: 'Unconfined' } } })).unsupported, [])
})

t.test('seccompProfile: bad type, a missing or misplaced localhostProfile, and ".." name the field', async t => {
  const p = 'spec.containers[0].securityContext.seccompProfile'
  t.throws(() => sec({ securityContext: { seccompProfile: { type: 'Strict' } } }), { message: new RegExp(`${p.replace(/[[\].]/g, '\\$&')}\.type: "Strict" is not a seccomp profile type`) })
  t.throws(() => sec({ securityContext: { seccompProfile: {} } }), { message: /seccompProfile\.type: required/ })
  t.throws(() => sec({ securityContext: { seccompProfile: { type: 'Localhost' } } }), { message: /seccompProfile\.localhostProfile: required when type is Localhost/ })
  t.throws(() => sec({ securityContext: { seccompProfile: { type: 'RuntimeDefault', localhostProfile: 'x.json' } } }), { message: /localhostProfile: may only be set when type is Localhost, not RuntimeDefault/ })
  t.throws(() => sec({ securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: '../etc/x.json' } } }), { message: /must not contain "\.\."/ })
  t.throws(() => parseManifest(pod({}, { securityContext: { seccompProfile: { type: 'Nope' } } })), { message: /spec\.securityContext\.seccompProfile\.type: "Nope"/ })
})
