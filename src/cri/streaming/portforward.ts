// portforward.k8s.io over SPDY (kubelet's portforward httpStreamHandler):
// for each connection the client opens an error stream and a data stream,
// both with `port` and `requestID` headers; once both are there the data
// stream is piped to a connection made inside the pod, and what goes wrong
// is written on the error stream. The session lives until the client closes
// it; any number of connections, to any port, may come and go over it.
import type { Duplex } from 'node:stream'
import { SpdySession, type SpdyStream } from './spdy-session.js'
import type { StreamingRuntime } from './types.js'

export const PORTFORWARD_PROTOCOL = 'portforward.k8s.io'

interface Pair {
  data?: SpdyStream
  error?: SpdyStream
  timer: NodeJS.Timeout
}

export interface SpdyPortForwardOptions {
  podSandboxId: string
  streamCreationTimeoutMs: number
  onError: (message: string) => void
}

/** `port` header: 1-65535. */
export function parsePort(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,5}$/.test(value)) return undefined
  const n = Number(value)
  return n >= 1 && n <= 65535 ? n : undefined
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e))

/** Forward one connection: resolves when both sides are done. */
async function forward(runtime: StreamingRuntime, podSandboxId: string, data: SpdyStream, error: SpdyStream, onError: (m: string) => void): Promise<void> {
  error.resume() // the client half-closes it at once
  const portText = data.header('port')
  const port = parsePort(portText)
  try {
    if (port === undefined) throw new Error(`invalid port header "${portText ?? ''}"`)
    await runtime.portForward(podSandboxId, port, data)
  } catch (e) {
    const text = `error forwarding port ${portText ?? ''} to pod ${podSandboxId}, uid : ${message(e)}`
    onError(text)
    if (!error.destroyed) error.write(text)
  } finally {
    if (!data.destroyed && !data.writableEnded) data.end()
    if (!error.destroyed && !error.writableEnded) error.end()
  }
}

/** Serve port-forward streams on an upgraded socket (or a WebSocket carrying SPDY). Resolves when the session is over. */
export function serveSpdyPortForward(socket: Duplex, runtime: StreamingRuntime, opts: SpdyPortForwardOptions): Promise<void> {
  const pairs = new Map<string, Pair>()
  return new Promise<void>(resolve => {
    const session = new SpdySession(socket, stream => {
      stream.reply()
      const type = stream.header('streamtype')
      const id = stream.header('requestid') ?? ''
      if (type !== 'data' && type !== 'error') {
        opts.onError(`portforward: unexpected stream of type "${type ?? ''}"`)
        stream.reset()
        return
      }
      let pair = pairs.get(id)
      if (!pair) {
        const timer = setTimeout(() => {
          pairs.delete(id)
          const p = pair!
          opts.onError(`portforward: request ${id}: timed out waiting for the ${p.data ? 'error' : 'data'} stream`)
          p.error?.end(`timed out waiting for streams of request ${id}`)
          p.data?.reset()
        }, opts.streamCreationTimeoutMs)
        pair = { timer }
        pairs.set(id, pair)
      }
      if (pair[type]) {
        opts.onError(`portforward: request ${id}: a second ${type} stream`)
        stream.reset()
        return
      }
      pair[type] = stream
      if (pair.data && pair.error) {
        clearTimeout(pair.timer)
        pairs.delete(id)
        void forward(runtime, opts.podSandboxId, pair.data, pair.error, opts.onError)
      }
    })
    session.on('protocolError', (e: Error) => opts.onError(e.message))
    session.on('close', () => {
      for (const p of pairs.values()) clearTimeout(p.timer)
      pairs.clear()
      resolve()
    })
  })
}
