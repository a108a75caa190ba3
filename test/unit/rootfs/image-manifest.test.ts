// OCI index / manifest, docker-archive manifest.json and image config parsing,
// on fabricated JSON.
import t from 'tap'
import { parseDockerManifest, parseImageConfig, parseOciIndex, parseOciManifest, refNameOf, selectEntry } from '../../../src/rootfs/images/index.js'

const dg = (c: string) => 'sha256:' + c.repeat(64)
const desc = (c: string, extra: object = {}) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: dg(c), size: 10, ...extra })
const plat = (architecture: string) => ({ platform: { os: 'linux', architecture } })

t.test('an OCI index lists its descriptors with annotations and platform', async t => {
  const entries = parseOciIndex(
    { schemaVersion: 2, manifests: [desc('a', { annotations: { 'org.opencontainers.image.ref.name': 'docker.io/library/busybox:1.36' }, ...plat('amd64') })] },
    'index.json',
  )
  t.equal(entries.length, 1)
  t.equal(entries[0].digest, dg('a'))
  t.equal(refNameOf(entries[0]), 'docker.io/library/busybox:1.36')
})

t.test('a ref.name that is only a tag gives no name; containerd’s full name wins', async t => {
  t.equal(refNameOf(desc('a', { annotations: { 'org.opencontainers.image.ref.name': 'latest' } })), undefined)
  t.equal(
    refNameOf(desc('a', { annotations: { 'org.opencontainers.image.ref.name': 'latest', 'io.containerd.image.name': 'busybox:1' } })),
    'docker.io/library/busybox:1',
  )
})

t.test('selectEntry picks the host architecture, or the named image', async t => {
  const es = parseOciIndex({ schemaVersion: 2, manifests: [desc('a', plat('amd64')), desc('b', plat('arm64'))] }, 'i')
  t.equal(selectEntry(es, 'i', undefined, 'arm64').digest, dg('b'))
  t.equal(selectEntry(es, 'i', undefined, 'amd64').digest, dg('a'))
  t.throws(() => selectEntry(es, 'i', undefined, 's390x'), {
    step: 'image.manifest',
    code: 'IMAGE_INVALID',
    message: /no image for linux\/s390x \(found: linux\/amd64, linux\/arm64\)/,
  })
  const two = parseOciIndex(
    {
      schemaVersion: 2,
      manifests: [
        desc('a', { annotations: { 'org.opencontainers.image.ref.name': 'a:1' } }),
        desc('b', { annotations: { 'org.opencontainers.image.ref.name': 'b:1' } }),
      ],
    },
    'i',
  )
  t.throws(() => selectEntry(two, 'i'), { message: /holds several images \(docker.io\/library\/a:1, docker.io\/library\/b:1\): name the one to import/ })
  t.equal(selectEntry(two, 'i', 'b:1').digest, dg('b'))
})

t.test('malformed index and descriptors name the field', async t => {
  t.throws(() => parseOciIndex({ schemaVersion: 1, manifests: [] }, 'index.json'), {
    message: 'image.manifest: index.json: not an OCI image index (schemaVersion 2 with manifests[])',
  })
  t.throws(() => parseOciIndex({ schemaVersion: 2, manifests: [{ ...desc('a'), digest: 'md5:1' }] }, 'index.json'), {
    message: /manifests\[0\]\.digest must be sha256:<64 hex>/,
  })
  t.throws(() => parseOciIndex({ schemaVersion: 2, manifests: [{ ...desc('a'), size: -1 }] }, 'index.json'), {
    message: /manifests\[0\]\.size must be a non-negative integer/,
  })
})

t.test('an image manifest gives config and layers with their compression', async t => {
  const m = parseOciManifest(
    {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: dg('c'), size: 5 },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: dg('1'), size: 1 },
        { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: dg('2'), size: 2 },
      ],
    },
    'm',
  )
  t.equal(m.config.digest, dg('c'))
  t.same(
    m.layers.map(l => l.compression),
    ['tar', 'gzip'],
  )
})

