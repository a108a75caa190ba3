// remotecommand over SPDY (kubelet's createHTTPStreamStreams): after the
// upgrade the client opens one stream per stdio it asked for, named by its
// `streamType` header (error, stdin, stdout, stderr, and resize from v3 on
// when a tty is asked for). We reply to each at once; once all expected
// streams are there the command runs; at its end the error stream carries
// the status (v4: Status JSON with the exit code) and the session closes.
import type { Duplex } from 'node:stream'
import { endAndFlush, makeIo, Resizes, runCommand, type CommandRequest } from './command.js'
import { SpdySession, type SpdyStream } from './spdy-session.js'
import { ResizeDecoder, encodeStatus } from './status.js'
import type { StreamingRuntime } from './types.js'

/** What we accept in X-Stream-Protocol-Version, best first (kubelet's list; v5 exists for WebSockets only). */
export const SPDY_COMMAND_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io']

const STREAM_TYPES = ['error', 'stdin', 'stdout', 'stderr', 'resize'] as const
type StreamType = (typeof STREAM_TYPES)[number]

/** The streams a client of `protocol` opens for `req`. */
export function expectedStreams(protocol: string, req: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }): StreamType[] {
  const resize = req.tty && (protocol === 'v3.channel.k8s.io' || protocol === 'v4.channel.k8s.io')
  return STREAM_TYPES.filter(t => t === 'error' || (t === 'resize' ? resize : t === 'stderr' ? req.stderr && !req.tty : req[t]))
}

export interface SpdyCommandOptions {
  protocol: string
  streamCreationTimeoutMs: number
  onError: (message: string) => void
}

/** Serve one exec/attach on an upgraded socket. Resolves when the session is over. */
export function serveSpdyCommand(socket: Duplex, parked: CommandRequest, runtime: StreamingRuntime, opts: SpdyCommandOptions): Promise<void> {
  const expected = expectedStreams(opts.protocol, parked.req)
  const got = new Map<string, SpdyStream>()
  const aborted = new AbortController()
  let started = false
  return new Promise<void>(resolve => {
    const session = new SpdySession(socket, stream => {
      const type = stream.header('streamtype') ?? ''
      stream.reply()
      if (started || got.has(type) || !(STREAM_TYPES as readonly string[]).includes(type)) {
        opts.onError(`remotecommand: unexpected stream of type "${type}"`)
        return
      }
      got.set(type, stream)
      if (expected.every(t => got.has(t))) void start()
    })
    session.on('protocolError', (e: Error) => opts.onError(e.message))
    session.on('close', () => {
      clearTimeout(timer)
      aborted.abort()
      resolve()
    })
    const timer = setTimeout(() => {
      opts.onError(
        `remotecommand: timed out waiting for the client to create streams (has ${[...got.keys()].join(', ') || 'none'}, needs ${expected.join(', ')})`,
      )
      session.close()
    }, opts.streamCreationTimeoutMs)

    const start = async () => {
      started = true
      clearTimeout(timer)
      const resizes = new Resizes()
      const resize = got.get('resize')
      if (resize) {
        const decoder = new ResizeDecoder()
        resize.on('data', (chunk: Buffer) => resizes.emit(decoder.push(chunk)))
      }
      const errorStream = got.get('error')!
      errorStream.resume() // the client writes nothing there; drain its FIN
      const io = makeIo({ stdin: got.get('stdin'), stdout: got.get('stdout'), stderr: got.get('stderr'), tty: parked.req.tty, signal: aborted.signal }, resizes)
      const status = await runCommand(runtime, parked, io)
      if (!session.closed) {
        const body = encodeStatus(status, opts.protocol === 'v4.channel.k8s.io')
        if (body.length) errorStream.write(body)
        await endAndFlush(errorStream)
        session.close()
      }
    }
  })
}
