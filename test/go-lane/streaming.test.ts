// The CRI streaming server against the real Go clients of Kubernetes
// (client-go v0.37 tools/remotecommand and tools/portforward, as kubectl,
// crictl and critest use them; test/go/streamclient), over a real pod.
// Go lane: needs root and Go (scripts/go-tools.sh builds the client).
import t, { type Test } from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PodStreamingRuntime, StreamingServer, podRefTargets } from '../../src/cri/streaming/index.js'
import { cli } from '../helpers/cli.js'
import { engineExited, newRoot, writeManifest } from '../helpers/detached-pods.js'
import { uniqueName } from '../helpers/pods.js'
import { requires } from '../helpers/requires.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))

/** The Go client: $POD_LAUNCH_STREAMCLIENT, else built (cached) by scripts/go-tools.sh. */
function streamclient(): { path?: string; skip: string | false } {
  const given = process.env.POD_LAUNCH_STREAMCLIENT
  if (given) return existsSync(given) ? { path: given, skip: false } : { skip: `POD_LAUNCH_STREAMCLIENT=${given} does not exist` }
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' })
  } catch {
    return { skip: 'needs Go (the Go lane: scripts/go-lane.sh)' }
  }
  return {
    path: execFileSync('bash', [join(REPO, 'scripts/go-tools.sh'), 'streamclient'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim(),
    skip: false,
  }
}

const gate = requires('root', 'built')
const client = gate ? { skip: gate } : streamclient()
const skip = client.skip

interface Run {
  code: number
  stdout: string
  stderr: string
  result: { exitCode?: number; error?: string }
}

/**
 * `streamclient exec URL ARGS...` with `input` on its stdin, ended at once or,
 * with `endWhen`, once its stdout matches; the outcome it wrote as JSON.
 */
function execClient(url: string, args: string[], input = '', endWhen?: RegExp): Promise<Run> {
  const result = join(mkdtempSync(join(tmpdir(), 'pl-stream-')), 'result.json')
  return new Promise(resolve => {
    const p = spawn(client.path!, ['exec', url, '-result', result, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      if (endWhen?.test(stdout)) p.stdin.end()
    })
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000)
    p.on('close', code => {
      clearTimeout(timer)
      const text = existsSync(result) ? readFileSync(result, 'utf8') : '{"error":"no result written"}'
      rmSync(dirname(result), { recursive: true, force: true })
      resolve({ code: code ?? -1, stdout, stderr, result: JSON.parse(text) as Run['result'] })
    })
    if (endWhen) p.stdin.write(input)
    else p.stdin.end(input)
  })
}

/** One request over a forwarded local port: send `data`, half-close, collect the answer. */
function roundTrip(port: number, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(port, '127.0.0.1', () => c.end(data))
    let got = ''
    c.on('data', (d: Buffer) => (got += d.toString()))
    c.on('close', () => resolve(got))
    c.on('error', reject)
  })
}

/** `streamclient portforward URL -ports ...`: resolves with the local ports once it listens; `stop()` ends it. */
async function portForward(t: Test, url: string, transport: string, ports: string) {
  const p = spawn(client.path!, ['portforward', url, '-transport', transport, '-ports', ports], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<number>(resolve => p.on('close', code => resolve(code ?? -1)))
  t.teardown(() => void p.kill('SIGKILL'))
  const local = await new Promise<number[]>((resolve, reject) => {
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      const m = /^ready((?: \d+:\d+)+)\n/.exec(stdout)
      if (m)
        resolve(
          m[1]
            .trim()
            .split(' ')
            .map(pair => Number(pair.split(':')[0])),
        )
    })
    void exited.then(code => reject(new Error(`streamclient portforward exited ${code}: ${stderr}`)))
  })
  return {
    local,
    stderr: () => stderr,
    stop: async () => {
      p.stdin.end()
      return exited
    },
  }
}

