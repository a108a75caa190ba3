// `pod-launch exec` as kubectl exec: -i passes our stdin, -t a pty made in the
// container (run under a real terminal: util-linux script), exit codes pass through;
// the command runs in the container's root even when the host's root is a chroot.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requires } from '../helpers/requires.js'
import { uniqueName } from '../helpers/pods.js'
import { BIN, cli, type Out } from '../helpers/cli.js'
import { newRoot, until, writeManifest } from '../helpers/detached-pods.js'
import { Terminal, typeUntil } from '../helpers/terminal.js'

const skip = requires('root', 'built')
const NODE = process.execPath

/** `pod-launch --root ROOT ARGS...` with `input` on its stdin (a pipe). */
function cliInput(root: string, input: string, ...args: string[]): Promise<Out> {
  return new Promise(resolve => {
    const c = execFile(NODE, [BIN, '--root', root, ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
    c.stdin!.end(input)
  })
}

/** The manifest file of a pod whose one container sleeps (`container`: more of that container). */
function sleeperFile(t: Parameters<typeof newRoot>[0], name: string, container: object = {}): string {
  return writeManifest(t, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'host', command: ['sleep', '600'], ...container }] },
  })
}

/** A detached pod whose one container sleeps: what exec joins. */
async function sleeper(t: Parameters<typeof newRoot>[0], root: string): Promise<string> {
  const name = uniqueName('exec')
  const run = await cli(root, 'run', '-d', sleeperFile(t, name))
  if (run.code !== 0) throw new Error(`run -d failed: ${run.stderr}`)
  return name
}

t.test('exec -it: a shell on a pty of the container, our size and resizes, exit code through, terminal restored', { skip }, async t => {
  const root = newRoot(t)
  const name = await sleeper(t, root)
  const term = new Terminal(t, `stty rows 21 cols 77; ${NODE} ${BIN} --root ${root} exec -it ${name} -- sh`)
  const outer = await term.path()
  term.type('tty; ls /dev/pts; stty size; grep -c console /proc/self/mountinfo\r')
  const m = await term.waitFor(/(\/dev\/pts\/\d+)\r*\n([0-9\sptmx]+?)\r*\n(\d+ \d+)\r*\n(\d+)/, outer.length + 1)
  t.equal(m[1], '/dev/pts/0', "the shell's terminal is the first pty of the container's own devpts")
  t.same(m[2].trim().split(/\s+/).sort(), ['0', 'ptmx'], 'made there, not on the host')
  t.equal(m[3], '21 77', 'it starts with our window size')
  t.equal(m[4], '0', '/dev/console is left alone (an exec is not the container)')
  term.resize(outer, 30, 100)
  await typeUntil(term, 'stty size\r', /\n30 100\r/)
  t.pass('a resize of our terminal reached the exec (SIGWINCH inside)')
  term.type('sleep 100\r')
  await term.waitFor(/sleep 100\r*\n/)
  // Ctrl-C again with each try: the first may reach the shell before it has made sleep the foreground job (the
  // echo of the line comes first) and the terminal drops typed-ahead input on SIGINT; the echo can only run once
  // a Ctrl-C has interrupted sleep. Its output may follow the prompt on one line when the line was typed ahead.
  await typeUntil(term, '\x03echo after-ctrl-c\r', /(?<!echo )after-ctrl-c\r/)
  t.notMatch(term.text, /script-rc/, 'Ctrl-C interrupted sleep in the shell (the echo ran), and pod-launch still runs')
  term.type('exit 3\r')
  t.equal((await term.waitFor(/script-rc=(\d+)/))[1], '3', "the shell's exit code passes through")
  await term.exited
  const flags = term.text.slice(term.text.indexOf('script-rc='))
  t.match(flags, / icanon /, 'our terminal is back in canonical mode')
  t.match(flags, / echo /, 'and echoes again')
})

t.test('exec -it: Ctrl-P Ctrl-Q leaves the session (exit 0) and the shell gets the hangup', { skip }, async t => {
  const root = newRoot(t)
  const name = await sleeper(t, root)
  const term = new Terminal(t, `${NODE} ${BIN} --root ${root} exec -it ${name} -- sh`)
  await term.path()
  // Typed ahead of the shell's prompt: the line's echo and the prompt may come first, so the
  // output is told from the echo by what only the shell computes.
  term.type('echo $$ > /tmp/exec-shell.pid; echo pid-saved-$((6*7))\r')
  await term.waitFor(/pid-saved-42\r/)
  term.type('\x10\x11')
  await term.waitFor(/detached from exec sh/)
  t.equal((await term.waitFor(/script-rc=(\d+)/))[1], '0', 'detaching exits 0')
  await term.exited
  // The pid as the container sees it: exec joins the container's pid namespace.
  await until(
    'the detached shell to end on SIGHUP',
    async () => (await cli(root, 'exec', name, '--', 'sh', '-c', 'kill -0 $(cat /tmp/exec-shell.pid)')).code !== 0,
  )
  t.pass('the shell ended when its terminal hung up')
  const ps = JSON.parse((await cli(root, 'ps', '--json')).stdout)
  t.match(ps, [{ pod: name, phase: 'Running' }], 'the container itself runs on')
})

