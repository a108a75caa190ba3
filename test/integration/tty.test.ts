import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { requires } from '../helpers/requires.js'
import { uniqueName } from '../helpers/pods.js'
import { Terminal, typeUntil } from '../helpers/terminal.js'

const skip = requires('root', 'built')
const BIN = fileURLToPath(new URL('../../bin/pod-launch', import.meta.url))
const NODE = process.execPath

type T = { teardown: (fn: () => unknown) => void; testdir: () => string }

interface Out {
  code: number
  stdout: string
  stderr: string
}
function cli(root: string, args: string[], input?: string): Promise<Out> {
  return new Promise(resolve => {
    const c = execFile(NODE, [BIN, '--root', root, ...args], { maxBuffer: 1 << 24, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
    if (input !== undefined) c.stdin!.end(input)
  })
}

/** A state root of its own; every pod left in it is removed at teardown. */
function newRoot(t: T): string {
  const root = mkdtempSync(join(tmpdir(), 'pl-tty-'))
  t.teardown(async () => {
    for (const id of existsSync(root) ? readdirSync(root).filter(d => /^[0-9a-f-]{36}$/.test(d)) : []) await cli(root, ['rm', '--force', id])
    rmSync(root, { recursive: true, force: true })
  })
  return root
}

function pod(t: T, name: string, containers: object[], spec: object = {}): string {
  const file = join(t.testdir(), `${name}.json`)
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: containers.map(c => ({ image: 'host', ...c })), ...spec },
    }),
  )
  return file
}

t.test('a tty container in the foreground gets its own pty of our terminal size, resizes follow, the terminal is restored', { skip }, async t => {
  const root = newRoot(t)
  const file = pod(t, uniqueName('tty'), [
    {
      name: 'shell',
      command: [
        'sh',
        '-c',
        'tty; ls /dev/pts; stty size; stat -Lc "devices %t:%T" /dev/console /proc/self/fd/0 /proc/self/fd/2 | uniq -c; while read x; do [ "$x" = end ] && break; stty size; done; echo bye',
      ],
      stdin: true,
      tty: true,
    },
  ])
  const term = new Terminal(t, `stty rows 33 cols 101; ${NODE} ${BIN} --root ${root} run ${file}`)
  const outer = await term.path()
  const [, inner] = await term.waitFor(/(\/dev\/pts\/\d+)\r*\n/, outer.length + 1)
  t.pass(`the container's stdin is a terminal: ${inner}`)
  const pts = await term.waitFor(/\r*\n([0-9\sptmx]+?)\r*\n(\d+ \d+)/)
  t.same(pts[1].trim().split(/\s+/).sort(), ['0', 'ptmx'], "its /dev/pts is a devpts of its own: the one pty it made there, not the host's")
  t.equal(pts[2], '33 101', 'stty size inside shows our terminal size')
  t.match(
    await term.waitFor(/\s+(\d+) devices (\w+:\w+)/),
    { 1: '3', 2: /^88:\d+$/ },
    '/dev/console, stdin and stderr are the same pty slave (major 136 = 0x88)',
  )

  term.resize(outer, 40, 120)
  await typeUntil(term, 'again\r', /\n40 120\r/)
  t.pass('a resize of our terminal reached the container (TIOCSWINSZ on the master, SIGWINCH inside)')

  term.type('end\r')
  await term.waitFor(/bye/)
  const rc = await term.waitFor(/script-rc=(\d+)/)
  t.equal(rc[1], '0', 'pod-launch exits 0 when the container did')
  await term.exited
  const flags = term.text.slice(term.text.indexOf('script-rc='))
  t.match(flags, / icanon /, 'the terminal is back in canonical mode')
  t.match(flags, / echo /, 'and echoes again')
  t.match(term.text, /pod-launch: container shell has a tty: Ctrl-P Ctrl-Q detaches/)
  t.notMatch(term.text, /\[shell\]/, 'the attached output is raw, not `[name] line`')
})

