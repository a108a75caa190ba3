import t, { type Test } from 'tap'
import { request } from 'node:http'
import { connect, createServer } from 'node:net'
import { Readable, type Duplex } from 'node:stream'
import { WebSocket } from 'ws'
import { StreamingServer, type CommandIo, type StreamingRuntime } from '../../../../src/cri/streaming/index.js'
import { ResizeDecoder, encodeStatus, exitStatus, internalError, SUCCESS } from '../../../../src/cri/streaming/status.js'
import { RequestCache, MAX_IN_FLIGHT } from '../../../../src/cri/streaming/tokens.js'
import { expectedStreams } from '../../../../src/cri/streaming/remotecommand.js'
import { CONTROL, FLAG_FIN } from '../../../../src/cri/streaming/spdy-frames.js'
import { SpdyTestClient } from '../../../helpers/spdy-client.js'

// The protocol against the real Go clients, over real pods, is test/go-lane/streaming.test.ts.
// Here: the server's own rules with a runtime that echoes.

const exec = { containerId: 'c1', cmd: ['cat'], tty: false, stdin: true, stdout: true, stderr: true }

function echoRuntime(log: string[] = []): StreamingRuntime {
  return {
    async exec(req, io: CommandIo) {
      log.push(`exec ${req.cmd.join(' ')}`)
      io.onResize(s => log.push(`resize ${s.width}x${s.height}`))
      for await (const chunk of io.stdin ?? Readable.from([])) io.stdout?.write(chunk as Buffer)
      io.stderr?.write('to stderr')
      return req.cmd[0] === 'fail' ? 7 : 0
    },
    async attach() {
      throw new Error('container is gone')
    },
    async portForward(_id, port, stream: Duplex) {
      if (port === 9) throw new Error('dial tcp 127.0.0.1:9: connect: connection refused')
      // Not `for await`: ending the iteration would destroy the stream (a reset) before our answer is out.
      stream.on('data', (chunk: Buffer) => stream.write(Buffer.concat([Buffer.from(`${port}:`), chunk])))
      await new Promise(resolve => stream.once('end', resolve))
      stream.end()
    },
  }
}

async function server(t: Test, runtime = echoRuntime(), opts: { tokenTtlMs?: number } = {}) {
  const s = await StreamingServer.start({ runtime, ...opts })
  t.teardown(() => s.close())
  return s
}

function httpUpgrade(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { Connection: 'Upgrade', ...headers } })
    req.on('response', res => {
      let body = ''
      res.on('data', d => (body += d))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
    req.on('upgrade', (res, socket) => {
      socket.destroy()
      resolve({ status: res.statusCode!, headers: res.headers, body: '' })
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('the Get calls refuse what kubelet refuses', async t => {
  const s = await server(t)
  t.throws(() => s.getExec({ ...exec, containerId: '' }), { step: 'streaming.request', code: 'EINVAL', message: /missing required container_id/ })
  t.throws(() => s.getExec({ ...exec, tty: true }), /tty and stderr cannot both be true/)
  t.throws(() => s.getAttach({ ...exec, stdin: false, stdout: false, stderr: false }), /one of stdin, stdout, or stderr/)
  t.throws(() => s.getPortForward({ podSandboxId: '', port: [] }), /pod_sandbox_id/)
  t.match(s.getExec(exec).url, /^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]{8}$/)
})

t.test('a URL works once; an unknown, used or expired one is 404; a plain request is 400', async t => {
  const s = await server(t)
  const { url } = s.getExec(exec)
  const spdy = { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' }
  t.equal((await httpUpgrade(url, spdy)).status, 101)
  t.equal((await httpUpgrade(url, spdy)).status, 404, 'used')
  t.equal((await httpUpgrade(`${s.baseUrl}/exec/nosuchtk`, spdy)).status, 404, 'unknown')
  const brief = await server(t, echoRuntime(), { tokenTtlMs: 50 })
  const late = brief.getExec(exec).url
  await new Promise(r => setTimeout(r, 80))
  t.equal((await httpUpgrade(late, spdy)).status, 404, 'expired')
  const plain = await new Promise<number>(resolve => request(s.getExec(exec).url, res => resolve(res.statusCode!)).end())
  t.equal(plain, 400)
  const exec2 = s.getExec(exec).url
  t.equal((await httpUpgrade(exec2.replace('/exec/', '/attach/'), spdy)).status, 404, 'a token is for its own kind only')
})

t.test('SPDY version negotiation: the client picks from ours, or gets 403 with our list', async t => {
  const s = await server(t)
  const ok = await httpUpgrade(s.getExec(exec).url, {
    Upgrade: 'SPDY/3.1',
    'X-Stream-Protocol-Version': 'v5.channel.k8s.io, v3.channel.k8s.io, channel.k8s.io',
  })
  t.equal(ok.status, 101)
  t.equal(ok.headers['x-stream-protocol-version'], 'v3.channel.k8s.io')
  const no = await httpUpgrade(s.getExec(exec).url, { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v9.channel.k8s.io' })
  t.equal(no.status, 403)
  t.equal(no.headers['x-accepted-stream-protocol-versions'], 'v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io')
  const pf = await httpUpgrade(s.getPortForward({ podSandboxId: 'p', port: [] }).url, {
    Upgrade: 'SPDY/3.1',
    'X-Stream-Protocol-Version': 'portforward.k8s.io',
  })
  t.equal(pf.headers['x-stream-protocol-version'], 'portforward.k8s.io')
})

t.test('the streams a client opens, per protocol', async t => {
  const all = { stdin: true, stdout: true, stderr: false, tty: true }
  t.same(expectedStreams('v4.channel.k8s.io', all), ['error', 'stdin', 'stdout', 'resize'])
  t.same(expectedStreams('v2.channel.k8s.io', all), ['error', 'stdin', 'stdout'], 'no resize before v3')
  t.same(expectedStreams('v4.channel.k8s.io', { ...all, tty: false, stderr: true }), ['error', 'stdin', 'stdout', 'stderr'])
})

function wsOpen(url: string, protocol: string | string[]): Promise<{ ws: WebSocket; messages: Buffer[]; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), protocol)
    const messages: Buffer[] = []
    ws.on('message', (d: Buffer) => messages.push(Buffer.from(d)))
    const closed = new Promise<number>(r => ws.on('close', code => r(code)))
    ws.once('open', () => resolve({ ws, messages, closed }))
    ws.once('error', reject)
  })
}

const channelBytes = (messages: Buffer[], ch: number) => Buffer.concat(messages.filter(m => m[0] === ch).map(m => m.subarray(1)))
const channel = (messages: Buffer[], ch: number) => channelBytes(messages, ch).toString()

t.test('WebSocket v5: stdin, its close signal, stdout, stderr, resize, then the Status', async t => {
  const log: string[] = []
  const s = await server(t, echoRuntime(log))
  const { ws, messages, closed } = await wsOpen(s.getExec({ ...exec, cmd: ['fail'] }).url, ['v5.channel.k8s.io', 'v4.channel.k8s.io'])
  t.equal(ws.protocol, 'v5.channel.k8s.io')
  ws.send(Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":100,"Height":30}')]))
  ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('hello')]))
  ws.send(Buffer.from([255, 0]))
  t.equal(await closed, 1000)
  t.equal(channel(messages, 1), 'hello')
  t.equal(channel(messages, 2), 'to stderr')
  t.same(JSON.parse(channel(messages, 3)), exitStatus(['fail'], 7))
  t.same(log, ['exec fail', 'resize 100x30'])
})