t.test('exec -i passes our stdin; without -i the command reads /dev/null; -it on a pipe warns as kubectl and uses pipes', { skip }, async t => {
  const root = newRoot(t)
  const name = await sleeper(t, root)
  const cat = await cliInput(root, 'one\ntwo\n', 'exec', '-i', name, '--', 'sh', '-c', 'cat; echo eof; readlink /proc/self/fd/0')
  t.equal(cat.code, 0, cat.stderr)
  t.match(cat.stdout, /^one\ntwo\neof\n(pipe|socket):\[\d+\]\n$/, 'our input (the pipe we were given), then EOF')
  const none = await cliInput(root, 'ignored\n', 'exec', name, '--', 'sh', '-c', 'cat; readlink /proc/self/fd/0')
  t.equal(none.code, 0, none.stderr)
  t.equal(none.stdout, '/dev/null\n', 'no -i: stdin is /dev/null (kubectl exec)')
  const it = await cliInput(root, 'x\n', 'exec', '-it', name, '--', 'sh', '-c', 'read a; echo got=$a; exit 5')
  t.equal(it.code, 5, 'the exit code passes through')
  t.equal(it.stderr, 'Unable to use a TTY - input is not a terminal or the right kind of file\n')
  t.equal(it.stdout, 'got=x\n')
})

t.test('exec -t alone: a pty for the output (ls --color, progress bars), our input left alone', { skip }, async t => {
  const root = newRoot(t)
  const name = await sleeper(t, root)
  const term = new Terminal(t, `${NODE} ${BIN} --root ${root} exec -t ${name} -- sh -c 'tty; [ -t 1 ] && echo out-is-tty; exit 4'`)
  await term.path()
  t.ok(await term.waitFor(/\/dev\/pts\/0\r*\nout-is-tty/), 'stdout is the pty')
  t.equal((await term.waitFor(/script-rc=(\d+)/))[1], '4')
  await term.exited
})

t.test('exec names what is wrong: no command, no such container, a container that is not running', { skip }, async t => {
  const root = newRoot(t)
  const name = await sleeper(t, root)
  const usage = await cli(root, 'exec', '-it', name)
  t.equal(usage.code, 2)
  t.match(usage.stderr, /^pod-launch: exec: a command is required\nusage: pod-launch exec \[-i\] \[-t\] POD/)
  const missing = await cli(root, 'exec', name, '-c', 'nope', '--', 'true')
  t.equal(missing.code, 2)
  t.match(missing.stderr, /exec: .*: no container nope\nhint: containers: main/)
  await cli(root, 'stop', name, '--grace-period', '0')
  const stopped = await cli(root, 'exec', '-it', name, '--', 'sh')
  t.equal(stopped.code, 1)
  t.match(stopped.stderr, /container is not running/)
})

t.test("exec runs in the container's root when the host's root is a chroot (an init that chroots instead of switch_root)", { skip }, async t => {
  // The runtime runs in a mount namespace whose root is a chroot onto a bind of the host's /: a container's mount
  // namespace then keeps the host's / as its root mount and the container's root on a mount below it, and setns(mnt)
  // alone lands at the namespace's root (the host's /). exec must enter the container's root (nsenter --root).
  const root = newRoot(t)
  const name = uniqueName('chroot')
  const file = sleeperFile(t, name, { workingDir: '/etc' })
  const newroot = mkdtempSync(join(tmpdir(), 'pl-chroot-'))
  t.teardown(() => rmdirSync(newroot))
  const pl = `${NODE} ${BIN} --root ${root}`
  // One chroot'ed namespace for run, exec and rm: the pod's mounts are made there. The exec's output or its error.
  const inner = `${pl} run -d ${file} >/dev/null || exit 9; ${pl} exec ${name} -- sh -c 'cat /etc/hostname; pwd'; rc=$?; ${pl} rm --force ${name} >/dev/null; exit $rc`
  const out = await new Promise<Out>(resolve =>
    execFile(
      'unshare',
      ['--mount', '--propagation', 'private', 'sh', '-c', 'mount --rbind / "$0" && cd "$0" && exec chroot . sh -c "$1"', newroot, inner],
      { timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  )
  t.equal(out.code, 0, out.stderr)
  t.equal(out.stdout, `${name}\n/etc\n`, "the pod's /etc/hostname and the container's workingDir, not the host's")
})