t.test('stdin: true gives the container a pipe fed from our stdin; stdinOnce closes it when our input ends', { skip }, async t => {
  const root = newRoot(t)
  const file = pod(t, uniqueName('stdin'), [
    { name: 'cat', command: ['sh', '-c', 'readlink /proc/self/fd/0; cat; echo eof'], stdin: true, stdinOnce: true },
    { name: 'quiet', command: ['sh', '-c', 'readlink /proc/self/fd/0'] },
  ])
  const r = await cli(root, ['run', file], 'hello\nworld\n')
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^\[cat\] pipe:\[\d+\]$/m, 'stdin is a pipe')
  // The other container's line may come in between: cat's own lines, in order.
  t.same(
    r.stdout
      .split('\n')
      .filter(l => l.startsWith('[cat] '))
      .slice(1),
    ['[cat] hello', '[cat] world', '[cat] eof'],
    'cat echoed our input, then saw EOF',
  )
  t.match(r.stdout, /^\[quiet\] \/dev\/null$/m, 'a container without stdin reads /dev/null')
  t.match(r.stderr, /cat +Terminated +Completed +0/)
})

t.test('without stdinOnce the container never sees EOF when our input ends (Kubernetes semantics)', { skip }, async t => {
  const root = newRoot(t)
  const file = pod(t, uniqueName('stdin-open'), [{ name: 'reader', command: ['sh', '-c', 'read a; echo got=$a; timeout 1 cat; echo rc=$?'], stdin: true }])
  const r = await cli(root, ['run', file], 'x\n')
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /\[reader\] got=x\n/)
  t.match(r.stdout, /\[reader\] rc=124\n/, 'cat was still waiting on an open stdin when timeout killed it')
})

t.test('attach to a detached pod: our terminal drives its tty, Ctrl-P Ctrl-Q detaches, exit passes through, nothing is left after rm', { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('attach')
  const file = pod(t, name, [{ name: 'sh', command: ['sh'], stdin: true, tty: true }])
  const run = await cli(root, ['run', '-d', file])
  t.equal(run.code, 0, run.stderr)
  const id = run.stdout.trim()
  const sock = join(root, id, 'attach', 'sh.sock')
  const st = statSync(sock)
  t.ok(st.isSocket(), 'the shim listens on attach/sh.sock')
  t.equal(st.mode & 0o777, 0o600, 'mode 0600')
  t.equal(statSync(join(root, id, 'attach')).mode & 0o777, 0o700)

  const term = new Terminal(t, `stty rows 20 cols 70; ${NODE} ${BIN} --root ${root} attach ${name}`)
  const outer = await term.path()
  await term.waitFor(/attached to sh/)
  term.type('echo hi-$((6*7)); stty size\r')
  await term.waitFor(/hi-42\r*\n20 70/)
  t.pass('a command typed on our terminal ran in the container, which sees our size')
  term.resize(outer, 25, 90)
  await typeUntil(term, 'stty size\r', /\n25 90\r/)
  t.pass('resize forwarded through the socket')
  term.type('\x10\x11')
  await term.waitFor(/detached from sh/)
  t.equal((await term.waitFor(/script-rc=(\d+)/))[1], '0', 'detaching exits 0')
  await term.exited

  const ps = JSON.parse((await cli(root, ['ps', '--json'])).stdout)
  t.match(ps, [{ pod: name, phase: 'Running' }], 'the container kept running after the detach')
  const logs = await cli(root, ['logs', name])
  t.match(logs.stdout, /hi-42\r\n20 70\r\n/, "the tty's output is in the container's CRI log (stdout stream)")

  // Input that is not a terminal: no raw mode, still forwarded; the shell's exit code passes through.
  const again = await cli(root, ['attach', name, '-c', 'sh'], 'exit 3\n')
  t.equal(again.code, 3, `the container's exit code passes through (${again.stderr})`)
  for (let i = 0; i < 100 && existsSync(sock); i++) await new Promise(r => setTimeout(r, 50))
  t.notOk(existsSync(join(root, id, 'attach')), 'the pod ended: its attach sockets are gone')
  const rm = await cli(root, ['rm', name])
  t.equal(rm.code, 0, rm.stderr)
  t.notOk(existsSync(join(root, id)), 'rm leaves nothing')
})

