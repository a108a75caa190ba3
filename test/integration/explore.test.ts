// explain, ns, tree, check through the CLI entry (main), on real pods.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '../../src/cli/main.js'
import { requires } from '../helpers/requires.js'
import { manifest, uniqueName } from '../helpers/pods.js'

const skip = requires('root', 'built')

async function cli(...argv: string[]) {
  let out = ''
  let err = ''
  const code = await main(argv, { out: s => void (out += s), err: s => void (err += s) })
  return { code, out, err }
}

t.test("ns and tree show a detached pod's processes, namespaces, cgroups and limits", { skip }, async t => {
  const root = mkdtempSync(join(tmpdir(), 'pl-explore-'))
  const name = uniqueName('explore')
  const file = join(root, 'pod.json')
  writeFileSync(
    file,
    JSON.stringify(
      manifest(name, [
        { name: 'web', command: ['sleep', '600'], resources: { limits: { memory: '64Mi' } } } as never,
        { name: 'side', command: ['sleep', '600'] },
      ]),
    ),
  )
  t.teardown(async () => {
    await cli('--root', root, 'rm', '--force', name)
    rmSync(root, { recursive: true, force: true })
  })
  t.equal((await cli('--root', root, 'run', '-d', file)).code, 0)
  const ns = JSON.parse((await cli('--root', root, 'ns', name, '--json')).out) as { role: string; ns: Record<string, { shared: string }> }[]
  t.same(
    ns.map(r => r.role),
    ['pause', 'web', 'side'],
  )
  for (const r of ns.slice(1)) {
    t.same([r.ns.uts.shared, r.ns.ipc.shared, r.ns.net.shared], ['pause', 'pause', 'pause'], `${r.role}: uts, ipc, net shared with pause`)
    t.same([r.ns.mnt.shared, r.ns.pid.shared], ['own', 'own'], `${r.role}: mnt and pid its own`)
    t.equal(r.ns.user.shared, 'pause+host', "user: the host's, like pause")
  }
  const table = await cli('--root', root, 'ns', name)
  t.match(table.out, /^PID +ROLE +UTS +IPC +NET +PID +MNT +CGROUP +USER +TIME +COMMAND\n/)
  const tree = await cli('--root', root, 'tree', name)
  t.equal(tree.code, 0)
  t.match(tree.out, /pod-launch\/pod-[0-9a-f-]{36}/)
  t.match(tree.out, /├─ pause /)
  t.match(tree.out, /web .*memory\.(max|limit_in_bytes)=67108864/)
  t.match(tree.out, /\d+ sleep 600/)
})

t.test('explain prints namespaces, cgroup writes with their Kubernetes field, mounts and argv, creating nothing', { skip }, async t => {
  const root = t.testdir()
  const file = join(root, 'pod.json')
  writeFileSync(
    file,
    JSON.stringify(
      manifest(
        uniqueName('explain'),
        [{ name: 'web', command: ['nginx', '-g', 'daemon off;'], resources: { limits: { memory: '512Mi', cpu: '500m' } } } as never],
        { shareProcessNamespace: true },
      ),
    ),
  )
  const r = await cli('explain', file)
  t.equal(r.code, 0)
  t.match(r.out, /= "536870912"  # limits\.memory 512Mi/)
  t.match(r.out, /clone3\(CLONE_PIDFD \| CLONE_NEWPID\)/, 'pause makes the shared pid namespace')
  t.match(r.out, /setns\(\/proc\/<pause>\/ns\/net, CLONE_NEWNET\)/)
  t.match(r.out, /pid_for_children/)
  t.match(r.out, /execve \["nginx","-g","daemon off;"\]/)
  t.match(r.out, /seccomp: Unconfined/)
  const json = JSON.parse((await cli('explain', file, '--json')).out)
  t.equal(json.processes.length, 2)
})

t.test('check reports each feature with pass, warn or fail', { skip }, async t => {
  const r = await cli('check', '--json')
  const lines = JSON.parse(r.out) as { status: string; feature: string }[]
  t.ok(lines.find(l => l.feature === 'cgroups' && l.status === 'pass'))
  t.ok(lines.find(l => l.feature === 'pidfd' && l.status === 'pass'))
  t.ok(lines.every(l => ['pass', 'warn', 'fail'].includes(l.status)))
})
