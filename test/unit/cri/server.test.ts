// The CRI server on a socket of its own, called through @grpc/grpc-js as
// kubelet's client calls it (no root: an empty image store, no pods).
import t from 'tap'
import { status, type ServiceError } from '@grpc/grpc-js'
import { existsSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { CriServer } from '../../../src/cri/index.js'
import { serveCri } from '../../helpers/cri-client.js'

const serve = serveCri

t.test('Version answers all four fields', async t => {
  const { rt } = await serve(t)
  t.same(await rt('Version')({ version: '0.1.0' }), { version: '0.1.0', runtimeName: 'pod-launch', runtimeVersion: '0.1.0', runtimeApiVersion: 'v1' })
})

t.test('RuntimeConfig says CGROUPFS (the enum zero value is SYSTEMD)', async t => {
  const { rt } = await serve(t)
  const r = (await rt('RuntimeConfig')({})) as { linux: { cgroupDriver: string } }
  t.equal(r.linux.cgroupDriver, 'CGROUPFS')
})

t.test('Status: RuntimeReady; NetworkReady follows the CNI state', async t => {
  const { rt } = await serve(t)
  const r = (await rt('Status')({ verbose: true })) as {
    status: { conditions: { type: string; status: boolean; message: string }[] }
    info: { config: string }
  }
  t.same(
    r.status.conditions.map(c => [c.type, c.status]),
    [
      ['RuntimeReady', true],
      ['NetworkReady', false],
    ],
  )
  t.match(r.status.conditions[1].message, /--network none/)
  t.match(JSON.parse(r.info.config), { network: 'none' })

  const dir = t.testdir({ 'net.d': {}, bin: {} })
  writeFileSync(
    join(dir, 'net.d', '10-x.conflist'),
    JSON.stringify({ cniVersion: '1.0.0', name: 'x', plugins: [{ type: 'bridge' }, { type: 'portmap', capabilities: { portMappings: true } }] }),
  )
  const missing = await serve(t, { network: 'cni', cniConfDir: join(dir, 'net.d'), cniBinDir: join(dir, 'bin') })
  const s = (await missing.rt('Status')({})) as { status: { conditions: { type: string; status: boolean; message: string }[] } }
  t.equal(s.status.conditions[1].status, false)
  t.match(s.status.conditions[1].message, /CNI plugin bridge, portmap not found in .*bin/)
  for (const p of ['bridge', 'portmap']) writeFileSync(join(dir, 'bin', p), '#!/bin/sh\n', { mode: 0o755 })
  const ready = (await missing.rt('Status')({})) as { status: { conditions: { type: string; status: boolean }[] } }
  t.equal(ready.status.conditions[1].status, true)
})

t.test('UpdateRuntimeConfig keeps the pod CIDR kubelet sends', async t => {
  const { rt } = await serve(t)
  await rt('UpdateRuntimeConfig')({ runtimeConfig: { networkConfig: { podCidr: '198.18.10.0/24' } } })
  const r = (await rt('Status')({ verbose: true })) as { info: { config: string } }
  t.match(JSON.parse(r.info.config), { podCidr: '198.18.10.0/24' })
})

t.test('the ImageService on an empty store: no image, an empty list, an idempotent remove', async t => {
  const { img } = await serve(t)
  t.same(await img('ImageStatus')({ image: { image: 'docker.io/library/busybox:latest' } }), { image: null, info: {} })
  t.same(await img('ListImages')({}), { images: [] })
  t.same(await img('RemoveImage')({ image: { image: 'busybox' } }), {})
  const fs = (await img('ImageFsInfo')({})) as { imageFilesystems: { fsId: { mountpoint: string }; usedBytes: { value: string } }[] }
  t.match(fs.imageFilesystems[0].fsId.mountpoint, /\/root\/images$/)
  // kubelet stats the mountpoint before it pulls anything: it must exist.
  t.ok(statSync(fs.imageFilesystems[0].fsId.mountpoint).isDirectory(), 'the image store exists before any pull')
})

t.test('bad requests are InvalidArgument with the field named', async t => {
  const { img } = await serve(t)
  await t.rejects(img('PullImage')({ image: { image: '' } }), {
    code: status.INVALID_ARGUMENT,
    details: /^cri\.PullImage: image\.image: an image name is required/,
  })
  await t.rejects(img('ImageStatus')({ image: { image: 'Bad Name' } }), { code: status.INVALID_ARGUMENT, details: /^image\.name: Bad Name: / })
  await t.rejects(img('PullImage')({ image: { image: 'x' }, auth: { auth: 'bm9jb2xvbg==' } }), {
    code: status.INVALID_ARGUMENT,
    details: /auth\.auth: not base64 of user:password/,
  })
})

t.test('streaming calls: a streaming server of our own on 127.0.0.1; unknown ids are NotFound', async t => {
  const { rt, server } = await serve(t)
  t.match(server.streamingUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
  await t.rejects(rt('Exec')({ containerId: 'x', cmd: ['sh'], stdout: true }), { code: status.NOT_FOUND, details: /^cri\.Exec: container "x": not found/ })
  await t.rejects(rt('Attach')({ containerId: 'x', stdout: true }), { code: status.NOT_FOUND })
  await t.rejects(rt('PortForward')({ podSandboxId: 'x', port: [80] }), { code: status.NOT_FOUND, details: /^cri\.PortForward: sandbox "x"/ })
  const other = await serve(t, {
    streaming: { getExec: () => ({ url: 'http://x/exec' }), getAttach: () => ({ url: '' }), getPortForward: () => ({ url: '' }) },
  })
  t.equal(other.server.streamingUrl, undefined, 'another server given: none of our own')
})

t.test('methods outside our .proto answer Unimplemented', async t => {
  const { raw } = await serve(t)
  const unknown = await new Promise<ServiceError | null>(resolve =>
    raw.makeUnaryRequest(
      '/runtime.v1.RuntimeService/CheckpointContainer',
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      e => resolve(e),
    ),
  )
  t.equal(unknown?.code, status.UNIMPLEMENTED)
})

t.test('the socket is root-only; a second server on it is refused; close removes it', async t => {
  const { server } = await serve(t)
  t.equal(statSync(server.socket).mode & 0o777, 0o600)
  const otherRoot = join(dirname(server.root), 'other-root')
  await t.rejects(CriServer.start({ listen: `unix://${server.socket}`, root: otherRoot, log: () => {} }), {
    step: 'cri.listen',
    message: /another server is listening/,
  })
  const next = await CriServer.start({ listen: `unix://${join(dirname(server.root), 'next.sock')}`, root: otherRoot, log: () => {} })
  await next.close()
  t.pass('the refused server let go of its root: the next one serves it')
  await t.rejects(CriServer.start({ listen: 'tcp://127.0.0.1:1' }), { message: /must be unix:\/\/\/absolute\/path\.sock/ })
})

t.test('a second server on the same state root (another socket) is refused, naming the first one', async t => {
  const { server } = await serve(t)
  const other = join(dirname(server.root), 'other.sock')
  await t.rejects(CriServer.start({ listen: `unix://${other}`, root: server.root, log: () => {} }), {
    step: 'cri.lock',
    code: 'ALREADY_EXISTS',
    message: `cri.lock: ${server.root}: another pod-launch cri (pid ${process.pid}) serves this state root`,
    hint: /^stop it first \(kill -TERM \d+.*\), or pass another --root$/,
  })
  t.notOk(existsSync(other), 'no socket made')
})
