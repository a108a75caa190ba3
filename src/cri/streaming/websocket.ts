// The WebSocket forms (k8s.io/streaming wsstream, kubelet's websocket.go):
// - remotecommand: one binary message per chunk, its first byte the channel
//   (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize); v5.channel.k8s.io adds
//   [255, channel] to close a channel (the client's end of stdin); the
//   base64 variants send text, the channel as an ASCII digit;
// - port-forward, v4.channel.k8s.io: per forwarded port a data channel 2i
//   and an error channel 2i+1, each opened by the port as 2 bytes little
//   endian;
// - port-forward, SPDY/3.1+portforward.k8s.io: binary messages carrying a
//   whole SPDY session (client-go's tunneling dialer; kubectl and critest
//   --websocket-portforward).
import { Duplex, PassThrough, Writable } from 'node:stream'
import { createWebSocketStream, type WebSocket } from 'ws'
import { makeIo, Resizes, runCommand, type CommandRequest } from './command.js'
import { serveSpdyPortForward } from './portforward.js'
import { ResizeDecoder, encodeStatus } from './status.js'
import type { StreamingRuntime } from './types.js'

export const WS_COMMAND_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io']
export const WS_PORTFORWARD_PROTOCOLS = ['SPDY/3.1+portforward.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io']

const CLOSE_SIGNAL = 255
const CH = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4 } as const

/** The first of the client's protocols we serve ('' when it offered none: binary channels, as kubelet does). */
export function pickProtocol(offered: Set<string>, ours: string[]): string | false {
  if (offered.size === 0) return ''
  for (const p of offered) if (ours.includes(p)) return p
  return false
}

/** Channel framing over one WebSocket. */
class Channels {
  private readonly base64: boolean
  readonly readers = new Map<number, PassThrough>()

  constructor(
    readonly ws: WebSocket,
    protocol: string,
  ) {
    this.base64 = protocol.includes('base64')
    const closeSignal = protocol === 'v5.channel.k8s.io'
    ws.on('message', (raw: Buffer, isBinary: boolean) => {
      let data = Buffer.isBuffer(raw) ? raw : Buffer.from(raw)
      if (data.length === 0) return
      if (closeSignal && data[0] === CLOSE_SIGNAL) {
        if (data.length === 2) this.readers.get(data[1])?.end()
        return
      }
      let ch = data[0]
      data = data.subarray(1)
      if (this.base64 || !isBinary) {
        ch -= 0x30
        data = Buffer.from(data.toString('latin1'), 'base64')
      }
      const r = this.readers.get(ch)
      if (r && !r.writableEnded && !r.write(data)) {
        ws.pause()
        r.once('drain', () => ws.resume())
      }
    })
    ws.on('close', () => this.readers.forEach(r => r.end()))
  }

  reader(ch: number): PassThrough {
    const r = new PassThrough()
    this.readers.set(ch, r)
    return r
  }

  send(ch: number, data: Buffer, done?: (err?: Error) => void): void {
    if (this.ws.readyState !== this.ws.OPEN) return done?.(new Error('websocket: closed'))
    if (this.base64) this.ws.send(String.fromCharCode(0x30 + ch) + data.toString('base64'), { binary: false }, done)
    else this.ws.send(Buffer.concat([Buffer.from([ch]), data]), { binary: true }, done)
  }

  writer(ch: number): Writable {
    return new Writable({ write: (chunk: Buffer, _enc, done) => this.send(ch, chunk, e => done(e ?? null)) })
  }
}

/** Serve one exec/attach on an open WebSocket. Resolves when it is closed. */
export async function serveWsCommand(ws: WebSocket, protocol: string, parked: CommandRequest, runtime: StreamingRuntime): Promise<void> {
  const ch = new Channels(ws, protocol)
  const closed = new Promise<void>(resolve => ws.once('close', () => resolve()))
  const aborted = new AbortController()
  void closed.then(() => aborted.abort())
  const { req } = parked
  const resizes = new Resizes()
  const decoder = new ResizeDecoder()
  ch.reader(CH.resize).on('data', (chunk: Buffer) => resizes.emit(decoder.push(chunk)))
  // An empty first message says the server is ready (kubelet sends it on the first output channel).
  ch.send(req.stdout ? CH.stdout : req.stderr ? CH.stderr : CH.error, Buffer.alloc(0))
  const io = makeIo(
    {
      stdin: req.stdin ? ch.reader(CH.stdin) : undefined,
      stdout: req.stdout ? ch.writer(CH.stdout) : undefined,
      stderr: req.stderr && !req.tty ? ch.writer(CH.stderr) : undefined,
      tty: req.tty,
      signal: aborted.signal,
    },
    resizes,
  )
  const status = await runCommand(runtime, parked, io)
  const body = encodeStatus(status, protocol.startsWith('v4.') || protocol.startsWith('v5.'))
  if (body.length) await new Promise<void>(resolve => ch.send(CH.error, body, () => resolve()))
  if (ws.readyState === ws.OPEN) ws.close(1000)
  await closed
}

/** Serve v4.channel.k8s.io port-forward: one connection per port, the socket closes when all are done. */
export async function serveWsPortForward(ws: WebSocket, protocol: string, podSandboxId: string, ports: number[], runtime: StreamingRuntime): Promise<void> {
  if (protocol.startsWith('SPDY/3.1+')) {
    const tunnel = createWebSocketStream(ws)
    tunnel.on('error', () => {})
    await serveSpdyPortForward(tunnel, runtime, { podSandboxId, streamCreationTimeoutMs: 30_000, onError: () => {} })
    return
  }
  const ch = new Channels(ws, protocol)
  const closed = new Promise<void>(resolve => ws.once('close', () => resolve()))
  await Promise.all(
    ports.map(async (port, i) => {
      const portBytes = Buffer.alloc(2)
      portBytes.writeUInt16LE(port)
      const data = Duplex.from({ readable: ch.reader(2 * i), writable: ch.writer(2 * i) })
      ch.send(2 * i, portBytes)
      ch.send(2 * i + 1, portBytes)
      try {
        await runtime.portForward(podSandboxId, port, data)
      } catch (e) {
        ch.send(2 * i + 1, Buffer.from(`error forwarding port ${port} to pod ${podSandboxId}, uid : ${e instanceof Error ? e.message : String(e)}`))
      }
    }),
  )
  if (ws.readyState === ws.OPEN) ws.close(1000)
  await closed
}
