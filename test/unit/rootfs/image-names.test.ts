// Image names normalized as Kubernetes / the docker reference grammar do.
import t from 'tap'
import { familiarName, normalizeImageName, parseImageName } from '../../../src/rootfs/images/index.js'

const D = 'sha256:' + 'ab'.repeat(32)

t.test('busybox, busybox:latest, library/busybox and the full name are one image', async t => {
  for (const n of [
    'busybox',
    'busybox:latest',
    'library/busybox',
    'library/busybox:latest',
    'docker.io/library/busybox:latest',
    'docker.io/busybox',
    'index.docker.io/library/busybox',
  ]) {
    t.equal(normalizeImageName(n), 'docker.io/library/busybox:latest', n)
  }
})

t.test('a tag, a namespace and another registry are kept', async t => {
  t.equal(normalizeImageName('busybox:1.36'), 'docker.io/library/busybox:1.36')
  t.equal(normalizeImageName('bitnami/redis'), 'docker.io/bitnami/redis:latest')
  t.equal(normalizeImageName('quay.io/coreos/etcd:v3.5'), 'quay.io/coreos/etcd:v3.5')
  t.equal(normalizeImageName('localhost/app'), 'localhost/app:latest')
  t.equal(normalizeImageName('localhost:5000/app'), 'localhost:5000/app:latest')
  t.equal(normalizeImageName('registry.k8s.io/pause:3.9'), 'registry.k8s.io/pause:3.9')
})

t.test('a digest reference keeps the digest and drops the tag', async t => {
  t.equal(normalizeImageName(`busybox@${D}`), `docker.io/library/busybox@${D}`)
  t.equal(normalizeImageName(`busybox:1.36@${D}`), `docker.io/library/busybox@${D}`)
  t.same(parseImageName(`busybox:1.36@${D}`), {
    registry: 'docker.io',
    repository: 'library/busybox',
    tag: '1.36',
    digest: D,
    canonical: `docker.io/library/busybox@${D}`,
  })
})

t.test('malformed names are image.name errors with exit code 2', async t => {
  for (const n of ['', 'BusyBox', 'busybox@sha256:123', 'busybox:', 'a//b', 'busybox:-x', '-busybox']) {
    t.throws(() => normalizeImageName(n), { step: 'image.name', code: 'IMAGE_NAME_INVALID', exitCode: 2 }, JSON.stringify(n))
  }
})

t.test('familiarName shortens docker.io names for display', async t => {
  t.equal(familiarName('docker.io/library/busybox:latest'), 'busybox:latest')
  t.equal(familiarName('docker.io/bitnami/redis:7'), 'bitnami/redis:7')
  t.equal(familiarName('quay.io/a/b:1'), 'quay.io/a/b:1')
})
