// One `pod-launch cri` per state root: a second server on a root that one
// serves (through another socket) exits at once with a one-line error naming
// the root and the running server's pid, before it adopts or touches
// anything: the first server's sandbox, its record and the lock's pid stay
// as they were, the second socket is never made. The lock goes with its
// server: a server started after the first closed serves the root again.
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PodError } from '../../src/errors.js'
import { CriServer } from '../../src/cri/index.js'
import { CRI_LOCK_FILE, CRI_RECORD_FILE } from '../../src/state/index.js'
import { BIN, type Out } from '../helpers/cli.js'
import { serveCri } from '../helpers/cri-client.js'
import { ownCgroupParent, uniqueName } from '../helpers/pods.js'
import { requires } from '../helpers/requires.js'

const skip = requires('root', 'built')

/** `pod-launch ARGS...`; a server that does not exit within 60 s is ended (SIGTERM) and its output returned. */
const cli = (...args: string[]): Promise<Out> =>
  new Promise(resolve =>
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  )

t.test('a second pod-launch cri on a served state root exits at once, naming the root and the running server', { skip }, async t => {
  const cgroupParent = ownCgroupParent(t, 'cri-server')
  const cri = await serveCri(t, { cgroupParent })
  const root = cri.server.root
  const config = { metadata: { name: 'first', uid: uniqueName('uid'), namespace: 'test', attempt: 0 }, linux: {} }
  const { podSandboxId } = (await cri.rt('RunPodSandbox')({ config })) as { podSandboxId: string }
  const record = join(root, podSandboxId, CRI_RECORD_FILE)
  const before = { text: readFileSync(record, 'utf8'), mtimeMs: statSync(record).mtimeMs }
  t.equal(readFileSync(join(root, CRI_LOCK_FILE), 'utf8'), `${process.pid}\n`, 'the serving process wrote its pid into the lock')

  const other = join(cri.dir, 'other.sock')
  const out = await cli('--root', root, 'cri', '--listen', `unix://${other}`, '--network', 'none', '--cgroup-parent', cgroupParent)
  t.equal(out.code, 1, 'the second server exits 1')
  const lines = out.stderr.trimEnd().split('\n')
  t.equal(lines[0], `pod-launch: cri.lock: ${root}: another pod-launch cri (pid ${process.pid}) serves this state root`, 'one line naming the root and pid')
  t.match(lines[1], new RegExp(`^hint: stop it first \\(kill -TERM ${process.pid}\\b.*, or pass another --root$`), 'a hint')
  t.equal(lines.length, 2, `nothing else said: ${out.stderr}`)
  t.notOk(existsSync(other), 'its socket was never made')

  t.same({ text: readFileSync(record, 'utf8'), mtimeMs: statSync(record).mtimeMs }, before, "the sandbox's record is untouched")
  t.equal(readFileSync(join(root, CRI_LOCK_FILE), 'utf8'), `${process.pid}\n`, "the lock still names the first server's pid")
  const status = (await cri.rt('PodSandboxStatus')({ podSandboxId })) as { status: { state: string } }
  t.equal(status.status.state, 'SANDBOX_READY', 'the first server still serves its sandbox')

  // The library refuses the same way (another open of the lock in one process).
  const again = CriServer.start({ listen: `unix://${other}`, root, network: 'none', cgroupParent, log: () => {} })
  await t.rejects(again, { step: 'cri.lock', code: 'ALREADY_EXISTS' }, 'CriServer.start refuses too')
  await again.catch((e: unknown) => t.ok(e instanceof PodError, 'as a PodError'))
  t.notOk(existsSync(other), 'still no second socket')
  await cri.rt('RemovePodSandbox')({ podSandboxId })
})

t.test('a server that closed leaves the root to the next one', { skip }, async t => {
  const cgroupParent = ownCgroupParent(t, 'cri-server')
  const dir = mkdtempSync(join(tmpdir(), 'pl-cri-server-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const root = join(dir, 'root')
  const start = (name: string) => CriServer.start({ listen: `unix://${join(dir, name)}`, root, network: 'none', cgroupParent, log: () => {} })
  const first = await start('first.sock')
  await first.close()
  const next = await start('next.sock')
  t.teardown(() => next.close())
  t.equal(readFileSync(join(root, CRI_LOCK_FILE), 'utf8'), `${process.pid}\n`, 'the next server holds the lock')
  t.ok(existsSync(next.socket), 'and serves')
})
