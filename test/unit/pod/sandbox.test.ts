// pause's start failures, decoded from the child's record through the addon seam (no root).
import t from 'tap'
import { parseManifest } from '../../../src/index.js'
import { planPause } from '../../../src/pod/plan.js'
import { sysctlError } from '../../../src/pod/sandbox.js'
import { bindPlan, spawnProcess, useNative } from '../../../src/spawn/index.js'
import { failingChild, fakeNative } from '../../helpers/fake-native.js'

const podWith = (sysctls: { name: string; value: string }[]) =>
  parseManifest({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 's' },
    spec: { securityContext: { sysctls }, containers: [{ name: 'a', image: 'host', command: ['true'] }] },
  }).spec

/** pause's plan run by a child that fails at `step` (errno `code`, record arg `arg`); the error as the sandbox words it. */
async function pauseFailure(spec: ReturnType<typeof podWith>, step: string, code: 'EINVAL' | 'EPERM', arg: number): Promise<unknown> {
  const restore = useNative(fakeNative(failingChild(step, code, arg)))
  const plan = planPause(spec, '/bin/pause')
  try {
    await spawnProcess(bindPlan(plan, { fdOf: () => -1, stdio: [0, 1, 2], dieWithParent: true }))
    throw new Error('spawned')
  } catch (e) {
    return sysctlError(e, spec, plan)
  } finally {
    restore()
  }
}

t.test('a sysctl pause cannot write is named by the index in its failure record, not by its text', async t => {
  // ip_forward's path is a prefix of ip_forward_use_pmtu's: searching the message would name the wrong one.
  const spec = podWith([
    { name: 'net.ipv4.ip_forward', value: '1' },
    { name: 'net.ipv4.ip_forward_use_pmtu', value: '7' },
  ])
  t.match(await pauseFailure(spec, 'child.mount', 'EINVAL', 1), {
    step: 'sandbox.sysctl',
    code: 'EINVAL',
    path: '/proc/sys/net/ipv4/ip_forward_use_pmtu',
    message: 'sandbox.sysctl: spec.securityContext.sysctls[1] (net.ipv4.ip_forward_use_pmtu=7): the kernel refused the value "7"',
  })
})

t.test('a pause failure that is no sysctl write stays the child step it was', async t => {
  t.match(await pauseFailure(podWith([]), 'child.hostname', 'EPERM', -1), {
    step: 'child.hostname',
    code: 'EPERM',
    message: 'child.hostname: s: operation not permitted (EPERM)',
  })
})