t.test('the streaming server with the Go clients, over a pod', { skip }, async t => {
  const root = mkdtempSync(join(tmpdir(), 'pl-stream-root-'))
  // Runs after newRoot's removal of the pod (tap runs teardowns last first): the root's engine goes
  // about a second after its last pod, and its files (.engine/, .lock, .locks) go with the root.
  t.teardown(async () => {
    await engineExited(root)
    rmSync(root, { recursive: true, force: true })
  })
  newRoot(t, root)
  const name = uniqueName('stream')
  const server = `require('net').createServer(c => { c.on('data', d => c.write('pod:' + d)); c.on('end', () => c.end()) }).listen(7070, '127.0.0.1')`
  const file = writeManifest(t, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      containers: [
        { name: 'shell', image: 'host', command: ['sh'], stdin: true },
        { name: 'web', image: 'host', command: [process.execPath, '-e', server] },
      ],
    },
  })
  const run = await cli(root, '--network', 'none', 'run', '-d', file)
  t.equal(run.code, 0, `run -d: ${run.stderr}`)
  const ps = await cli(root, 'ps', '-a')
  t.comment(ps.stdout, ps.stderr)
  for (const c of ['shell', 'web']) {
    const l = await cli(root, 'logs', name, '-c', c)
    t.comment(`${c}: ${l.stdout} ${l.stderr}`)
  }
  const srv = await StreamingServer.start({ runtime: new PodStreamingRuntime(podRefTargets(root)), onError: m => t.comment(`server: ${m}`) })
  t.teardown(() => srv.close())
  const shell = `${name}/shell`
  const exec = (cmd: string[], stdin = false) => srv.getExec({ containerId: shell, cmd, stdin, stdout: true, stderr: true, tty: false }).url

  t.test('exec over SPDY (v4): stdout and stderr apart, run inside the pod, the exit code as a Status', async t => {
    const r = await execClient(exec(['sh', '-c', 'hostname; echo to-stderr >&2; exit 3']), [])
    t.equal(r.stdout, `${name}\n`, "the pod's hostname: the command ran in its uts namespace")
    t.equal(r.stderr, 'to-stderr\n')
    t.equal(r.result.exitCode, 3, JSON.stringify(r.result))
  })

  for (const protocol of ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io']) {
    t.test(`exec with stdin over SPDY ${protocol}`, async t => {
      const r = await execClient(exec(['sh', '-c', 'tr a-z A-Z; exit 3'], true), ['-stdin', '-protocol', protocol], 'hello\nworld\n')
      t.equal(r.stdout, 'HELLO\nWORLD\n', 'our input reached it, its end too (tr ended)')
      if (protocol === 'v4.channel.k8s.io') t.equal(r.result.exitCode, 3, 'v4: the exit code')
      else t.match(r.result.error, /command terminated with non-zero exit code: .*exit code 3/, 'v2, v3: the message')
    })
  }

  t.test('exec with stdin over SPDY channel.k8s.io (v1: the client never closes stdin, reports no exit code)', async t => {
    const r = await execClient(exec(['sh', '-c', 'head -n2 | tr a-z A-Z; exit 3'], true), ['-stdin', '-protocol', 'channel.k8s.io'], 'hello\nworld\n')
    t.equal(r.stdout, 'HELLO\nWORLD\n')
    t.notOk(r.result.error, JSON.stringify(r.result))
  })

  t.test('exec over WebSocket v5: the close channel ends its stdin', async t => {
    const r = await execClient(exec(['tr', 'a-z', 'A-Z'], true), ['-stdin', '-transport', 'websocket'], 'over websocket\n')
    t.equal(r.stdout, 'OVER WEBSOCKET\n')
    t.equal(r.result.exitCode ?? 0, 0, JSON.stringify(r.result))
  })

  t.test('exec over WebSocket v4: output and the exit code', async t => {
    const r = await execClient(
      exec(['sh', '-c', 'head -n1 | tr a-z A-Z; echo e >&2; exit 5'], true),
      ['-stdin', '-transport', 'websocket', '-protocol', 'v4.channel.k8s.io'],
      'one\n',
    )
    t.equal(r.stdout, 'ONE\n')
    t.equal(r.stderr, 'e\n')
    t.equal(r.result.exitCode, 5)
  })

  t.test('exec streams 15 MB of output intact, as fast as the client reads it', async t => {
    const r = await execClient(exec(['seq', '1', '2000000']), [])
    const want = Array.from({ length: 2_000_000 }, (_, i) => `${i + 1}\n`).join('')
    t.equal(r.stdout.length, want.length)
    t.ok(r.stdout === want, 'byte for byte')
  })

  t.test('exec of a command the container lacks: the error reaches the client', async t => {
    const r = await execClient(exec(['/no/such/command']), [])
    t.match(r.result.error, /error executing command in container: .*\/no\/such\/command/)
  })

  t.test('attach over SPDY: the shell reads what we type; the session ends with our input', async t => {
    const url = srv.getAttach({ containerId: shell, stdin: true, stdout: true, stderr: true, tty: false }).url
    const r = await execClient(url, ['-stdin'], 'echo attached to $(hostname)\n', /attached to/)
    t.equal(r.stdout, `attached to ${name}\n`)
    t.equal(r.result.exitCode ?? 0, 0, JSON.stringify(r.result))
  })

  t.test('attach over WebSocket: the same shell, still running', async t => {
    const url = srv.getAttach({ containerId: shell, stdin: true, stdout: true, stderr: true, tty: false }).url
    const r = await execClient(url, ['-stdin', '-transport', 'websocket'], 'echo again\n', /again/)
    t.equal(r.stdout, 'again\n')
  })

  for (const transport of ['spdy', 'websocket']) {
    t.test(`port-forward over ${transport}: connections reach a server that listens only inside the pod`, async t => {
      const host = await roundTrip(7070, 'x').catch((e: Error) => e.message)
      t.match(host, /ECONNREFUSED/, "nothing listens on the host's 127.0.0.1:7070")
      const pf = await portForward(t, srv.getPortForward({ podSandboxId: name, port: [] }).url, transport, '0:7070')
      t.equal(await roundTrip(pf.local[0], 'first'), 'pod:first')
      t.equal(await roundTrip(pf.local[0], 'second'), 'pod:second', 'a second connection over the same session')
      t.equal(await pf.stop(), 0)
    })
  }

  t.test('port-forward to a port nothing listens on: the error stream says why', async t => {
    const pf = await portForward(t, srv.getPortForward({ podSandboxId: name, port: [] }).url, 'spdy', '0:7071')
    await roundTrip(pf.local[0], 'x').catch(() => '')
    await pf.stop()
    t.match(pf.stderr(), /error forwarding port 7071 to pod .*: dial tcp 127\.0\.0\.1:7071: connect: connection refused/)
  })
})