t.test('WebSocket base64.channel.k8s.io: text frames, the channel as a digit, v1 status text', async t => {
  const s = await server(t)
  const { ws, messages, closed } = await wsOpen(s.getExec({ ...exec, stdin: false, cmd: ['fail'] }).url, 'base64.channel.k8s.io')
  void ws
  await closed
  const text = messages.map(m => m.toString())
  t.ok(text.includes(`2${Buffer.from('to stderr').toString('base64')}`))
  t.ok(text.some(m => m[0] === '3' && Buffer.from(m.slice(1), 'base64').toString().startsWith('command terminated with non-zero exit code')))
})

t.test('an unknown WebSocket sub-protocol is refused', async t => {
  const s = await server(t)
  await t.rejects(wsOpen(s.getExec(exec).url, 'v9.channel.k8s.io'), /400/)
})

t.test('attach failures reach the client as an InternalError status', async t => {
  const s = await server(t)
  const { messages, closed } = await wsOpen(s.getAttach({ ...exec, stdin: false }).url, 'v4.channel.k8s.io')
  await closed
  t.same(JSON.parse(channel(messages, 3)), internalError('error attaching to container: container is gone'))
})

t.test('WebSocket port-forward v4: data and error channel per port, each opened by its port', async t => {
  const s = await server(t)
  const { ws, messages, closed } = await wsOpen(`${s.getPortForward({ podSandboxId: 'p', port: [] }).url}?port=8080,9`, 'v4.channel.k8s.io')
  ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('abc')]))
  await new Promise(r => setTimeout(r, 100))
  ws.send(Buffer.from([255, 0])) // ignored by v4; the data channel ends when the socket does
  ws.close()
  await closed
  const le = (n: number) => Buffer.from([n & 0xff, n >> 8])
  t.same(channelBytes(messages, 0), Buffer.concat([le(8080), Buffer.from('8080:abc')]))
  t.same(channelBytes(messages, 1), le(8080))
  t.same(channelBytes(messages, 2), le(9))
  t.same(
    channelBytes(messages, 3),
    Buffer.concat([le(9), Buffer.from('error forwarding port 9 to pod p, uid : dial tcp 127.0.0.1:9: connect: connection refused')]),
  )
})

