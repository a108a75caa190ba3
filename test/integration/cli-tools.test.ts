// cp and port-forward against running containers, and what the CLI refuses
// at once: a hostPort a live pod holds, attach to a container with nothing to
// attach to, a user who is not root. (A memory limit too small to start: memory-limit-start.test.ts.)
import t from 'tap'
import { execFile, execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { connect } from 'node:net'
import { join } from 'node:path'
import { requires } from '../helpers/requires.js'
import { manifest, uniqueName } from '../helpers/pods.js'
import { BIN, cli } from '../helpers/cli.js'
import { newRoot, readPodRecord, runDetached, until, writeManifest } from '../helpers/detached-pods.js'
import { spawnDaemon } from '../helpers/daemon.js'

const skip = requires('root', 'built')

t.test('cp: a file and a directory into a running container and back out, as kubectl cp; into an existing directory', { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('cp')
  await runDetached(t, root, manifest(name, [{ name: 'app', command: ['sh', '-c', 'mkdir -p /tmp/in; sleep 600'] }]))
  const dir = t.testdir({ 'hello.txt': 'hello\n', tree: { 'a.txt': 'A', sub: { 'b.txt': 'B' } } })

  const up = await cli(root, 'cp', join(dir, 'hello.txt'), `${name}:/tmp/renamed.txt`)
  t.equal(up.code, 0, up.stderr)
  t.equal((await cli(root, 'exec', name, '--', 'cat', '/tmp/renamed.txt')).stdout, 'hello\n', 'the file, under the name given')
  t.equal((await cli(root, 'cp', join(dir, 'tree'), `${name}:/tmp/in`)).code, 0)
  t.equal((await cli(root, 'exec', name, '--', 'cat', '/tmp/in/tree/a.txt', '/tmp/in/tree/sub/b.txt')).stdout, 'AB', 'into the existing directory')
  t.equal((await cli(root, 'cp', join(dir, 'tree'), `${name}:/tmp/copy`)).code, 0)
  t.equal((await cli(root, 'exec', name, '--', 'cat', '/tmp/copy/sub/b.txt')).stdout, 'B', 'a new name for the directory')

  const out = join(dir, 'out')
  mkdirSync(out)
  t.equal((await cli(root, 'cp', `${name}:/tmp/renamed.txt`, join(out, 'back.txt'))).code, 0)
  t.equal(readFileSync(join(out, 'back.txt'), 'utf8'), 'hello\n')
  t.equal((await cli(root, 'cp', `${name}:/tmp/copy`, join(out, 'tree2'))).code, 0)
  t.equal(readFileSync(join(out, 'tree2', 'sub', 'b.txt'), 'utf8'), 'B')
  t.equal((await cli(root, 'cp', `${name}:/etc/hostname`, out)).code, 0)
  t.equal(readFileSync(join(out, 'hostname'), 'utf8').trim(), name, "into the existing directory: the container's /etc/hostname")

  // A symlink in the container naming a host path, then a file "through" it: nothing lands outside the destination.
  t.equal((await cli(root, 'exec', name, '--', 'sh', '-c', `mkdir -p /tmp/evil && ln -s ${out} /tmp/evil/link`)).code, 0)
  t.equal((await cli(root, 'cp', `${name}:/tmp/evil`, join(out, 'evil'))).code, 0)
  t.notOk(readlinkSync(join(out, 'evil', 'link')).startsWith('/'), 'the link is copied made relative (node-tar), never to the host path')
  t.same(readdirSync(out).sort(), ['back.txt', 'evil', 'hostname', 'tree2'], 'nothing written beside the destination')

  const missing = await cli(root, 'cp', `${name}:/no/such`, out)
  t.equal(missing.code, 1)
  t.match(missing.stderr, /^pod-launch: cp: .*\/no\/such.*: tar in the container exited \d+: .*No such file or directory/)
  const both = await cli(root, 'cp', join(dir, 'hello.txt'), join(out, 'x'))
  t.equal(both.code, 2)
  t.match(both.stderr, /cp: one side is POD:PATH and the other a local path/)
  t.notOk(existsSync(join(out, 'x')))
})

t.test("port-forward: the host's loopback to a port the pod serves on its own loopback (no CNI network)", { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('pf')
  const server = "require('net').createServer(s => s.end('pong ' + require('os').hostname() + '\\n')).listen(7070, '127.0.0.1', () => console.log('up'))"
  await runDetached(t, root, manifest(name, [{ name: 'srv', command: [process.execPath, '-e', server] }]))
  await until('the server is up', async () => (await cli(root, 'logs', name)).stdout.includes('up'))
  const fwd = spawnDaemon(process.execPath, [BIN, '--root', root, 'port-forward', name, ':7070'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => void fwd.kill('SIGKILL'))
  let out = ''
  fwd.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  await until('listening', () => /Forwarding from 127\.0\.0\.1:\d+ -> 7070/.test(out))
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(out)![1])
  const reply = await new Promise<string>((resolve, reject) => {
    let got = ''
    const s = connect(port, '127.0.0.1')
    s.setEncoding('utf8').on('data', (d: string) => (got += d))
    s.on('end', () => resolve(got))
    s.on('error', reject)
  })
  t.equal(reply, `pong ${name}\n`, "the pod's server answered through the forward")
  await until('the connection is logged', () => out.includes(`Handling connection for ${port}`))
  // Nothing listens on 7071 inside: the client's connection is closed and the error named.
  const fwd2 = spawnDaemon(process.execPath, [BIN, '--root', root, 'port-forward', name, ':7071'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => void fwd2.kill('SIGKILL'))
  let out2 = ''
  let err2 = ''
  fwd2.stdout.setEncoding('utf8').on('data', (d: string) => (out2 += d))
  fwd2.stderr.setEncoding('utf8').on('data', (d: string) => (err2 += d))
  await until('listening', () => /127\.0\.0\.1:(\d+)/.test(out2))
  const port2 = Number(/127\.0\.0\.1:(\d+)/.exec(out2)![1])
  await new Promise<void>(resolve =>
    connect(port2, '127.0.0.1')
      .on('close', () => resolve())
      .on('error', () => {}),
  )
  await until('the error', () => err2.includes('connect: connection refused'))
  t.match(err2, /an error occurred forwarding \d+ -> 7071 in pod .*: dial tcp 127\.0\.0\.1:7071: connect: connection refused/)
  // The pod stops: the forward ends on its own.
  const exited = new Promise<number | null>(resolve => fwd.on('exit', code => resolve(code)))
  t.equal((await cli(root, 'stop', name, '--grace-period', '0')).code, 0)
  t.equal(await exited, 1, 'port-forward ends with the pod')
})

t.test('a hostPort a live pod holds is refused before anything is made; free again once that pod is removed', { skip }, async t => {
  const root = newRoot(t)
  const a = uniqueName('port-a')
  const b = uniqueName('port-b')
  const ports = [{ containerPort: 18099, protocol: 'TCP' }]
  await runDetached(t, root, manifest(a, [{ name: 'app', command: ['sleep', '600'], ports } as never], { hostNetwork: true }))
  const file = writeManifest(t, manifest(b, [{ name: 'web', command: ['sleep', '600'], ports } as never], { hostNetwork: true }))
  const before = readdirSync(root).filter(d => !d.startsWith('.'))
  for (const args of [
    ['run', '-d', file],
    ['run', file],
  ]) {
    const r = await cli(root, ...args)
    t.equal(r.code, 1, args.join(' '))
    t.match(
      r.stderr,
      new RegExp(`^pod-launch: pod\\.create: ${b}: spec\\.containers\\[0\\]\\.ports\\[0\\]\\.hostPort: 18099/TCP is taken by the live pod ${a} \\(`),
    )
    t.match(r.stderr, /hint: choose another hostPort/)
    t.same(
      readdirSync(root).filter(d => !d.startsWith('.')),
      before,
      'nothing was made for it',
    )
  }
  t.equal((await cli(root, 'rm', '--force', a)).code, 0)
  const again = await cli(root, 'run', '-d', file)
  t.equal(again.code, 0, again.stderr)
})

t.test('attach to a container with neither stdin nor tty says so at once', { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('attach-none')
  const id = await runDetached(t, root, manifest(name, [{ name: 'app', command: ['sleep', '600'] }]))
  const r = await cli(root, 'attach', name)
  t.equal(r.code, 1)
  t.match(r.stderr, `attach: ${name}/app: the container has neither stdin nor tty: there is nothing to attach to`)
  t.match(r.stderr, `hint: pod-launch logs -f ${name} follows its output`)
  t.equal(readPodRecord(root, id).phase, 'Running', 'the pod is left alone')
})

// The real thing, not requireRoot with a uid: the CLI run as nobody (it needs the checkout readable by
// nobody), from a user's clean environment: `env -i`, since tap's process-info hook adds its NODE_OPTIONS
// to every child's env (it would write into the checkout as nobody).
const NOBODY = 65534
const AS_NOBODY = ['-i', `PATH=${process.env.PATH}`, 'LANG=C', 'setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath]
const asNobody = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>(resolve =>
    execFile('env', [...AS_NOBODY, BIN, ...args], { cwd: '/' }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  )
function nobodyCannotRun(): string | false {
  try {
    execFileSync('env', [...AS_NOBODY, '-e', `require('fs').accessSync(${JSON.stringify(BIN)})`], { stdio: 'ignore', cwd: '/' })
    return false
  } catch {
    return 'setpriv missing, or nobody cannot read the checkout'
  }
}
const nobodySkip = skip || nobodyCannotRun()

t.test('not root: one clear message naming the command or the state root, never EACCES from scandir (run as nobody)', { skip: nobodySkip }, async t => {
  const root = newRoot(t) // made by root, mode 0700: nobody cannot read it
  const dir = mkdtempSync(join(tmpdir(), 'pl-nobody-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  chmodSync(dir, 0o755)
  const file = join(dir, 'pod.json')
  writeFileSync(file, JSON.stringify(manifest(uniqueName('nobody'), [{ name: 'app', command: ['sleep', '600'] }])), { mode: 0o644 })
  // Commands that only read the state root: the root's own error, naming it.
  for (const args of [['ps'], ['logs', 'x']]) {
    const r = await asNobody(['--root', root, ...args])
    t.equal(r.code, 1, args.join(' '))
    t.equal(r.stderr, `pod-launch: cli.root: ${root}: permission denied (running as uid ${NOBODY})\nhint: pod-launch needs root: sudo pod-launch ...\n`)
  }
  for (const args of [
    ['run', file],
    ['run', '-d', file],
    ['exec', '-it', 'x', '--', 'sh'],
    ['stop', 'x'],
    ['rm', 'x'],
  ]) {
    const r = await asNobody(['--root', root, '--network', 'none', ...args])
    t.equal(r.code, 1, args.join(' '))
    t.equal(
      r.stderr,
      `pod-launch: cli.root: pod-launch ${args[0]}: needs root (running as uid ${NOBODY})\nhint: namespaces and cgroups need root: sudo pod-launch ${args[0]} ...\n`,
    )
  }
  t.same(readdirSync(root), [], 'nothing was made')
})
