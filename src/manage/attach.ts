// `attach POD [-c C]`: connect to the shim's attach socket of a
// container (`<pod dir>/attach/<container>.sock`) and speak the framing of
// pod/attach-protocol.ts. The terminal side (raw mode, keys) is the CLI's.
import { EventEmitter } from 'node:events'
import { connect, type Socket } from 'node:net'
import { PodError } from '../errors.js'
import { FRAME, FrameDecoder, encodeFrame, resizeFrame } from '../pod/attach-protocol.js'
import { attachDir, attachFile, socketAddress } from '../pod/attach-server.js'
import { isAlive, podDir, resolvePod } from '../state/index.js'

export interface AttachHello {
  container: string
  tty: boolean
  stdin: boolean
}

/**
 * A connected attach session. Emits `output` (stream, Buffer), then `exit`
 * (exitCode, or null when the connection closed without one).
 */
export class AttachConnection extends EventEmitter {
  constructor(
    private readonly socket: Socket,
    readonly hello: AttachHello,
  ) {
    super()
  }

  write(data: Buffer): void {
    if (data.length && this.socket.writable) this.socket.write(encodeFrame(FRAME.STDIN, data))
  }

  resize(rows: number, cols: number): void {
    if (this.socket.writable) this.socket.write(resizeFrame(rows, cols))
  }

  /** Our input ended: with stdinOnce the container's stdin closes. */
  endInput(): void {
    if (this.socket.writable) this.socket.write(encodeFrame(FRAME.STDIN_END))
  }

  /** Detach: the session ends, the container keeps running. */
  close(): void {
    this.socket.end()
  }
}

/** The container `attach` picks: `-c`, else the first with stdin or tty (kubectl's default container otherwise: the first). */
export function attachTarget(
  spec: { containers: { name: string; stdin?: boolean; tty?: boolean }[]; initContainers: { name: string }[] },
  container?: string,
): string | undefined {
  if (container) return [...spec.initContainers, ...spec.containers].some(c => c.name === container) ? container : undefined
  return (spec.containers.find(c => c.stdin || c.tty) ?? spec.containers[0])?.name
}

/** Connect to a detached pod's container; resolves once attached (throws `attach`). */
export async function attachPod(root: string, ref: string, container?: string): Promise<AttachConnection> {
  const { id, record: r, error } = resolvePod(root, ref)
  if (!r) throw error!
  const name = attachTarget(r.spec, container)
  if (!name) {
    const all = [...r.spec.initContainers, ...r.spec.containers].map(c => c.name)
    throw new PodError(`attach: ${r.name}: no container ${container}`, { step: 'attach', code: 'ENOENT', exitCode: 2, hint: `containers: ${all.join(', ')}` })
  }
  const spec = [...r.spec.initContainers, ...r.spec.containers].find(c => c.name === name)
  if (spec && !spec.stdin && !spec.tty) {
    throw new PodError(`attach: ${r.name}/${name}: the container has neither stdin nor tty: there is nothing to attach to`, {
      step: 'attach',
      code: 'EINVAL',
      hint: `pod-launch logs -f ${r.name}${container ? ` -c ${name}` : ''} follows its output; pod-launch exec -it ${r.name} -- sh runs a shell in it`,
    })
  }
  if (!isAlive(r.supervisor)) {
    throw new PodError(`attach: ${r.name}: the pod is not running (${r.phase})`, {
      step: 'attach',
      code: 'ESRCH',
      hint: 'only a running detached pod (run -d) can be attached',
    })
  }
  const addr = socketAddress(attachDir(podDir(root, id)), attachFile(name))
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect(addr.path)
    s.once('connect', () => resolve(s))
    s.once('error', e => reject(PodError.system('attach.connect', e, `${r.name}/${name}`)))
  }).finally(addr.close)
  const decoder = new FrameDecoder()
  let conn: AttachConnection | undefined
  return new Promise<AttachConnection>((resolve, reject) => {
    let exitCode: number | null = null
    socket.on('data', chunk => {
      let frames
      try {
        frames = decoder.push(chunk)
      } catch (e) {
        socket.destroy()
        return reject(PodError.system('attach.read', e, `${r.name}/${name}`))
      }
      for (const f of frames) {
        if (f.type === FRAME.HELLO) {
          conn = new AttachConnection(socket, JSON.parse(f.payload.toString('utf8')) as AttachHello)
          resolve(conn)
        } else if (f.type === FRAME.ERROR) {
          const m = JSON.parse(f.payload.toString('utf8')) as { message: string; hint?: string }
          reject(new PodError(m.message, { step: 'attach', code: 'ESRCH', hint: m.hint }))
        } else if (f.type === FRAME.STDOUT || f.type === FRAME.STDERR) {
          conn?.emit('output', f.type === FRAME.STDOUT ? 'stdout' : 'stderr', f.payload)
        } else if (f.type === FRAME.EXIT) {
          exitCode = (JSON.parse(f.payload.toString('utf8')) as { exitCode: number }).exitCode
        }
      }
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      reject(new PodError(`attach: ${r.name}/${name}: the pod's shim closed the connection`, { step: 'attach', code: 'ECONNRESET' }))
      conn?.emit('exit', exitCode)
    })
  })
}