t.test('statuses and resize messages as the Go client reads them', async t => {
  t.equal(encodeStatus(SUCCESS, true).toString(), '{"status":"Success"}')
  t.equal(encodeStatus(SUCCESS, false).length, 0)
  t.equal(
    encodeStatus(exitStatus(['sh', '-c', 'exit 3'], 3), true).toString(),
    '{"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}',
  )
  const d = new ResizeDecoder()
  t.same(d.push(Buffer.from('{"Width":80,"He')), [])
  t.same(d.push(Buffer.from('ight":24}\n{"Width":1,"Height":2}\nnot json\n')), [
    { width: 80, height: 24 },
    { width: 1, height: 2 },
  ])
  t.same(new ResizeDecoder().push(Buffer.from('{"Width":5,"Height":6}')), [{ width: 5, height: 6 }], 'a whole WebSocket message')
})

t.test('tokens: one-shot, expire, and a cap on how many wait', async t => {
  let now = 0
  const c = new RequestCache(1000, () => now)
  const a = c.insert({ kind: 'portforward', req: { podSandboxId: 'a', port: [] } })
  t.match(a, /^[A-Za-z0-9_-]{8}$/)
  t.equal(c.consume(a)?.kind, 'portforward')
  t.equal(c.consume(a), undefined)
  const b = c.insert({ kind: 'portforward', req: { podSandboxId: 'b', port: [] } })
  now = 1001
  t.equal(c.consume(b), undefined)
  for (let i = 0; i < MAX_IN_FLIGHT; i++) c.insert({ kind: 'portforward', req: { podSandboxId: 'x', port: [] } })
  t.throws(() => c.insert({ kind: 'portforward', req: { podSandboxId: 'y', port: [] } }), /streaming\.token/)
  now = 5000
  t.equal(c.size, 0, 'expired ones are collected')
})

t.test('the server listens where it is told and reports a taken port', async t => {
  const blocker = createServer()
  await new Promise<void>(r => blocker.listen(0, '127.0.0.1', r))
  t.teardown(() => blocker.close())
  const port = (blocker.address() as { port: number }).port
  await t.rejects(StreamingServer.start({ runtime: echoRuntime(), port }), { step: 'streaming.listen', code: 'EADDRINUSE' })
})

/** An upgraded SPDY connection to `url` speaking `protocol`, as a test client. */
async function spdyConnect(url: string, protocol: string): Promise<SpdyTestClient> {
  const u = new URL(url)
  const socket = connect(Number(u.port), u.hostname)
  await new Promise(resolve => socket.once('connect', resolve))
  socket.write(`POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`)
  const head = await new Promise<Buffer>(resolve => {
    let buf = Buffer.alloc(0)
    const on = (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      const end = buf.indexOf('\r\n\r\n')
      if (end < 0) return
      socket.off('data', on)
      if (end + 4 < buf.length) socket.unshift(buf.subarray(end + 4))
      resolve(buf.subarray(0, end))
    }
    socket.on('data', on)
  })
  if (!head.toString().startsWith('HTTP/1.1 101')) throw new Error(head.toString())
  return new SpdyTestClient(socket)
}

t.test('SPDY remotecommand: the command starts once every stream is there; the Status ends the session', async t => {
  const log: string[] = []
  const s = await server(t, echoRuntime(log))
  const c = await spdyConnect(s.getExec({ ...exec, cmd: ['fail'] }).url, 'v4.channel.k8s.io')
  t.teardown(() => c.socket.destroy())
  await c.synStream(1, { streamType: 'error' })
  await c.synStream(3, { streamType: 'stdin' })
  await c.synStream(5, { streamType: 'stdout' })
  await c.until('three replies', () => c.controls(CONTROL.SYN_REPLY).length === 3)
  t.same(log, [], 'not started: stderr is still missing')
  await c.synStream(7, { streamType: 'stderr' })
  c.data(3, 'typed')
  c.data(3, '', FLAG_FIN)
  await c.until('GOAWAY', () => c.controls(CONTROL.GOAWAY).length === 1)
  t.same(log, ['exec fail'])
  t.equal(c.dataOn(5).toString(), 'typed')
  t.equal(c.dataOn(7).toString(), 'to stderr')
  t.same(JSON.parse(c.dataOn(1).toString()), exitStatus(['fail'], 7))
  t.ok(c.finOn(1) && c.finOn(5) && c.finOn(7), 'error, stdout and stderr ended with FIN')
})

t.test("SPDY port-forward: streams paired by requestID; a failure goes on that pair's error stream", async t => {
  const s = await server(t)
  const c = await spdyConnect(s.getPortForward({ podSandboxId: 'p', port: [] }).url, 'portforward.k8s.io')
  t.teardown(() => c.socket.destroy())
  await c.synStream(1, { streamType: 'error', port: '9', requestID: '0' })
  await c.synStream(3, { streamType: 'error', port: '8080', requestID: '1' })
  await c.synStream(5, { streamType: 'data', port: '8080', requestID: '1' })
  await c.synStream(7, { streamType: 'data', port: '9', requestID: '0' })
  c.data(5, 'abc', FLAG_FIN)
  await c.until('both pairs done', () => c.finOn(5) && c.finOn(1))
  t.equal(c.dataOn(5).toString(), '8080:abc')
  t.equal(c.dataOn(3).toString(), '', 'no error for the good pair')
  t.equal(c.dataOn(1).toString(), 'error forwarding port 9 to pod p, uid : dial tcp 127.0.0.1:9: connect: connection refused')
})
