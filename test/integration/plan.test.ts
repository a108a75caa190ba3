// explain and run agree: for a table of pods, the plan explain prints is the
// plan run stored and executed (pod.json), the pod directory aside.
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '../../src/cli/main.js'
import { explainPod, parseManifest } from '../../src/index.js'
import { podDir, recordFile, type PodRecord } from '../../src/state/index.js'
import { requires } from '../helpers/requires.js'
import { manifest, uniqueName } from '../helpers/pods.js'

const skip = requires('root', 'built')

async function cli(...argv: string[]) {
  let out = ''
  let err = ''
  const code = await main(argv, { out: s => void (out += s), err: s => void (err += s) })
  return { code, out, err }
}

const sleeper = (extra: object = {}) => ({ name: 'app', command: ['sleep', '600'], ...extra }) as never
const pods: [string, object, Record<string, unknown>?][] = [
  ['privileged', sleeper({ securityContext: { privileged: true } })],
  ['hostPID', sleeper(), { hostPID: true }],
  ['shareProcessNamespace', sleeper(), { shareProcessNamespace: true }],
  ['readOnlyRootFilesystem', sleeper({ securityContext: { readOnlyRootFilesystem: true, runAsUser: 1000, capabilities: { drop: ['ALL'] } } })],
  [
    'volumes',
    sleeper({
      volumeMounts: [
        { name: 'scratch', mountPath: '/scratch' },
        { name: 'mem', mountPath: '/mem' },
      ],
    }),
    {
      volumes: [
        { name: 'scratch', emptyDir: {} },
        { name: 'mem', emptyDir: { medium: 'Memory' } },
      ],
    },
  ],
  ['seccomp', sleeper({ securityContext: { seccompProfile: { type: 'RuntimeDefault' }, allowPrivilegeEscalation: false } })],
  ['tty', sleeper({ tty: true, stdin: true })],
]

for (const [what, container, spec] of pods) {
  t.test(`${what}: the plan explain prints is the plan run executed`, { skip }, async t => {
    const root = mkdtempSync(join(tmpdir(), 'pl-plan-'))
    const name = uniqueName(`plan-${what.toLowerCase().slice(0, 8)}`)
    const m = manifest(name, [container as never], spec)
    const file = join(root, 'pod.json')
    writeFileSync(file, JSON.stringify(m))
    t.teardown(async () => {
      const rm = await cli('--root', root, 'rm', '--force', name)
      if (rm.code !== 0) throw new Error(`rm --force ${name}: ${rm.err}`)
      rmSync(root, { recursive: true, force: true })
    })
    const started = await cli('--root', root, 'run', '-d', file)
    t.equal(started.code, 0, started.err)
    const id = started.out.trim()
    const record = JSON.parse(readFileSync(recordFile(podDir(root, id)), 'utf8')) as PodRecord
    // What only the run knows: the pod's directory and the pause binary's path.
    const ran = JSON.parse(JSON.stringify(record.containerStatuses[0].plan).replaceAll(podDir(root, id), '<pod dir>'))
    const explained = explainPod(parseManifest(m).spec, { stateRoot: root })
    t.same(explained.processes[1].plan, ran, 'the container')
    t.ok(ran.version === 1 && ran.argv[0] === 'sleep', 'a stored, versioned plan')
    t.same({ ...explained.processes[0].plan, argv: [] }, { ...record.pause!.plan, argv: [] }, 'pause')
  })
}

t.test('a privileged container: explain no longer claims /sys read-only, as run does not mount it so', { skip }, async t => {
  const explained = explainPod(parseManifest(manifest(uniqueName('plan-priv'), [sleeper({ securityContext: { privileged: true } })])).spec)
  const sys = explained.processes[1].plan!.mounts.find(mt => mt.target.endsWith('/sys') && mt.fstype === 'sysfs')
  t.ok(sys, 'sysfs is mounted')
  t.notOk(
    explained.processes[1].mounts.some(l => / on \/proc\/sys .*RDONLY/.test(l)),
    'no read-only /proc/sys',
  )
})
