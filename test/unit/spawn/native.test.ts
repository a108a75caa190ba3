import t from 'tap'
import { closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodePlan, native, useNative, type NativeError } from '../../../src/spawn/index.js'
import { fakeNative, MOUNT_FLAGS } from '../../helpers/fake-native.js'

t.test('the fake carries the real addon constants: step ids, namespace order, mount flags', async t => {
  const real = native()
  const fake = fakeNative()
  t.same(fake.steps, real.steps, 'native/report.h steps, same ids')
  t.same(fake.namespaces, real.namespaces, 'native/ns.c join order')
  t.same(MOUNT_FLAGS, real.mountFlags)
})

t.test('the addon throws the failed syscall with no words of ours: {errno, code, syscall}', async t => {
  const caught = (fn: () => unknown): NativeError => {
    try {
      fn()
    } catch (e) {
      return e as NativeError
    }
    throw new Error('did not throw')
  }
  const e = caught(() => native().flock(-1, true))
  t.match(e, { errno: 9, code: 'EBADF', syscall: 'flock' })
  t.equal((e as { step?: string }).step, undefined, 'no step: the caller names it')
  t.equal(e.message, 'EBADF: bad file descriptor, flock')
  t.match(
    caught(() => native().lgetxattr(join(tmpdir(), 'pod-launch-no-such-file'), 'user.x')),
    { code: 'ENOENT', syscall: 'lgetxattr' },
  )
  t.match(
    caught(() => native().getWinsize(-1)),
    { code: 'EBADF', syscall: 'ioctl' },
  )
})

t.test('a spawn the addon cannot start says which spawn step failed', async t => {
  // A pid namespace fd that is no namespace: setns(2) of pid_for_children fails before clone.
  const [r, w] = native().pipe()
  try {
    native().spawn(encodePlan({ argv: ['/bin/true'], envp: [], stdio: [0, 1, 2], pidns: r }))
    t.fail('spawned')
  } catch (e) {
    t.match(e, { step: 'spawn.pidns', code: 'EINVAL', syscall: 'setns' })
  } finally {
    closeSync(r)
    closeSync(w)
  }
})

t.test('useNative puts a fake in place of the addon until restored', async t => {
  const real = native()
  const fake = fakeNative({ seccompVersion: () => '9.9.9' })
  const restore = useNative(fake)
  t.equal(native().seccompVersion(), '9.9.9')
  t.same(fake.calls, [['seccompVersion']])
  restore()
  t.equal(native(), real)
})

t.test('a malformed binary plan is refused by the decoder, naming what is wrong, and nothing is spawned', async t => {
  const good = encodePlan({ argv: ['/bin/true'], envp: [], stdio: [0, 1, 2] })
  t.throws(() => native().spawn(Buffer.from('nope')), { message: 'spawn.plan: not a version 1 plan (PLN1)' })
  t.throws(() => native().spawn(good.subarray(0, good.length - 2)), { message: 'spawn.plan: truncated record' })
  t.throws(() => native().spawn(encodePlan({ argv: [], envp: [], stdio: [0, 1, 2] })), { message: 'spawn.plan: argv must not be empty' })
  t.throws(() => native().spawn(encodePlan({ argv: ['/bin/true'], envp: [] })), { message: 'spawn.plan: stdio[0] must be an open fd' })
  t.throws(
    () => native().spawn(encodePlan({ argv: ['/bin/true'], envp: [], stdio: [0, 1, 2], join: [{ type: 'net', fd: -1, ref: '/proc/<pause>/ns/net' }] })),
    {
      message: 'spawn.plan: join[0] is a reference (/proc/<pause>/ns/net), not an fd',
    },
  )
  t.throws(
    () =>
      native().spawn(
        encodePlan({
          argv: ['/bin/true'],
          envp: [],
          stdio: [0, 1, 2],
          join: [
            { type: 'net', fd: 0 },
            { type: 'ipc', fd: 0 },
          ],
        }),
      ),
    { message: 'spawn.plan: join must follow the order of `namespaces`' },
  )
  t.throws(() => encodePlan({ argv: ['a\0b'], envp: [] }), { message: /^spawn\.plan: "a\\u0000b": contains a NUL byte$/ })
})

t.test('every shape refusal of the decoder names the field, and nothing is spawned', async t => {
  const base = { argv: ['/bin/true'], envp: [], stdio: [0, 1, 2] as [number, number, number] }
  const refused = (plan: object, message: string) =>
    t.throws(() => native().spawn(encodePlan({ ...base, ...plan })), { step: 'spawn.plan', code: 'ERR_INVALID_ARG_TYPE', message: `spawn.plan: ${message}` })
  refused({ join: [{ type: 'bogus', fd: 3 }] }, 'join: unknown namespace')
  refused({ unshare: ['bogus'] }, 'unshare: unknown namespace')
  refused({ seccomp: Buffer.alloc(7) }, 'seccomp must hold 1 to 4096 BPF instructions (8 bytes each)')
  refused({ mounts: [{ kind: 'write', target: '/proc/sys/x' }] }, 'mounts[].source is required for a symlink or a write')
  refused({ mounts: [{ source: 'tmpfs' }] }, 'mounts[].target is required')
  refused({ tty: { socket: 5, rows: 24, cols: 80 } }, 'tty needs newSession (the slave becomes the controlling terminal)')
  t.throws(() => encodePlan({ ...base, mounts: [{ kind: 'bind' as 'mount', target: '/x' }] }), {
    step: 'spawn.plan',
    message: 'spawn.plan: mounts[0].kind: unknown bind',
  })
})
