// The CRI streaming server: GetExec/GetAttach/GetPortForward park a request
// and hand out a one-shot URL (/exec/<token>, /attach/<token>,
// /portforward/<token>) on an HTTP server bound to 127.0.0.1 by default; the
// client (kubelet's proxy, crictl, critest) then upgrades that URL to SPDY/3.1
// or to a WebSocket. Containerd and CRI-O serve the same shape.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import { PodError } from '../../errors.js'
import { PORTFORWARD_PROTOCOL, serveSpdyPortForward } from './portforward.js'
import { SPDY_COMMAND_PROTOCOLS, serveSpdyCommand } from './remotecommand.js'
import { RequestCache, type Parked } from './tokens.js'
import type { AttachRequest, ExecRequest, PortForwardRequest, StreamingRuntime } from './types.js'
import { WS_COMMAND_PROTOCOLS, WS_PORTFORWARD_PROTOCOLS, pickProtocol, serveWsCommand, serveWsPortForward } from './websocket.js'

export interface StreamingServerOptions {
  runtime: StreamingRuntime
  /** Address to listen on (default 127.0.0.1). */
  address?: string
  /** Port (default 0: any free one). */
  port?: number
  /** How long a handed-out URL stays valid (default 60 s). */
  tokenTtlMs?: number
  /** How long a client may take to open its streams (default 30 s, kubelet's). */
  streamCreationTimeoutMs?: number
  /** An upgraded connection with no traffic for this long is closed (default 4 h, kubelet's). */
  idleTimeoutMs?: number
  /** Where protocol errors of clients are reported (default: dropped). */
  onError?: (message: string) => void
}

/** The step of the Get* calls' errors: a request kubelet's server would refuse too (gRPC InvalidArgument). */
export const INVALID_REQUEST = 'streaming.request'

const invalid = (what: string, reason: string) => new PodError(`${INVALID_REQUEST}: ${what}: ${reason}`, { step: INVALID_REQUEST, code: 'EINVAL', exitCode: 2 })

function checkStdio(what: string, req: { containerId: string; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }): void {
  if (!req.containerId) throw invalid(what, 'missing required container_id')
  if (req.tty && req.stderr) throw invalid(what, 'tty and stderr cannot both be true')
  if (!req.stdin && !req.stdout && !req.stderr) throw invalid(what, 'one of stdin, stdout, or stderr must be set')
}

const ROUTE = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)$/

export class StreamingServer {
  private readonly cache: RequestCache
  private readonly ws = new WebSocketServer({ noServer: true, perMessageDeflate: false })
  /** The sub-protocol chosen for an upgrade in progress (see upgradeWebSocket). */
  private readonly chosen = new WeakMap<IncomingMessage, string>()
  private readonly sockets = new Set<Socket>()
  private readonly onError: (message: string) => void

