// A SPDY/3.1 client for unit tests of the server side: compresses its
// header blocks with zlib and the SPDY dictionary as Go's spdystream does
// (one stream of compression, a sync flush per block), and records every
// frame the server sends. The real clients (Go) are driven in test/go/.
import { connect, createServer, type Socket } from 'node:net'
import { constants as zc, createDeflate, createInflate } from 'node:zlib'
import { SPDY_DICTIONARY } from '../../src/cri/streaming/spdy-dictionary.js'
import {
  CONTROL,
  FrameReader,
  controlFrame,
  dataFrame,
  decodeHeaderBlock,
  encodeHeaderBlock,
  type Frame,
  type Headers,
} from '../../src/cri/streaming/spdy-frames.js'

function pump(z: ReturnType<typeof createDeflate> | ReturnType<typeof createInflate>, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const on = (c: Buffer) => chunks.push(c)
    z.on('data', on)
    z.once('error', reject)
    z.write(data)
    z.flush(zc.Z_SYNC_FLUSH, () => {
      z.off('data', on)
      z.off('error', reject)
      resolve(Buffer.concat(chunks))
    })
  })
}

export interface SeenFrame {
  frame: Frame
  /** SYN_REPLY / HEADERS: the decoded headers. */
  headers?: Headers
}

export class SpdyTestClient {
  readonly frames: SeenFrame[] = []
  private readonly reader = new FrameReader()
  private readonly deflater = createDeflate({ dictionary: SPDY_DICTIONARY })
  private readonly inflater = createInflate({ dictionary: SPDY_DICTIONARY })
  private chain = Promise.resolve()
  private waiters: (() => void)[] = []
  closed = false

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.reader.push(chunk)) {
        this.chain = this.chain.then(async () => {
          let headers: Headers | undefined
          if (frame.control && (frame.type === CONTROL.SYN_REPLY || frame.type === CONTROL.HEADERS)) {
            headers = decodeHeaderBlock(await pump(this.inflater, frame.data.subarray(4)))
          }
          this.frames.push({ frame, headers })
          this.waiters.forEach(w => w())
        })
      }
    })
    socket.on('close', () => {
      this.closed = true
      this.waiters.forEach(w => w())
    })
    socket.on('error', () => {})
  }

  async synStream(id: number, headers: Record<string, string>, flags = 0): Promise<void> {
    const block = await pump(this.deflater, encodeHeaderBlock(Object.entries(headers).map(([k, v]) => [k, [v]])))
    const fixed = Buffer.alloc(10)
    fixed.writeUInt32BE(id, 0)
    this.socket.write(controlFrame(CONTROL.SYN_STREAM, flags, Buffer.concat([fixed, block])))
  }

  data(id: number, data: Buffer | string, flags = 0): void {
    this.socket.write(dataFrame(id, flags, Buffer.from(data)))
  }

  control(type: number, data: Buffer, flags = 0): void {
    this.socket.write(controlFrame(type, flags, data))
  }

  /** Wait until `pred` holds over the frames seen so far (10 s at most). */
  async until<T>(what: string, pred: (frames: SeenFrame[]) => T | undefined | false): Promise<T> {
    const deadline = Date.now() + 10_000
    for (;;) {
      const v = pred(this.frames)
      if (v) return v
      if (Date.now() > deadline) throw new Error(`spdy test client: timed out waiting for ${what}`)
      await new Promise<void>(resolve => {
        const t = setTimeout(resolve, 200)
        this.waiters.push(() => (clearTimeout(t), resolve()))
      })
      this.waiters = []
    }
  }

  /** Everything the server sent on stream `id` as DATA. */
  dataOn(id: number): Buffer {
    return Buffer.concat(this.frames.filter(f => !f.frame.control && f.frame.streamId === id).map(f => f.frame.data))
  }

  /** Whether a DATA frame with FIN came on stream `id`. */
  finOn(id: number): boolean {
    return this.frames.some(f => !f.frame.control && f.frame.streamId === id && f.frame.flags & 1)
  }

  controls(type: number): Frame[] {
    return this.frames.map(f => f.frame).filter(f => f.control && f.type === type)
  }
}

/** A connected TCP pair on loopback: [server side, client side]. */
export async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const accepted = new Promise<Socket>(resolve => server.once('connection', resolve))
  const client = connect(port, '127.0.0.1')
  const serverSide = await accepted
  server.close()
  return [serverSide, client]
}
