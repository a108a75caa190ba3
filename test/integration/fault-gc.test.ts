// Issue 24, items 1, 2 and 4: gc removes only what is its root's and
// provably dead. Each test uses its own state roots and cgroup parents, and
// ends with the leak check (no process, pod cgroup, mount, pod dir or log).
import t from 'tap'
import { existsSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { requires } from '../helpers/requires.js'
import { manifest, uniqueName } from '../helpers/pods.js'
import {
  cliEnv,
  leaks,
  settledLeaks,
  newRoot,
  NO_LEAKS,
  onlyRecord,
  processesUnder,
  runForeground,
  uniqueParent,
  waitUntil,
  writeManifest,
} from '../helpers/faults.js'
import { alive } from '../helpers/procs.js'

const skip = requires('root', 'built')
type Action = { kind: string; target: string; why: string; leftAlone?: boolean }
const backdate = (path: string) => utimesSync(path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000))

t.test('item 1: gc never touches a running foreground pod (custom cgroup parent); it has a record: ps and inspect see it', { skip }, async t => {
  const root = newRoot(t)
  const parent = uniqueParent(t, 'fg')
  const other = uniqueParent(t, 'none') // gc scans this one and the parents the records name: never the shared default
  const name = uniqueName('fg')
  const file = writeManifest(t, manifest(name, [{ name: 'c', command: ['sleep', '600'] }]))
  const fg = runForeground(root, ['--cgroup-parent', parent, file])
  t.teardown(() => fg.child.kill('SIGKILL'))
  t.ok(await waitUntil(() => onlyRecord(root)?.phase === 'Running'), 'the foreground pod has a record saying Running')
  const id = onlyRecord(root)!.id
  const dir = join(root, id)
  const before = readdirSync(dir, { recursive: true }).length
  t.match(JSON.parse((await cliEnv(root, {}, 'ps', '--json')).stdout), [{ pod: name, phase: 'Running', ready: '1/1' }], 'ps names it (not "? <id> Unknown")')
  const inspect = await cliEnv(root, {}, 'inspect', name)
  t.equal(inspect.code, 0, inspect.stderr)
  t.equal(JSON.parse(inspect.stdout).status.phase, 'Running')

  backdate(dir) // old enough that only the proof of life protects it
  const gc = await cliEnv(root, {}, 'gc', '--json', '--cgroup-parent', other)
  t.equal(gc.code, 0, gc.stderr)
  t.same(
    (JSON.parse(gc.stdout || '[]') as Action[]).filter(a => a.target.includes(id)),
    [],
    'gc names nothing of the running pod',
  )
  t.equal(readdirSync(dir, { recursive: true }).length, before, 'its state dir is whole')
  t.ok(processesUnder(parent).length >= 2, 'pause and the container still run')

  // Without a readable record, the processes in its cgroups prove it alive.
  const good = readFileSync(join(dir, 'pod.json'))
  writeFileSync(join(dir, 'pod.json'), '{ corrupt')
  backdate(dir)
  const gc2 = await cliEnv(root, {}, 'gc', '--json', '--cgroup-parent', other)
  t.equal(gc2.code, 0, gc2.stderr)
  t.same(
    (JSON.parse(gc2.stdout || '[]') as Action[]).filter(a => a.target.includes(id)),
    [],
    'a corrupt record: still nothing, its processes live',
  )
  t.ok(existsSync(join(dir, 'logs')), 'its logs are there')
  writeFileSync(join(dir, 'pod.json'), good)

  const rm = await cliEnv(root, {}, 'rm', '--force', name)
  t.equal(rm.code, 0, rm.stderr)
  const end = await fg.exited
  t.equal(end.signal, null, 'the foreground run ended by itself')
  t.same(await settledLeaks(root, parent), NO_LEAKS, 'nothing left')
})

t.test('item 2: gc --root A leaves the orphaned pod of root B alone; --all-roots ends it; a live pod of B survives even that', { skip }, async t => {
  const rootA = newRoot(t)
  const rootB = newRoot(t)
  const parent = uniqueParent(t, 'roots')
  const orphanName = uniqueName('orphan')
  const liveName = uniqueName('live')
  const run = async (n: string) => {
    const r = await cliEnv(
      rootB,
      {},
      'run',
      '-d',
      '--cgroup-parent',
      parent,
      writeManifest(t, manifest(n, [{ name: 'c', command: ['sleep', '600'] }]), `${n}.json`),
    )
    t.equal(r.code, 0, r.stderr)
    return JSON.parse(readFileSync(join(rootB, r.stdout.trim(), 'pod.json'), 'utf8'))
  }
  const orphan = await run(orphanName)
  const live = await run(liveName)
  // An orphan: a pod of B whose record is gone while its shim (and so its processes) live on.
  rmSync(join(rootB, orphan.id), { recursive: true, force: true })
  t.ok(alive(orphan.supervisor.pid) && alive(orphan.pause.pid), "B's orphan runs on, with no record")

  const gc = await cliEnv(rootA, {}, 'gc', '--json', '--cgroup-parent', parent)
  t.equal(gc.code, 0, gc.stderr)
  const actions = JSON.parse(gc.stdout) as Action[]
  t.ok(alive(orphan.pause.pid), "B's orphaned pause still runs")
  t.ok(
    actions.some(a => a.kind === 'process' && a.target === `shim pid ${orphan.supervisor.pid}` && a.leftAlone),
    'gc reports its shim, left alone',
  )
  t.ok(
    actions.some(a => a.kind === 'process' && a.target === `shim pid ${live.supervisor.pid}` && a.leftAlone && /a live pod of another root/.test(a.why)),
    "and B's live pod as B's",
  )
  t.ok(
    actions.every(a => a.leftAlone),
    `gc --root A acted on nothing: ${JSON.stringify(actions)}`,
  )

  const all = await cliEnv(rootA, {}, 'gc', '--json', '--cgroup-parent', parent, '--all-roots')
  t.equal(all.code, 0, all.stderr)
  t.ok(await waitUntil(() => !alive(orphan.pause.pid) && !alive(orphan.supervisor.pid)), '--all-roots ended the orphan: its shim, and its processes with it')
  t.ok(alive(live.pause.pid) && alive(live.supervisor.pid), "B's live pod is never an orphan")
  const ls = await cliEnv(rootB, {}, 'ps', '--json')
  const phases = Object.fromEntries((JSON.parse(ls.stdout) as { pod: string; phase: string }[]).map(r => [r.pod, r.phase]))
  t.same(phases, { [liveName]: 'Running' }, 'B: the live pod Running')

  t.equal((await cliEnv(rootB, {}, 'rm', '--force', liveName)).code, 0)
  t.same(await settledLeaks(rootA, parent), NO_LEAKS, 'nothing left (root A)')
  t.same(await settledLeaks(rootB, parent), NO_LEAKS, 'nothing left (root B)')
})

