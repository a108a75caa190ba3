// crictl exec, attach and port-forward through `pod-launch cri` (issue 20):
// crictl's own clients (client-go's SPDY and WebSocket executors and port
// forwarder) against the URLs of our streaming server, over a real pod; the
// interactive forms (-it) on a real pseudo-terminal made by script(1).
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { get } from 'node:http'
import { join } from 'node:path'
import { crictlBin, critestRegistry, requiresGoLane, startCri, type CriServer } from '../helpers/cri.js'

const skip = requiresGoLane()

interface Session {
  /** Everything it printed so far (stdout and stderr). */
  output(): string
  /** Resolves once its output matches. */
  waitFor(re: RegExp, what: string): Promise<void>
  write(s: string): void
  end(): void
  exited: Promise<number>
  kill(): void
}

/** A long-running command with its output collected; killed at teardown at the latest. */
function session(t: Test, file: string, args: string[]): Session {
  const p = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  const waiters: (() => void)[] = []
  const onData = (d: Buffer) => {
    out += d.toString()
    waiters.forEach(w => w())
  }
  p.stdout.on('data', onData)
  p.stderr.on('data', onData)
  p.stdin.on('error', () => {})
  const exited = new Promise<number>(resolve => p.on('close', code => resolve(code ?? -1)))
  const kill = () => p.exitCode === null && p.signalCode === null && p.kill('SIGKILL')
  t.teardown(kill)
  return {
    output: () => out,
    waitFor: (re, what) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${what}: not seen after 60 s; output: ${JSON.stringify(out)}`)), 60_000)
        const check = () => {
          if (!re.test(out)) return
          clearTimeout(timer)
          resolve()
        }
        waiters.push(check)
        void exited.then(() =>
          setTimeout(() => (clearTimeout(timer), re.test(out) ? resolve() : reject(new Error(`${what}: exited; output: ${JSON.stringify(out)}`))), 50),
        )
        check()
      }),
    write: s => p.stdin.write(s),
    end: () => p.stdin.end(),
    exited,
    kill,
  }
}

t.test('crictl exec, attach and port-forward through pod-launch cri', { skip }, async t => {
  let cri: CriServer | undefined
  t.teardown(async () => {
    await cri?.destroy()
  })
  cri = await startCri({ cgroupParent: 'pl-cri-stream' })
  const c = cri
  const image = `${critestRegistry()}/e2e-test-images/busybox:1.29-2`
  const ok = async (...args: string[]) => {
    const out = await c.crictl(...args)
    t.equal(out.code, 0, `crictl ${args.join(' ')}: ${out.stderr}`)
    return out.stdout.trim()
  }
  const endpoint = ['--runtime-endpoint', c.endpoint, '--image-endpoint', c.endpoint, '--timeout', '60s']
  const crictlArgs = (...args: string[]) => [...endpoint, ...args]
  /** A crictl command line for script(1), on a terminal of 33 rows and 101 columns. */
  const onTerminal = (...args: string[]) => ['-qfec', `stty rows 33 cols 101; exec ${[crictlBin(), ...crictlArgs(...args)].join(' ')}`, '/dev/null']

  const podFile = join(c.dir, 'pod.json')
  const logs = join(c.dir, 'logs')
  mkdirSync(logs)
  writeFileSync(
    podFile,
    JSON.stringify({
      metadata: { name: 'streams', uid: 'streams-uid', namespace: 'team-s', attempt: 1 },
      hostname: 'streams-host',
      log_directory: logs,
      linux: {},
    }),
  )
  const ctr = (name: string, command: string[], extra: object = {}) => {
    const file = join(c.dir, `${name}.json`)
    writeFileSync(file, JSON.stringify({ metadata: { name }, image: { image }, command, log_path: `${name}.log`, linux: {}, ...extra }))
    return file
  }
  await ok('pull', image)
  const pod = await ok('runp', podFile)
  const web = `mkdir -p /www && echo hello from the pod > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www`
  const ids: Record<string, string> = {}
  for (const [name, command, extra] of [
    ['shell', ['sh'], { stdin: true }],
    ['term', ['sh'], { stdin: true, tty: true }],
    ['web', ['sh', '-c', web], {}],
  ] as const) {
    ids[name] = await ok('create', pod, ctr(name, [...command], extra), podFile)
    await ok('start', ids[name])
  }

  t.test('exec: stdout and stderr apart, in the pod, the exit code as crictl exit status', async t => {
    for (const transport of ['spdy', 'websocket']) {
      const r = await c.crictl('exec', '--transport', transport, ids.shell, 'sh', '-c', 'hostname; echo to-stderr >&2; exit 3')
      t.equal(r.stdout, 'streams-host\n', `${transport}: ran in the pod's uts namespace`)
      t.match(r.stderr, /^to-stderr$/m, transport)
      // crictl's streaming exec reports the code (ExecSync, -s, exits with it).
      t.match(r.stderr, /command terminated with exit code 3/, `${transport}: the exit code reached crictl`)
      t.equal(r.code, 1, transport)
    }
  })

  t.test('exec -i: our input reaches the command, its end too', async t => {
    for (const transport of ['spdy', 'websocket']) {
      const s = session(t, crictlBin(), crictlArgs('exec', '-i', '--transport', transport, ids.shell, 'tr', 'a-z', 'A-Z'))
      s.write('hello\nworld\n')
      s.end()
      t.equal(await s.exited, 0, transport)
      t.match(s.output(), /^HELLO\nWORLD$/m, transport)
    }
  })

  t.test('exec -it on a terminal: a tty in the container with our window size, what we type, the exit code', async t => {
    const s = session(t, 'script', onTerminal('exec', '-it', ids.shell, 'sh'))
    s.write('tty; stty size; echo typed-$((6*7))\n')
    await s.waitFor(/typed-42/, 'the shell ran what we typed')
    s.write('exit 7\n')
    t.equal(await s.exited, 1, 'crictl fails')
    t.match(s.output(), /command terminated with exit code 7/, 'with the shell exit code')
    t.match(s.output(), /\/dev\/pts\/\d+/, 'its stdin is a terminal')
    t.match(s.output(), /33 101/, "crictl's terminal size reached the container's terminal")
  })

  t.test('attach -i: the running shell reads what we type; its output comes back', async t => {
    const s = session(t, crictlBin(), crictlArgs('attach', '-i', ids.shell))
    s.write('echo attached to $(hostname)\n')
    await s.waitFor(/attached to streams-host/, 'the attached shell answered')
    s.end()
    t.equal(await s.exited, 0, 'the session ends with our input')
    const still = await c.crictl('inspect', '-o', 'go-template', '--template', '{{.status.state}}', ids.shell)
    t.equal(still.stdout.trim(), 'CONTAINER_RUNNING', 'the container goes on')
  })

  t.test('attach -it to a container with a tty: its terminal takes our input and size', async t => {
    const s = session(t, 'script', onTerminal('attach', '-it', ids.term))
    s.write('stty size; echo on-the-terminal-$((2+3))\n')
    await s.waitFor(/on-the-terminal-5/, 'the shell on the container terminal answered')
    t.match(s.output(), /33 101/, 'the window size reached it')
    s.kill()
    await s.exited
  })

  t.test('port-forward: a local port reaches a server that listens only on the pod loopback', async t => {
    const s = session(t, crictlBin(), crictlArgs('port-forward', pod, '0:8080'))
    await s.waitFor(/Forwarding from 127\.0\.0\.1:\d+ -> 8080/, 'crictl listens')
    const port = Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(s.output())![1])
    const fetch = () =>
      new Promise<string>((resolve, reject) =>
        get({ host: '127.0.0.1', port, path: '/index.html' }, res => {
          let body = ''
          res.on('data', d => (body += d))
          res.on('end', () => resolve(body))
        }).on('error', reject),
      )
    t.equal(await fetch(), 'hello from the pod\n')
    t.equal(await fetch(), 'hello from the pod\n', 'a second connection over the same session')
    s.kill()
    await s.exited
  })

  t.test('a stopped container has no exec: FailedPrecondition', async t => {
    await ok('stop', ids.web)
    const r = await c.crictl('exec', ids.web, 'true')
    t.not(r.code, 0)
    t.match(r.stderr, /cri\.Exec: container [0-9a-f]{64}: is not running/)
  })
})