t.test('attach with stdinOnce: our input, then EOF when the session ends; the container completes', { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('attach-once')
  const file = pod(t, name, [{ name: 'cat', command: ['sh', '-c', 'cat; echo eof'], stdin: true, stdinOnce: true }])
  const run = await cli(root, ['run', '-d', file])
  t.equal(run.code, 0, run.stderr)
  const a = await cli(root, ['attach', name], 'one\ntwo\n')
  t.equal(a.code, 0, a.stderr)
  t.equal(a.stdout, 'one\ntwo\neof\n', "attach shows the container's output")
  const inspect = JSON.parse((await cli(root, ['inspect', name])).stdout)
  t.match(inspect.status.containerStatuses[0].state, { terminated: { exitCode: 0, reason: 'Completed' } })
  t.match((await cli(root, ['logs', name])).stdout, 'one\ntwo\neof\n')
})

t.test('attach names a missing container and a pod that is not running', { skip }, async t => {
  const root = newRoot(t)
  const name = uniqueName('attach-bad')
  const file = pod(t, name, [{ name: 'main', command: ['sh', '-c', 'echo done'], stdin: true }])
  const run = await cli(root, ['run', '-d', file])
  t.equal(run.code, 0, run.stderr)
  const missing = await cli(root, ['attach', name, '-c', 'nope'])
  t.equal(missing.code, 2)
  t.match(missing.stderr, /attach: .*: no container nope/)
  t.match(missing.stderr, /hint: containers: main/)
  for (let i = 0; i < 100; i++) {
    const ps = JSON.parse((await cli(root, ['ps', '--json'])).stdout)
    if (ps[0]?.phase === 'Succeeded') break
    await new Promise(r => setTimeout(r, 50))
  }
  const ended = await cli(root, ['attach', name])
  t.equal(ended.code, 1)
  t.match(ended.stderr, /attach: .*not running/)
})

t.test('a non-root tty container owns its terminal and can reopen /dev/tty', { skip }, async t => {
  const root = newRoot(t)
  const file = pod(t, uniqueName('tty-user'), [
    {
      name: 'u',
      command: ['sh', '-c', 'id -u; stat -c "owner %u:%g" $(tty); echo hi >/dev/tty && echo reopened'],
      tty: true,
      securityContext: { runAsUser: 1000 },
    },
  ])
  const r = await cli(root, ['run', file], '')
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^1000\r\nowner 1000:5\r\nhi\r\nreopened\r\n/, 'uid 1000 owns the slave (group tty), /dev/tty opens')
})

t.test('a tty the child cannot make is a container start failure naming child.tty, and nothing is left', { skip }, async t => {
  const root = newRoot(t)
  // A volume over /dev/pts hides the container's devpts: /dev/ptmx -> pts/ptmx is gone.
  const file = pod(t, uniqueName('tty-bad'), [{ name: 'term', command: ['tty'], tty: true, volumeMounts: [{ name: 'e', mountPath: '/dev/pts' }] }], {
    volumes: [{ name: 'e', emptyDir: {} }],
  })
  const r = await cli(root, ['run', file], '')
  t.equal(r.code, 128, 'ContainerCannotRun')
  t.match(r.stderr, /container term: child\.tty: \/dev\/ptmx: no such file or directory \(ENOENT\)\nhint: .*devpts/)
  t.same(
    readdirSync(root).filter(d => !d.startsWith('.')),
    [],
    'the pod dir is gone',
  )
})