t.test('zstd layers are taken; unknown layer and foreign manifest types are refused clearly', async t => {
  const base = { schemaVersion: 2, config: { mediaType: 'x', digest: dg('c'), size: 1 } }
  t.equal(
    parseOciManifest({ ...base, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: dg('1'), size: 1 }] }, 'm').layers[0].compression,
    'zstd',
  )
  t.throws(() => parseOciManifest({ ...base, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+bzip2', digest: dg('1'), size: 1 }] }, 'm'), {
    message:
      'image.manifest: m: layers[0]: unsupported layer media type application/vnd.oci.image.layer.v1.tar+bzip2 (tar, tar+gzip and tar+zstd are supported)',
  })
  t.throws(() => parseOciManifest({ ...base, mediaType: 'application/vnd.oci.image.index.v1+json', layers: [] }, 'm'), {
    message: /unsupported manifest media type/,
  })
})

t.test('docker-archive manifest.json: the only entry, or the one named', async t => {
  const one = [{ Config: 'abc.json', RepoTags: ['busybox:latest'], Layers: ['l1/layer.tar', 'l2/layer.tar'] }]
  t.same(parseDockerManifest(one, 'manifest.json'), { config: 'abc.json', repoTags: ['busybox:latest'], layers: ['l1/layer.tar', 'l2/layer.tar'] })
  const two = [...one, { Config: 'def.json', RepoTags: ['alpine:3'], Layers: [] }]
  t.equal(parseDockerManifest(two, 'manifest.json', 'docker.io/library/alpine:3').config, 'def.json')
  t.throws(() => parseDockerManifest(two, 'manifest.json'), { message: /holds 2 images \(busybox:latest, alpine:3\): name the one to import/ })
  t.throws(() => parseDockerManifest([{ Config: 1 }], 'manifest.json'), { message: 'image.manifest: manifest.json: [0].Config must be a string' })
  t.throws(() => parseDockerManifest({}, 'manifest.json'), { code: 'IMAGE_INVALID' })
})

t.test('the image config gives the run defaults and diff_ids', async t => {
  const c = parseImageConfig(
    {
      architecture: 'amd64',
      os: 'linux',
      created: '2026-01-01T00:00:00Z',
      config: {
        Entrypoint: ['/docker-entrypoint.sh'],
        Cmd: ['nginx', '-g', 'daemon off;'],
        Env: ['PATH=/bin'],
        WorkingDir: '/srv',
        User: '101:101',
        StopSignal: 'SIGQUIT',
        ExposedPorts: { '80/tcp': {} },
      },
      rootfs: { type: 'layers', diff_ids: [dg('1'), dg('2')] },
    },
    'config.json',
  )
  t.same(c, {
    config: {
      entrypoint: ['/docker-entrypoint.sh'],
      cmd: ['nginx', '-g', 'daemon off;'],
      env: ['PATH=/bin'],
      workingDir: '/srv',
      user: '101:101',
      stopSignal: 'SIGQUIT',
    },
    diffIds: [dg('1'), dg('2')],
    created: '2026-01-01T00:00:00Z',
    os: 'linux',
    architecture: 'amd64',
  })
  t.same(parseImageConfig({ rootfs: { type: 'layers', diff_ids: [] }, config: { Cmd: null, WorkingDir: '' } }, 'c').config, {})
  t.throws(() => parseImageConfig({ rootfs: { type: 'layers', diff_ids: [] }, config: { Cmd: 'sh' } }, 'c'), {
    message: 'image.manifest: c: config.Cmd must be an array of strings',
  })
  t.throws(() => parseImageConfig({ rootfs: { type: 'layers', diff_ids: ['x'] } }, 'c'), { message: /rootfs.diff_ids: x: must be sha256/ })
})
