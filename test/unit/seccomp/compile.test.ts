// Resolving a profile for a container's caps and this host, the per-pod
// compile cache, and which profile each container gets (no root needed:
// compiling with libseccomp loads nothing).
import t from 'tap'
import {
  chooseProfile,
  preparePodSeccomp,
  seccompWarnings,
  resolveRules,
  RUNTIME_DEFAULT,
  SeccompCache,
  boundingCaps,
  type HostFacts,
  type SeccompProfile,
} from '../../../src/seccomp/index.js'
import { parseManifest } from '../../../src/index.js'
import { useNative } from '../../../src/spawn/index.js'
import { fakeNative, nativeError } from '../../helpers/fake-native.js'

const amd64: HostFacts = { goArch: 'amd64', scmpArch: 'SCMP_ARCH_X86_64', kernel: [6, 1] }
const names = (p: SeccompProfile, caps: string[], host = amd64) =>
  new Set(
    resolveRules(p, caps, host)
      .rules.filter(r => r.action === 'SCMP_ACT_ALLOW' && !r.args)
      .map(r => r.name),
  )
const podOf = (containers: object[], spec: object = {}) =>
  parseManifest({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: { ...spec, containers: containers.map((c, i) => ({ name: `c${i}`, command: ['x'], ...c })) },
  }).spec

t.test('RuntimeDefault: blocked calls are absent for the default caps, capability-gated ones follow the bounding set', async t => {
  const plain = names(RUNTIME_DEFAULT, ['CAP_CHOWN', 'CAP_SETUID'])
  for (const n of [
    'kexec_load',
    'init_module',
    'finit_module',
    'delete_module',
    'keyctl',
    'add_key',
    'request_key',
    'bpf',
    'ptrace',
    'mount',
    'umount2',
    'unshare',
    'setns',
    'reboot',
    'swapon',
    'open_by_handle_at',
  ])
    t.notOk(plain.has(n), `${n} blocked`)
  for (const n of ['read', 'write', 'execve', 'openat', 'arch_prctl', 'setresuid', 'capset', 'rt_sigaction', 'close_range']) t.ok(plain.has(n), `${n} allowed`)
  const admin = names(RUNTIME_DEFAULT, ['CAP_SYS_ADMIN'])
  for (const n of ['mount', 'umount2', 'unshare', 'setns', 'bpf', 'clone', 'clone3']) t.ok(admin.has(n), `${n} with SYS_ADMIN`)
  t.notOk(admin.has('kexec_load'), 'kexec_load never')
  t.ok(names(RUNTIME_DEFAULT, ['CAP_BPF']).has('bpf'), 'bpf with CAP_BPF')
  t.ok(names(RUNTIME_DEFAULT, ['CAP_SYS_PTRACE']).has('ptrace'), 'ptrace with SYS_PTRACE')
  t.ok(names(RUNTIME_DEFAULT, ['CAP_SYS_MODULE']).has('finit_module'), 'modules with SYS_MODULE')
})

t.test('RuntimeDefault without SYS_ADMIN: clone only without namespace flags, clone3 answers ENOSYS, socket not AF_VSOCK', async t => {
  const r = resolveRules(RUNTIME_DEFAULT, [], amd64).rules
  t.same(
    r.filter(x => x.name === 'clone'),
    [{ name: 'clone', action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: String(0x7e020000), valueTwo: '0', op: 'SCMP_CMP_MASKED_EQ' }] }],
  )
  t.same(
    r.filter(x => x.name === 'clone3'),
    [{ name: 'clone3', action: 'SCMP_ACT_ERRNO', errnoRet: 38 }],
  )
  t.same(
    r.filter(x => x.name === 'socket'),
    [{ name: 'socket', action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: '40', valueTwo: '0', op: 'SCMP_CMP_NE' }] }],
  )
  t.equal(r.filter(x => x.name === 'personality').length, 5)
  const s390 = resolveRules(RUNTIME_DEFAULT, [], { goArch: 's390x', scmpArch: 'SCMP_ARCH_S390X', kernel: [6, 1] })
  t.same(
    s390.rules.filter(x => x.name === 'clone').map(x => x.args?.[0].index),
    [1],
    "s390 checks clone's second argument",
  )
  t.same(s390.architectures, ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390'])
})

t.test('architectures come from archMap for this host, includes.arches and minKernel filter rules, default-action rules drop', async t => {
  const p: SeccompProfile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }],
    syscalls: [
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', args: [], includes: { arches: ['amd64'] } },
      { names: ['set_tls'], action: 'SCMP_ACT_ALLOW', args: [], includes: { arches: ['arm'] } },
      { names: ['newer'], action: 'SCMP_ACT_ALLOW', args: [], includes: { minKernel: '6.2' } },
      { names: ['older'], action: 'SCMP_ACT_ALLOW', args: [], excludes: { minKernel: '5.0' } },
      { names: ['same'], action: 'SCMP_ACT_ERRNO', args: [] },
    ],
  }
  const r = resolveRules(p, [], amd64)
  t.same(r.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'])
  t.same(
    r.rules.map(x => x.name),
    ['arch_prctl'],
  )
  t.same(resolveRules({ ...p, architectures: ['SCMP_ARCH_X86_64'] }, [], amd64).architectures, ['SCMP_ARCH_X86_64'], 'OCI architectures win')
})