  private constructor(
    private readonly server: Server,
    private readonly opts: StreamingServerOptions,
    /** http://address:port, what the URLs start with. */
    readonly baseUrl: string,
  ) {
    this.cache = new RequestCache(opts.tokenTtlMs)
    this.onError = opts.onError ?? (() => {})
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.plain(req, res))
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head))
    this.ws.on('headers', (headers: string[], req: IncomingMessage) => {
      const p = this.chosen.get(req)
      if (p) headers.push(`Sec-WebSocket-Protocol: ${p}`)
    })
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
  }

  /** Listen; throws `streaming.listen`. */
  static async start(opts: StreamingServerOptions): Promise<StreamingServer> {
    const address = opts.address ?? '127.0.0.1'
    const server = createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(opts.port ?? 0, address, () => {
        server.off('error', reject)
        resolve()
      })
    }).catch(e => {
      throw PodError.system('streaming.listen', e, `${address}:${opts.port ?? 0}`)
    })
    const { port } = server.address() as AddressInfo
    const host = address.includes(':') ? `[${address}]` : address
    return new StreamingServer(server, opts, `http://${host}:${port}`)
  }

  /** Park an exec; throws `streaming.request` (as kubelet: container id, tty with stderr, no stdio). */
  getExec(req: ExecRequest): { url: string } {
    checkStdio('exec', req)
    if (req.cmd.length === 0) throw invalid('exec', 'cmd must not be empty')
    return this.park({ kind: 'exec', req })
  }

  getAttach(req: AttachRequest): { url: string } {
    checkStdio('attach', req)
    return this.park({ kind: 'attach', req })
  }

  getPortForward(req: PortForwardRequest): { url: string } {
    if (!req.podSandboxId) throw invalid('port-forward', 'missing required pod_sandbox_id')
    return this.park({ kind: 'portforward', req })
  }

  /** Stop listening and end every open session. */
  async close(): Promise<void> {
    for (const c of this.ws.clients) c.terminate()
    for (const s of this.sockets) s.destroy()
    await new Promise<void>(resolve => this.server.close(() => resolve()))
    this.ws.close()
  }

  private park(p: Parked): { url: string } {
    return { url: `${this.baseUrl}/${p.kind}/${this.cache.insert(p)}` }
  }

  private plain(req: IncomingMessage, res: ServerResponse): void {
    const m = ROUTE.exec(req.url ?? '')
    res.writeHead(m ? 400 : 404, { 'Content-Type': 'text/plain; charset=utf-8' })
    res.end(m ? 'Upgrade request required\n' : '404 page not found\n')
  }

  private refuse(socket: Socket, status: number, text: string, headers: Record<string, string> = {}): void {
    const body = `${text}\n`
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`)
    socket.end(
      `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : status === 403 ? 'Forbidden' : 'Bad Request'}\r\n` +
        `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${extra.join('')}\r\n${body}`,
    )
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => {})
    const m = ROUTE.exec((req.url ?? '').split('?')[0])
    const parked = m ? this.cache.consume(m[2]) : undefined
    if (!m || !parked || parked.kind !== m[1]) return this.refuse(socket, 404, '404 page not found')
    const upgrade = (req.headers.upgrade ?? '').toLowerCase()
    if (upgrade === 'websocket') return this.upgradeWebSocket(req, socket, head, parked)
    if (upgrade !== 'spdy/3.1') return this.refuse(socket, 400, `unable to upgrade: unsupported protocol "${req.headers.upgrade ?? ''}"`)
    const offered = (req.headers['x-stream-protocol-version'] ?? '')
      .toString()
      .split(',')
      .map(s => s.trim())
      .filter(Boolean)
    const ours = parked.kind === 'portforward' ? [PORTFORWARD_PROTOCOL] : SPDY_COMMAND_PROTOCOLS
    // No version offered: the legacy v1 protocol, as kubelet's Handshake allows.
    const protocol = offered.length === 0 ? '' : offered.find(p => ours.includes(p))
    if (protocol === undefined) {
      return this.refuse(
        socket,
        403,
        `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered)}, server supports ${JSON.stringify(ours)}`,
        {
          'X-Accepted-Stream-Protocol-Versions': ours.join(', '),
        },
      )
    }
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
        (protocol ? `X-Stream-Protocol-Version: ${protocol}\r\n` : '') +
        '\r\n',
    )
    if (head.length) socket.unshift(head)
    this.tune(socket)
    const common = { streamCreationTimeoutMs: this.opts.streamCreationTimeoutMs ?? 30_000, onError: this.onError }
    if (parked.kind === 'portforward') void serveSpdyPortForward(socket, this.opts.runtime, { ...common, podSandboxId: parked.req.podSandboxId })
    else void serveSpdyCommand(socket, parked, this.opts.runtime, { ...common, protocol: protocol || 'channel.k8s.io' })
  }

  private upgradeWebSocket(req: IncomingMessage, socket: Socket, head: Buffer, parked: Parked): void {
    const offered = (req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map(s => s.trim())
      .filter(Boolean)
    const ours = parked.kind === 'portforward' ? WS_PORTFORWARD_PROTOCOLS : WS_COMMAND_PROTOCOLS
    const protocol = pickProtocol(new Set(offered), ours)
    if (protocol === false) {
      return this.refuse(socket, 400, `requested protocol(s) are not supported: ${JSON.stringify(offered)}; supports ${JSON.stringify(ours)}`)
    }
    // ws accepts only RFC 7230 tokens as sub-protocols, and "SPDY/3.1+portforward.k8s.io" has a slash:
    // we negotiate ourselves and add the answer to the 101 response (the 'headers' event).
    delete req.headers['sec-websocket-protocol']
    if (protocol) this.chosen.set(req, protocol)
    let ports: number[] = []
    if (parked.kind === 'portforward') {
      const query = new URL(req.url ?? '/', 'http://x').searchParams.getAll('port').flatMap(p => p.split(','))
      ports = query.length ? query.map(Number) : parked.req.port
      const tunnel = protocol.startsWith('SPDY/3.1+')
      if (!tunnel && (ports.length === 0 || ports.some(p => !Number.isInteger(p) || p < 1 || p > 65535))) {
        return this.refuse(socket, 400, `query parameter "port" must name ports 1-65535 (got ${JSON.stringify(query)})`)
      }
    }
    this.ws.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      this.tune(socket)
      ws.on('error', () => {})
      if (parked.kind === 'portforward') void serveWsPortForward(ws, protocol, parked.req.podSandboxId, ports, this.opts.runtime)
      else void serveWsCommand(ws, protocol, parked, this.opts.runtime)
    })
  }

  private tune(socket: Socket): void {
    socket.setNoDelay(true)
    socket.setTimeout(this.opts.idleTimeoutMs ?? 4 * 3600_000, () => socket.destroy())
  }
}
