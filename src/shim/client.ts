// A connection to a pod's shim (`<pod dir>/shim.sock`): requests answered in
// order, exits pushed as events once WATCH was sent. Every failure is a
// PodError `shim.*` (or the child step the shim reported).
import { connect, type Socket } from 'node:net'
import { PodError } from '../errors.js'
import { socketAddress } from '../pod/attach-server.js'
import { FrameReader, frame, parseProc, Records, RecordWriter, REP, REQ, SHIM_PROTO_VERSION, TAG, type ShimProc } from './proto.js'

export const SHIM_SOCKET = 'shim.sock'

/** What the shim answered to a failed request. */
export interface ShimFailure {
  message: string
  step: string
  errno: number
  arg: number
}

export class ShimRequestError extends Error {
  constructor(readonly failure: ShimFailure) {
    super(failure.message)
  }
}

export class ShimClient {
  /** The shim's pid (HELLO). */
  pid = 0
  private readonly reader = new FrameReader()
  private readonly pending: { resolve: (r: Records) => void; reject: (e: Error) => void }[] = []
  private closedError?: Error
  private readonly closeWaiters: (() => void)[] = []
  onEvent?: (p: ShimProc) => void

  private constructor(
    private readonly socket: Socket,
    readonly podDir: string,
  ) {
    socket.on('data', chunk => {
      let frames
      try {
        frames = this.reader.push(chunk)
      } catch (e) {
        socket.destroy(e as Error)
        return
      }
      for (const f of frames) this.onFrame(f.type, f.payload)
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      this.closedError ??= new PodError(`shim.connection: ${podDir}: the shim closed the connection`, { step: 'shim.connection', code: 'ECONNRESET' })
      for (const p of this.pending.splice(0)) p.reject(this.closedError)
      for (const w of this.closeWaiters.splice(0)) w()
    })
  }

  /** Connect and say HELLO. Throws `shim.connect` (no shim listening) or `shim.version`. */
  static async connect(podDir: string): Promise<ShimClient> {
    const addr = socketAddress(podDir, SHIM_SOCKET)
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(addr.path)
      s.once('connect', () => resolve(s))
      s.once('error', e => reject(PodError.system('shim.connect', e, `${podDir}/${SHIM_SOCKET}`)))
    }).finally(addr.close)
    const client = new ShimClient(socket, podDir)
    try {
      const hello = await client.request(REQ.HELLO, new RecordWriter().u32(TAG.VERSION, SHIM_PROTO_VERSION).done())
      client.pid = hello.u32(TAG.PID) ?? 0
    } catch (e) {
      client.close()
      if (e instanceof ShimRequestError)
        throw new PodError(`shim.version: ${podDir}: ${e.message}`, { step: 'shim.version', hint: 'restart the pod with this pod-launch' })
      throw e
    }
    return client
  }

  private onFrame(type: number, payload: Buffer): void {
    let records: Records
    try {
      records = new Records(payload)
    } catch (e) {
      this.socket.destroy(e as Error)
      return
    }
    if (type === REP.EVENT) {
      const proc = records.all(TAG.PROC)[0]
      if (proc) this.onEvent?.(parseProc(proc))
      return
    }
    const waiter = this.pending.shift()
    if (!waiter) return
    if (type === REP.OK) return waiter.resolve(records)
    waiter.reject(
      new ShimRequestError({
        message: records.str(TAG.MESSAGE) ?? 'shim: request failed',
        step: records.str(TAG.STEP) ?? 'shim.request',
        errno: records.u32(TAG.ERRNO) ?? 0,
        arg: records.i32(TAG.ARG) ?? -1,
      }),
    )
  }

  /** Send a request; resolves with the OK reply's records, rejects with ShimRequestError (ERR) or a PodError (connection). */
  request(type: number, payload: Buffer = Buffer.alloc(0)): Promise<Records> {
    if (this.closedError || this.socket.destroyed)
      return Promise.reject(this.closedError ?? new PodError('shim.connection: closed', { step: 'shim.connection' }))
    return new Promise<Records>((resolve, reject) => {
      this.pending.push({ resolve, reject })
      this.updateRef()
      this.socket.write(frame(type, payload))
    }).finally(() => this.updateRef())
  }

  /** Every process the shim holds (pause, containers: running or their last exit). */
  async status(): Promise<ShimProc[]> {
    const r = await this.request(REQ.STATUS)
    return r.all(TAG.PROC).map(parseProc)
  }

  /** From now on exits arrive through `onEvent`. */
  async watch(onEvent: (p: ShimProc) => void): Promise<void> {
    this.onEvent = onEvent
    await this.request(REQ.WATCH)
  }

  /** Send `signal` to a process; false when it is not running. */
  async kill(name: string, signal: number): Promise<boolean> {
    const r = await this.request(REQ.KILL, new RecordWriter().str(TAG.NAME, name).u32(TAG.SIGNAL, signal).done())
    return r.u8(TAG.SENT) === 1
  }

  /** Kill and reap every process, then the shim exits; resolves once it has. */
  async shutdown(): Promise<void> {
    await this.request(REQ.SHUTDOWN)
    await this.closed()
  }

  /** Resolves once the shim closed the connection (keeping this process alive until then). */
  closed(): Promise<void> {
    if (this.socket.destroyed || this.closedError) return Promise.resolve()
    const wait = new Promise<void>(resolve => this.closeWaiters.push(resolve))
    this.updateRef()
    return wait
  }

  private wantEvents = true

  /** Whether events awaited keep this process alive (requests in flight always do). */
  ref(on: boolean): void {
    this.wantEvents = on
    this.updateRef()
  }

  private updateRef(): void {
    if (this.wantEvents || this.pending.length > 0 || this.closeWaiters.length > 0) this.socket.ref()
    else this.socket.unref()
  }

  close(): void {
    this.socket.end()
    this.socket.destroy()
  }
}
