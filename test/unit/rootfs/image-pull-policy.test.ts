// imagePullPolicy once the pulls are done (registry/for-pod.ts pulls first):
// Always and IfNotPresent use the local image, Never with a missing image is
// ErrImageNeverPull; --image-fallback host still runs it on the host view.
import t from 'tap'
import { parseManifest } from '../../../src/index.js'
import { resolveImages, type ImageSource } from '../../../src/rootfs/index.js'

const local: ImageSource = { kind: 'layers', layers: ['/nonexistent/layer'] }
const lookup = (name: string) => (name === 'busybox' ? local : undefined)
const pod = (containers: object[]) => parseManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers } }).spec

t.test('Always and IfNotPresent use the local image once pulled, without a warning', async t => {
  const warnings: string[] = []
  const images = resolveImages(
    pod([
      { name: 'a', image: 'busybox', imagePullPolicy: 'Always' },
      { name: 'b', image: 'busybox', imagePullPolicy: 'Always' },
      { name: 'c', image: 'busybox', imagePullPolicy: 'IfNotPresent' },
      { name: 'd', image: 'host', command: ['x'], imagePullPolicy: 'Always' },
    ]),
    { lookup, warn: w => warnings.push(w) },
  )
  t.same([...images.values()], [local, local, local, { kind: 'host' }])
  t.same(warnings, [])
})

t.test('Never with a present image runs it; with a missing one fails with ErrImageNeverPull', async t => {
  t.same([...resolveImages(pod([{ name: 'a', image: 'busybox', imagePullPolicy: 'Never' }]), { lookup }).values()], [local])
  t.throws(
    () =>
      resolveImages(
        pod([
          { name: 'a', image: 'busybox' },
          { name: 'b', image: 'nginx:1.27', imagePullPolicy: 'Never' },
        ]),
        { lookup },
      ),
    {
      step: 'image.resolve',
      code: 'ErrImageNeverPull',
      message: 'image.resolve: nginx:1.27: ErrImageNeverPull: Container image "nginx:1.27" is not present with pull policy of Never (spec.containers[1].image)',
    },
  )
})

t.test('--image-fallback host still runs a missing Never image on the host view (nothing is pulled either way)', async t => {
  const warnings: string[] = []
  t.same(
    [
      ...resolveImages(pod([{ name: 'a', image: 'nginx:1.27', imagePullPolicy: 'Never' }]), {
        lookup,
        imageFallback: 'host',
        warn: w => warnings.push(w),
      }).values(),
    ],
    [{ kind: 'host' }],
  )
  t.equal(warnings.length, 1)
})

t.test('an imagePullPolicy outside the enum is refused', async t => {
  t.throws(() => pod([{ name: 'a', image: 'busybox', imagePullPolicy: 'Sometimes' }]), {
    message: /spec\.containers\[0\]\.imagePullPolicy: must be one of "Always", "IfNotPresent", "Never", not "Sometimes"/,
  })
})