t.test('the cache compiles each distinct (profile, caps) once per pod', async t => {
  const cache = new SeccompCache()
  const rd = { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }
  const spec = podOf([rd, rd, rd, { securityContext: { seccompProfile: { type: 'RuntimeDefault' }, capabilities: { add: ['SYS_ADMIN'] } } }, {}])
  const out = preparePodSeccomp(spec, {}, cache)
  t.equal(cache.compiled, 2, 'three equal containers share one filter; SYS_ADMIN makes a second')
  t.equal(out.get('c0')!.filter, out.get('c2')!.filter, 'the very same buffer')
  t.equal(out.get('c0')!.filter!.bpf.length % 8, 0, 'struct sock_filter instructions')
  t.ok(out.get('c0')!.filter!.bpf.length / 8 > 100)
  t.equal(out.get('c4')!.filter, undefined, 'nothing asked: Unconfined')
  preparePodSeccomp(spec, {}, cache)
  t.equal(cache.compiled, 2, 'a second pass (restarts, exec) compiles nothing')
})

t.test('chooseProfile: privileged none, container over pod, then the runtime default', async t => {
  const [a, b, c, d] = podOf([
    {},
    { securityContext: { privileged: true, seccompProfile: { type: 'RuntimeDefault' } } },
    { securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'x/y.json' } } },
    { securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: '/abs/p.json' } } },
  ]).containers
  t.match(chooseProfile(a), { type: 'Unconfined', why: /Kubernetes default/ })
  t.match(chooseProfile(a, { seccompDefault: true }), { type: 'RuntimeDefault', why: /--seccomp-default/ })
  t.match(chooseProfile(b), { type: 'Unconfined', why: /privileged/ })
  t.match(chooseProfile(c), { type: 'Localhost', path: '/etc/pod-launch/seccomp/x/y.json', field: 'spec.containers[2].securityContext.seccompProfile' })
  t.match(chooseProfile(d), { type: 'Localhost', path: '/abs/p.json' })
  t.match(chooseProfile(c, { profileDir: '/tmp/p' }), { path: '/tmp/p/x/y.json' })
})

t.test('a Localhost profile that does not parse is a seccomp.profile error naming the field and the problem', async t => {
  const dir = t.testdir({
    'bad.json': JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'ALLOW' }] }),
    'good.json': JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'no_such_call'], action: 'SCMP_ACT_ERRNO' }] }),
  })
  const bad = podOf([{ securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: `${dir}/bad.json` } } }])
  t.throws(() => preparePodSeccomp(bad), {
    step: 'seccomp.profile',
    exitCode: 2,
    message: `seccomp.profile: spec.containers[0].securityContext.seccompProfile.localhostProfile: ${dir}/bad.json: syscalls[0].action: "ALLOW" is not an action (SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_TRACE, SCMP_ACT_LOG)`,
  })
  const good = preparePodSeccomp(podOf([{ securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: `${dir}/good.json` } } }]))
  t.same(good.get('c0')!.filter!.unknown, ['no_such_call'], 'names libseccomp does not know are skipped')
  t.same(seccompWarnings(good), [`seccomp: ${dir}/good.json: syscalls unknown to libseccomp, skipped: no_such_call`], 'and said once')
})

t.test("boundingCaps names the container's bounding set", async t => {
  const [c] = podOf([{ securityContext: { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } } }]).containers
  t.same(boundingCaps(c), ['CAP_NET_BIND_SERVICE'])
})

t.test('a profile libseccomp refuses is worded in TS: the rule, the libseccomp call, the errno', async t => {
  const profile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: [],
    rules: [
      { name: 'read', action: 'SCMP_ACT_ALLOW' },
      { name: 'write', action: 'SCMP_ACT_ALLOW' },
    ],
  }
  const refuse = (rule: number) => () => {
    throw Object.assign(nativeError('EINVAL', 'seccomp_rule_add'), { rule })
  }
  const restore = useNative(fakeNative({ compileSeccomp: refuse(1) }))
  t.throws(() => new SeccompCache().get(profile), {
    step: 'seccomp.compile',
    code: 'EINVAL',
    message: 'seccomp.compile: rules[1] (write): seccomp_rule_add: invalid argument (EINVAL)',
  })
  restore()
  t.teardown(useNative(fakeNative({ compileSeccomp: refuse(-1) })))
  t.throws(() => new SeccompCache().get(profile), { message: 'seccomp.compile: profile: seccomp_rule_add: invalid argument (EINVAL)' })
})
