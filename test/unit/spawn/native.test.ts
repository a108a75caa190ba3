import t from 'tap'
import { closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { native, useNative, type NativeError } from '../../../src/spawn/index.js'
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
    native().spawn({ argv: ['/bin/true'], envp: [], stdio: [0, 1, 2], pidns: r })
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

t.test('a plan of the wrong shape is refused before anything is made, naming the field', async t => {
  const base = { argv: ['/bin/true'], envp: [], stdio: [0, 1, 2] as [number, number, number] }
  const refused = (plan: object, message: string) =>
    t.throws(() => native().spawn({ ...base, ...plan }), { step: 'spawn.plan', code: 'ERR_INVALID_ARG_TYPE', message: `spawn.plan: ${message}` })
  refused({ argv: [] }, 'argv must not be empty')
  refused(
    {
      join: [
        { type: 'mnt', fd: 3 },
        { type: 'net', fd: 4 },
      ],
    },
    'join must follow the order of `namespaces`',
  )
  refused({ join: [{ type: 'bogus', fd: 3 }] }, 'join[0].type: unknown namespace bogus')
  refused({ unshare: ['bogus'] }, 'unshare: unknown namespace bogus')
  refused({ identity: { uid: 0, gid: 0, groups: [] } }, 'identity.capBounding and identity.capEffective are required (decimal strings)')
  refused({ seccomp: Buffer.alloc(7) }, 'seccomp must hold 1 to 4096 BPF instructions (8 bytes each)')
  refused({ mounts: [{ kind: 'bind', target: '/x' }] }, 'mounts[0].kind: unknown bind')
  refused({ mounts: [{ kind: 'write', target: '/proc/sys/x' }] }, 'mounts[].source is required for a write')
  refused({ mounts: [{ source: 'tmpfs' }] }, 'mounts[0].target is required')
  refused({ stdio: [0, 1] }, 'stdio must be an array of three fds')
  refused({ tty: { socket: 5, rows: 24, cols: 80 } }, 'tty needs newSession (the slave becomes the controlling terminal)')
})
