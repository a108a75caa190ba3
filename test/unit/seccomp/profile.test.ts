// Parsing and validating OCI/Docker seccomp profiles (pure).
import t from 'tap'
import { parseProfile, validateProfile } from '../../../src/seccomp/index.js'

const ok = (v: object) => {
  const r = validateProfile(v)
  if (!r.profile) throw new Error(JSON.stringify(r.problems))
  return r.profile
}
const problems = (v: unknown) => validateProfile(v).problems.map(p => `${p.path}: ${p.message}`)

t.test('a Docker-style profile parses: names, args with ops, includes/excludes, archMap', async t => {
  const p = ok({
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', comment: 'io' },
      {
        names: ['clone'],
        action: 'SCMP_ACT_ALLOW',
        args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }],
        excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390x'] },
      },
      { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ],
  })
  t.equal(p.defaultAction, 'SCMP_ACT_ERRNO')
  t.same(p.syscalls[1].args, [{ index: 0, value: 2114060288n, valueTwo: 0n, op: 'SCMP_CMP_MASKED_EQ' }])
  t.same(p.syscalls[1].excludes, { caps: ['CAP_SYS_ADMIN'], arches: ['s390x'] })
  t.equal(p.syscalls[3].errnoRet, 38)
})

t.test('the OCI form (architectures, the old single name) parses too', async t => {
  const p = ok({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ name: 'mkdir', action: 'SCMP_ACT_ERRNO' }] })
  t.same(p.architectures, ['SCMP_ARCH_X86_64'])
  t.same(p.syscalls[0].names, ['mkdir'])
})

t.test('every problem is listed by its path in the profile', async t => {
  t.same(
    problems({
      syscalls: [
        { names: ['mkdir'], action: 'SCMP_ACT_NOPE' },
        { action: 'SCMP_ACT_ALLOW' },
        { names: ['x'], action: 'SCMP_ACT_ALLOW', errnoRet: 1, args: [{ index: 9, op: 'SCMP_CMP_ABOUT', value: -1 }] },
      ],
    }),
    [
      'defaultAction: required',
      'syscalls[0].action: "SCMP_ACT_NOPE" is not an action (SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_TRACE, SCMP_ACT_LOG)',
      'syscalls[1].names: required: at least one syscall name',
      'syscalls[2].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errnoRet, not SCMP_ACT_ALLOW',
      'syscalls[2].args[0].index: 9 is not a syscall argument index (0-5)',
      'syscalls[2].args[0].op: "SCMP_CMP_ABOUT" is not a comparison (SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ)',
      'syscalls[2].args[0].value: -1 is not an unsigned 64-bit integer',
    ],
  )
})

t.test('unknown fields, bad arches, caps and kernels, and what we cannot honour are refused', async t => {
  t.same(
    problems({
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['x86_64'],
      flags: ['SECCOMP_FILTER_FLAG_LOG'],
      listenerPath: '/run/agent.sock',
      extra: 1,
      syscalls: [{ names: ['a'], action: 'SCMP_ACT_NOTIFY', includes: { caps: ['SYS_ADMIN'], minKernel: 'five' }, bogus: true }],
    }),
    [
      'extra: unknown field',
      'listenerPath: a seccomp agent (SCMP_ACT_NOTIFY) is not supported',
      'flags: filter flags (SECCOMP_FILTER_FLAG_*) are not supported: remove them',
      'architectures[0]: "x86_64" is not an architecture (SCMP_ARCH_X86_64, ...)',
      'syscalls[0].bogus: unknown field',
      'syscalls[0].action: SCMP_ACT_NOTIFY needs a seccomp agent (listenerPath): not supported',
      'syscalls[0].includes.caps[0]: "SYS_ADMIN" is not a capability (CAP_SYS_ADMIN)',
      'syscalls[0].includes.minKernel: "five" is not a kernel version (e.g. "4.8")',
    ],
  )
})

t.test('text that is not JSON, or not an object, is one problem', async t => {
  t.match(parseProfile('{"defaultAction": ').problems, [{ path: '(json)', message: /^not valid JSON/ }])
  t.notMatch(parseProfile('root:*:20200:0:99999:7:::').problems[0].message, 'root', 'the text is never quoted (it may be a secret)')
  t.match(parseProfile('[]').problems, [{ path: '(profile)', message: /must be a JSON object/ }])
  t.ok(parseProfile('{"defaultAction": "SCMP_ACT_LOG"}').profile, 'syscalls may be absent')
})
