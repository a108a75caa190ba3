// emptyDir volumes on tmpfs, through the addon seam: the mounts asked for, and a
// failure that names the volume and path and leaves nothing mounted. No root.
import t from 'tap'
import { parseManifest } from '../../../src/index.js'
import { prepareVolumes } from '../../../src/rootfs/index.js'
import { useNative } from '../../../src/spawn/index.js'
import { volumeDir } from '../../../src/state/index.js'
import { fakeNative, MOUNT_FLAGS, nativeError } from '../../helpers/fake-native.js'

const spec = parseManifest({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'mem' },
  spec: {
    containers: [{ name: 'a', image: 'host', command: ['true'] }],
    volumes: [
      { name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      { name: 'scratch', emptyDir: { medium: 'Memory' } },
    ],
  },
}).spec

t.test('a Memory emptyDir is a tmpfs mounted nosuid,nodev, mode 1777, sized by sizeLimit', async t => {
  const root = t.testdir()
  const fake = fakeNative()
  t.teardown(useNative(fake))
  const v = prepareVolumes(spec, root)
  const flags = MOUNT_FLAGS.MS_NOSUID | MOUNT_FLAGS.MS_NODEV
  t.same(
    fake.calls.filter(c => c[0] === 'mount'),
    [
      ['mount', 'tmpfs', volumeDir(root, 'cache'), 'tmpfs', flags, 'mode=1777,size=67108864'],
      ['mount', 'tmpfs', volumeDir(root, 'scratch'), 'tmpfs', flags, 'mode=1777'],
    ],
  )
  v.release()
  t.same(
    fake.calls.filter(c => c[0] === 'umount'),
    [
      ['umount', volumeDir(root, 'scratch'), true],
      ['umount', volumeDir(root, 'cache'), true],
    ],
    'release unmounts in reverse order',
  )
})

t.test('a tmpfs that cannot be mounted names the volume and its path, and what was mounted is unmounted', async t => {
  const root = t.testdir()
  const fake = fakeNative({
    mount: (_s, target) => {
      if (target.endsWith('scratch')) throw nativeError('EPERM', 'mount')
    },
  })
  t.teardown(useNative(fake))
  t.throws(() => prepareVolumes(spec, root), {
    step: 'volume.mount',
    code: 'EPERM',
    syscall: 'mount',
    message: `volume.mount: spec.volumes[1] (scratch): tmpfs (mode=1777) on ${volumeDir(root, 'scratch')}: operation not permitted (EPERM)`,
  })
  t.same(
    fake.calls.filter(c => c[0] === 'umount'),
    [['umount', volumeDir(root, 'cache'), true]],
  )
})