t.test('item 4: gc finds the cgroups of a killed foreground run under the parent its record names', { skip }, async t => {
  const root = newRoot(t)
  const parent = uniqueParent(t, 'killed')
  const other = uniqueParent(t, 'none')
  const name = uniqueName('killed')
  const m = manifest(name, [{ name: 'c', command: ['sleep', '600'], volumeMounts: [{ name: 'm', mountPath: '/m' }] } as never], {
    volumes: [{ name: 'm', emptyDir: { medium: 'Memory', sizeLimit: '4Mi' } }],
  })
  const fg = runForeground(root, ['--cgroup-parent', parent, writeManifest(t, m)])
  t.teardown(() => fg.child.kill('SIGKILL'))
  t.ok(await waitUntil(() => onlyRecord(root)?.phase === 'Running'), 'Running')
  fg.child.kill('SIGKILL')
  await fg.exited
  t.ok(await waitUntil(() => processesUnder(parent).length === 0), 'its processes died with it (PDEATHSIG)')
  t.ok(leaks(root, parent).cgroups.length > 0, 'its cgroups are left')
  t.ok(leaks(root, parent).mounts.length > 0, 'and its Memory emptyDir')

  const gc = await cliEnv(root, {}, 'gc', '--json', '--cgroup-parent', other) // not the pod's parent: gc reads it from the record
  t.equal(gc.code, 0, gc.stderr)
  t.match(JSON.parse(gc.stdout), [{ kind: 'pod', target: new RegExp(name) }])
  t.same(await settledLeaks(root, parent), NO_LEAKS, 'gc left nothing')
})

t.test('a foreground record torn by a crash (no fsync): ps lists it as unreadable, gc removes what is left', { skip }, async t => {
  const root = newRoot(t)
  const parent = uniqueParent(t, 'torn')
  const name = uniqueName('torn')
  const fg = runForeground(root, ['--cgroup-parent', parent, writeManifest(t, manifest(name, [{ name: 'c', command: ['sleep', '600'] }]))])
  t.teardown(() => fg.child.kill('SIGKILL'))
  t.ok(await waitUntil(() => onlyRecord(root)?.phase === 'Running'), 'Running')
  const id = onlyRecord(root)!.id
  const dir = join(root, id)
  const text = readFileSync(join(dir, 'pod.json'), 'utf8')
  // A crash of the host ends the CLI and the pod's processes: here a SIGKILL (PDEATHSIG ends the rest).
  fg.child.kill('SIGKILL')
  await fg.exited
  t.ok(await waitUntil(() => processesUnder(parent).length === 0), 'its processes died with it')
  // What a crash can leave of a file renamed into place before its data reached the disk: a part of it, or nothing.
  for (const [what, torn] of [
    ['truncated', text.slice(0, text.length >> 1)],
    ['empty', ''],
  ]) {
    writeFileSync(join(dir, 'pod.json'), torn)
    const ps = await cliEnv(root, {}, 'ps', '--json')
    t.equal(ps.code, 0, `${what}: ps succeeds (${ps.stderr})`)
    t.match(JSON.parse(ps.stdout), [{ id, phase: 'Unknown', error: /corrupt pod record/ }], `${what}: ps lists the pod as unreadable`)
  }
  backdate(dir)
  const gc = await cliEnv(root, {}, 'gc', '--json', '--cgroup-parent', parent)
  t.equal(gc.code, 0, gc.stderr)
  const actions = JSON.parse(gc.stdout) as Action[]
  t.match(
    actions.filter(a => a.kind === 'state-dir'),
    [{ target: dir, why: /corrupt pod record/ }],
    'its state dir goes',
  )
  t.ok(
    actions.some(a => a.kind === 'cgroup' && a.target.includes(id)),
    'and its empty cgroups (a real crash of the host leaves none)',
  )
  t.same(await settledLeaks(root, parent), NO_LEAKS, 'gc left nothing')
})
