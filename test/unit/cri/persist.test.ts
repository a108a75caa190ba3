// The CRI server's records on disk (src/cri/persist.ts) and what a new server
// makes of them (src/cri/adopt.ts) when the sandbox's shim is gone: no root
// needed, since no shim answers and nothing runs.
import t from 'tap'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { detectCgroups, planContainerCgroup, planPodCgroups } from '../../../src/cgroups/index.js'
import { readStoredPods, writeStoredPod, type StoredPod } from '../../../src/cri/persist.js'
import { sandboxSpec } from '../../../src/cri/translate.js'
import { planPause } from '../../../src/pod/plan.js'
import { serveCri } from '../../helpers/cri-client.js'

const ID = 'a'.repeat(64)
const CID = 'b'.repeat(64)

function storedPod(): Omit<StoredPod, 'version'> {
  const config = { metadata: { name: 'web', uid: 'u1', namespace: 'ns', attempt: 2 }, labels: { app: 'web' }, annotations: { note: 'kept' } }
  const spec = sandboxSpec(ID, config as never)
  // As CreateContainer leaves it: the container's cgroup in the pod's plan.
  const cgroupPlan = planPodCgroups(spec, detectCgroups(), { parent: 'pl-unit-persist' })
  const { node, ops } = planContainerCgroup(cgroupPlan, { name: CID, resources: { requests: { hugepages: {} }, limits: { hugepages: {} } } })
  cgroupPlan.containers.push(node)
  cgroupPlan.ops.push(...ops)
  return {
    sandbox: {
      id: ID,
      config: config as never,
      runtimeHandler: '',
      createdAt: '1700000000000000000',
      state: 'SANDBOX_READY',
      spec,
      cgroupPlan,
      pausePlan: planPause(spec, '/nonexistent/pause'),
      namespaces: { net: 1, uts: 2, ipc: 3 } as never,
      podIPs: ['198.18.7.9'],
    },
    containers: [
      {
        id: CID,
        config: { metadata: { name: 'app', attempt: 0 }, image: { image: 'busybox' }, labels: { role: 'app' }, annotations: {}, mounts: [] } as never,
        createdAt: '1700000001000000000',
        startedAt: '1700000002000000000',
        finishedAt: '0',
        state: 'CONTAINER_RUNNING',
        exitCode: 0,
        reason: '',
        message: '',
        imageId: 'sha256:1',
        logPath: '/var/log/pods/app.log',
        signal: 'SIGTERM',
        created: { spec: { name: CID, image: 'busybox' } as never, plan: { file: '/bin/sh' } as never },
      },
    ],
  }
}

t.test('records are written whole and read back; a bad one is named and left alone', async t => {
  const root = mkdtempSync(join(tmpdir(), 'pl-cri-persist-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  mkdirSync(join(root, ID))
  writeStoredPod(join(root, ID), storedPod())
  t.equal(JSON.parse(readFileSync(join(root, ID, 'cri.json'), 'utf8')).version, 1)
  const bad = 'c'.repeat(64)
  mkdirSync(join(root, bad))
  writeFileSync(join(root, bad, 'cri.json'), '{"version":1,')
  mkdirSync(join(root, 'd'.repeat(64))) // no record: a sandbox whose RunPodSandbox never finished
  const named: string[] = []
  const pods = readStoredPods(root, (file, why) => named.push(`${file}: ${why}`))
  t.same(
    pods.map(p => p.sandbox.id),
    [ID],
  )
  t.equal(pods[0].containers[0].createdAt, '1700000001000000000')
  t.equal(named.length, 1)
  t.match(named[0], /c{64}\/cri\.json: /)
})

t.test('a sandbox whose shim is gone: NOT_READY, its running container Exited 255 Unknown, the rest as recorded', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-cri-adopt-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const root = join(dir, 'state')
  mkdirSync(join(root, ID), { recursive: true })
  writeStoredPod(join(root, ID), storedPod())
  const warnings: string[] = []
  const { rt } = await serveCri(t, { root, log: l => warnings.push(l) })
  t.match(warnings.join('\n'), /cri\.restore: sandbox a{64} \(web\): its shim is gone/, 'the server says why')
  const pods = (await rt('ListPodSandbox')({})) as { items: { id: string; state: string; labels: object; annotations: object; createdAt: string }[] }
  t.same(
    pods.items.map(p => [p.id, p.state]),
    [[ID, 'SANDBOX_NOTREADY']],
  )
  t.same(pods.items[0].labels, { app: 'web' })
  t.same(pods.items[0].annotations, { note: 'kept' })
  t.equal(pods.items[0].createdAt, '1700000000000000000', 'its created time is kept')
  const c = (await rt('ContainerStatus')({ containerId: CID.slice(0, 12) })) as {
    status: { state: string; exitCode: number; reason: string; message: string; startedAt: string; logPath: string; labels: object }
  }
  t.equal(c.status.state, 'CONTAINER_EXITED')
  t.equal(c.status.exitCode, 255)
  t.equal(c.status.reason, 'Unknown')
  t.match(c.status.message, /shim died/)
  t.equal(c.status.startedAt, '1700000002000000000', 'its start time is kept')
  t.equal(c.status.logPath, '/var/log/pods/app.log')
  t.same(c.status.labels, { role: 'app' })
  const stored = JSON.parse(readFileSync(join(root, ID, 'cri.json'), 'utf8')) as StoredPod
  t.equal(stored.sandbox.state, 'SANDBOX_NOTREADY', 'what it found is written back')
  t.equal(stored.containers[0].state, 'CONTAINER_EXITED')
  await rt('RemovePodSandbox')({ podSandboxId: ID })
  t.notOk(existsSync(join(root, ID)), 'RemovePodSandbox removes its directory')
  t.same(((await rt('ListContainers')({})) as { containers: unknown[] }).containers, [])
})
