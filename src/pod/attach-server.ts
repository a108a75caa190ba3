// The supervisor's side of `pod-launch attach`: one unix socket per container
// in the pod's directory (`attach/<container>.sock`, mode 0600, in a 0700
// directory), framed as in attach-protocol.ts. The supervisor owns the
// container's pty master and stdin pipe; each connection is an attach
// session on the container's current run.
import { chmodSync, closeSync, mkdirSync, openSync, rmSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { PodError } from '../errors.js'
import { attachDir } from '../state/index.js'
import { FRAME, FrameDecoder, encodeFrame, parseResize } from './attach-protocol.js'
import type { ContainerRunner } from './runner.js'
import type { AttachClient, AttachedIo } from './stdio.js'

/** sun_path holds 108 bytes with its NUL (unix(7)). */
const SUN_PATH_MAX = 107

/**
 * A path to bind or connect `file` in `dir` by: the plain path, or, when too
 * long for sun_path, the same file through an open fd of its directory
 * (/proc/self/fd/N/file). `close` releases that fd.
 */
export function socketAddress(dir: string, file: string): { path: string; close: () => void } {
  const plain = join(dir, file)
  if (Buffer.byteLength(plain) <= SUN_PATH_MAX) return { path: plain, close: () => {} }
  const fd = openSync(dir, 'r')
  return { path: `/proc/self/fd/${fd}/${file}`, close: () => closeSync(fd) }
}

export { attachDir }
export const attachFile = (container: string) => `${container}.sock`

/** One connected `pod-launch attach`. */
class SocketClient implements AttachClient {
  private io?: AttachedIo
  private readonly decoder = new FrameDecoder()

  constructor(
    private readonly socket: Socket,
    private readonly container: string,
  ) {
    socket.on('data', chunk => {
      let frames
      try {
        frames = this.decoder.push(chunk)
      } catch {
        socket.destroy()
        return
      }
      for (const f of frames) this.frame(f.type, f.payload)
    })
  }

  private frame(type: number, payload: Buffer): void {
    if (!this.io) return
    if (type === FRAME.STDIN) this.io.write(payload)
    else if (type === FRAME.RESIZE) {
      const size = parseResize(payload)
      if (size) this.io.resize(size)
    } else if (type === FRAME.STDIN_END) this.io.end()
  }

  started(io: AttachedIo): void {
    this.io = io
    this.send(encodeFrame(FRAME.HELLO, { container: this.container, tty: io.tty, stdin: io.stdin }))
  }

  output(stream: 'stdout' | 'stderr', data: Buffer): void {
    this.send(encodeFrame(stream === 'stdout' ? FRAME.STDOUT : FRAME.STDERR, data))
  }

  ended(exitCode: number): void {
    this.io = undefined
    if (!this.socket.destroyed) this.socket.end(encodeFrame(FRAME.EXIT, { exitCode }))
  }

  /** The session is over (disconnect): counts for stdinOnce. */
  gone(): void {
    this.io?.end()
    this.io = undefined
  }

  private send(b: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(b)
  }
}

export interface AttachServers {
  close(): Promise<void>
}

/**
 * Listen on `attach/<name>.sock` in `podDir` for each container. `runner`
 * finds a container's runner by name (the runners are made after the sockets).
 * Throws `attach.listen`.
 */
export async function listenAttach(podDir: string, names: string[], runner: (name: string) => ContainerRunner | undefined): Promise<AttachServers> {
  const dir = attachDir(podDir)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const servers: { server: Server; close: () => void; sockets: Set<Socket> }[] = []
  const closeAll = async () => {
    await Promise.all(
      servers.splice(0).map(s =>
        new Promise<void>(resolve => {
          s.sockets.forEach(c => c.destroy())
          s.server.close(() => resolve()) // libuv unlinks the socket file
        }).finally(s.close),
      ),
    )
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (const name of names) {
      const addr = socketAddress(dir, attachFile(name))
      const sockets = new Set<Socket>()
      const server = createServer(socket => {
        sockets.add(socket)
        const client = new SocketClient(socket, name)
        const r = runner(name)
        socket.on('error', () => {})
        socket.on('close', () => {
          sockets.delete(socket)
          client.gone()
          r?.detach(client)
        })
        try {
          if (!r) throw new PodError(`attach: container ${name}: not started yet`, { step: 'attach', code: 'ESRCH' })
          r.attach(client)
        } catch (e) {
          const err = e as PodError
          socket.end(encodeFrame(FRAME.ERROR, { message: err.message, hint: err.hint }))
        }
      })
      servers.push({ server, close: addr.close, sockets })
      rmSync(join(dir, attachFile(name)), { force: true })
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(addr.path, () => {
          server.off('error', reject)
          resolve()
        })
      })
      chmodSync(join(dir, attachFile(name)), 0o600)
    }
  } catch (e) {
    await closeAll()
    throw PodError.system('attach.listen', e, dir)
  }
  return { close: closeAll }
}
