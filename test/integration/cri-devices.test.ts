// CRI CreateContainer with devices (what kubelet's device plugins send): a
// host device node at a container path, a directory giving every node below
// it; CDI devices, devices that are not device nodes and read-only access
// (no device cgroup to enforce it) refused, naming the field; mount
// propagation refused when the source is not on a shared mount.
import t, { type Test } from 'tap'
import { status } from '@grpc/grpc-js'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { importImage } from '../../src/rootfs/images/index.js'
import { serveCri } from '../helpers/cri-client.js'
import { ownCgroupParent, uniqueName } from '../helpers/pods.js'
import { requires } from '../helpers/requires.js'

const skip = requires('root', 'built')
const script = fileURLToPath(new URL('../../scripts/make-test-images.sh', import.meta.url))
const IMAGE = 'plt.local/cri-devices/busybox:1'

let work = ''
t.before(() => {
  if (skip) return
  work = mkdtempSync(join(tmpdir(), 'pl-cri-devices-'))
  execFileSync('bash', [script, join(work, 'images')], { stdio: 'ignore' })
})
t.teardown(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

async function sandbox(t: Test) {
  const cgroupParent = ownCgroupParent(t, 'cri-devices')
  const cri = await serveCri(t, { cgroupParent })
  await importImage(join(work, 'images', 'busybox-oci.tar'), { root: cri.server.root, name: IMAGE })
  const logs = join(cri.dir, 'logs')
  mkdirSync(logs)
  const config = { metadata: { name: 'devices', uid: uniqueName('uid'), namespace: 'test', attempt: 0 }, logDirectory: logs, linux: {} }
  const { podSandboxId } = (await cri.rt('RunPodSandbox')({ config })) as { podSandboxId: string }
  t.teardown(() => cri.rt('RemovePodSandbox')({ podSandboxId }))
  const create = (over: object) =>
    cri.rt('CreateContainer')({
      podSandboxId,
      sandboxConfig: config,
      config: { metadata: { name: 'c', attempt: 0 }, image: { image: IMAGE }, command: ['sleep', '600'], logPath: 'c.log', ...over },
    }) as Promise<{ containerId: string }>
  return { ...cri, create }
}

t.test('devices: a node at its container path, a directory of nodes', { skip }, async t => {
  const { rt, create } = await sandbox(t)
  const dir = join(work, 'devdir')
  mkdirSync(join(dir, 'sub'), { recursive: true })
  execFileSync('mknod', ['-m', '666', join(dir, 'sub', 'zero0'), 'c', '1', '5'])
  writeFileSync(join(dir, 'not-a-device'), '')
  const { containerId } = await create({
    devices: [
      { hostPath: '/dev/zero', containerPath: '/dev/xzero', permissions: 'rwm' },
      { hostPath: '/dev/null', containerPath: '/opt/null', permissions: '' },
      { hostPath: dir, containerPath: '/dev/plugin', permissions: 'rw' },
    ],
  })
  await rt('StartContainer')({ containerId })
  const sh = async (cmd: string) => {
    const r = (await rt('ExecSync')({ containerId, cmd: ['sh', '-c', cmd], timeout: 10 })) as { stdout: Buffer; stderr: Buffer; exitCode: number }
    return { out: `${r.stdout.toString()}${r.stderr.toString()}`.trim(), code: r.exitCode }
  }
  t.same(await sh('head -c 3 /dev/xzero | od -An -tx1'), { out: '00 00 00', code: 0 }, 'the host node reads as itself')
  t.same((await sh('echo x > /dev/xzero')).code, 0, 'rw: writable')
  t.match(await sh('echo x > /opt/null; ls -l /opt/null'), { out: /^crw/, code: 0 }, 'a node outside /dev; empty permissions: rwm')
  t.match(
    await sh('ls /dev/plugin/sub; head -c 2 /dev/plugin/sub/zero0 | od -An -tx1'),
    { out: /^zero0\s+00 00$/, code: 0 },
    'only the device nodes of the directory',
  )
})

t.test('CDI devices and non-device paths are refused, naming the field', { skip }, async t => {
  const { create } = await sandbox(t)
  await t.rejects(create({ CDIDevices: [{ name: 'vendor.example/gpu=0' }] }), {
    code: status.INVALID_ARGUMENT,
    details: /^cri\.CreateContainer: config\.CDI_devices\[0\] "vendor\.example\/gpu=0": CDI devices are not supported/,
  })
  await t.rejects(create({ devices: [{ hostPath: '/etc/hostname', containerPath: '/dev/x', permissions: 'rw' }] }), {
    code: status.INVALID_ARGUMENT,
    details: /config\.devices\[0\]\.host_path: \/etc\/hostname: not a device node/,
  })
  await t.rejects(create({ devices: [{ hostPath: '/dev/no-such-device', containerPath: '/dev/x', permissions: 'rw' }] }), {
    code: status.INVALID_ARGUMENT,
    details: /config\.devices\[0\]\.host_path: \/dev\/no-such-device: no such device/,
  })
  await t.rejects(create({ devices: [{ hostPath: '/dev/null', containerPath: '/dev/x', permissions: 'rwx' }] }), {
    code: status.INVALID_ARGUMENT,
    details: /config\.devices\[0\]\.permissions: "rwx" is not a subset of "rwm"/,
  })
  await t.rejects(create({ devices: [{ hostPath: '/dev/null', containerPath: '/dev/x', permissions: 'r' }] }), {
    code: status.INVALID_ARGUMENT,
    details: /config\.devices\[0\]\.permissions: "r": only read-write access/,
  })
})

t.test('mount propagation needs the source on a shared mount', { skip }, async t => {
  const { create } = await sandbox(t)
  const src = join(work, 'private-src')
  mkdirSync(src, { recursive: true })
  execFileSync('mount', ['--bind', src, src])
  t.teardown(() => execFileSync('umount', ['-l', src]))
  execFileSync('mount', ['--make-private', src])
  const mount = (propagation: string) => ({ mounts: [{ hostPath: src, containerPath: '/data', propagation }] })
  for (const p of ['PROPAGATION_BIDIRECTIONAL', 'PROPAGATION_HOST_TO_CONTAINER'])
    await t.rejects(create(mount(p)), {
      code: status.INVALID_ARGUMENT,
      details: new RegExp(`config\\.mounts\\[0\\]\\.propagation ${p}: ${src} is on mount ${src}, which is not shared\\nhint: mount --make-rshared`),
    })
})
