// The server side of a SPDY/3.1 session over any duplex byte stream (an
// upgraded HTTP socket, or a WebSocket carrying SPDY for port-forward): the
// peer (Go's spdystream in kubectl, crictl, critest, kubelet) opens streams
// with SYN_STREAM; each becomes a SpdyStream, a Duplex whose headers name
// what it carries. We reply (SYN_REPLY), move DATA both ways, echo PINGs,
// honour RST_STREAM and GOAWAY.
//
// Header blocks: the peer's are zlib with the SPDY dictionary, one stream of
// compression per direction for the whole session, so one inflater is fed
// every block in order; frames are handled one after another for that
// reason. Ours are stored (uncompressed) deflate blocks (spdy-frames.ts).
//
// Flow control (section 2.6.8): we credit what we receive with WINDOW_UPDATE
// frames (stream and session windows), and honour the peer's windows once it
// shows it keeps them (a WINDOW_UPDATE or an initial window in SETTINGS).
// spdystream keeps no windows (it never sends WINDOW_UPDATE and ignores
// ours), so with it the TCP connection's own backpressure is what paces us,
// as it paces kubelet's Go server: a stream whose reader is behind pauses
// the socket until it reads again.
import { EventEmitter } from 'node:events'
import { Duplex } from 'node:stream'
import { constants as zc, createInflate, type Inflate } from 'node:zlib'
import {
  CONTROL,
  DEFAULT_WINDOW,
  FLAG_FIN,
  FLAG_UNIDIRECTIONAL,
  FrameReader,
  GOAWAY,
  RST,
  SETTINGS_INITIAL_WINDOW_SIZE,
  StoredDeflater,
  dataFrame,
  decodeHeaderBlock,
  encodeHeaderBlock,
  goAwayFrame,
  parseSettings,
  parseSynStream,
  parseWords,
  pingFrame,
  rstStreamFrame,
  synReplyFrame,
  windowUpdateFrame,
  type Frame,
  type Headers,
} from './spdy-frames.js'
import { SPDY_DICTIONARY } from './spdy-dictionary.js'

/** Our DATA frames carry at most this much, so streams take turns on the connection. */
const MAX_CHUNK = 32 * 1024
/** A stream buffers this much unread input before the socket pauses. */
const READ_BUFFER = 1024 * 1024

interface PendingWrite {
  data: Buffer
  fin: boolean
  done: (err?: Error | null) => void
}

/** One stream the peer opened. Read what the peer sends; write what it reads; end() sends FIN. */
export class SpdyStream extends Duplex {
  sendWindow: number
  /** Received and not yet credited back. */
  uncredited = 0
  remoteFin = false
  localFin = false
  wasReset = false
  private replied = false
  readonly pending: PendingWrite[] = []

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: Headers,
    initialWindow: number,
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: READ_BUFFER })
    this.sendWindow = initialWindow
    this.on('error', () => {}) // a peer's reset must never become an uncaught exception; users see 'close'
  }

  /** The first value of a header (names are case-insensitive). */
  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase())?.[0]
  }

  /** Accept the stream: SYN_REPLY (once). */
  reply(): void {
    if (this.replied || this.wasReset) return
    this.replied = true
    this.session.sendReply(this)
  }

  /** Abort the stream: RST_STREAM with `status` (CANCEL by default). */
  reset(status: number = RST.CANCEL): void {
    if (this.wasReset) return
    this.wasReset = true
    this.session.sendReset(this, status)
    this.destroy()
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.reply()
    this.session.queueData(this, { data: chunk, fin: false, done })
  }

  override _final(done: (err?: Error | null) => void): void {
    this.reply()
    this.localFin = true
    this.session.queueData(this, { data: Buffer.alloc(0), fin: true, done })
  }

  override _read(): void {
    this.session.readResumed(this)
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (!this.wasReset && !(this.localFin && this.remoteFin) && !this.session.closed) {
      this.wasReset = true
      this.session.sendReset(this, RST.CANCEL)
    }
    for (const p of this.pending.splice(0)) p.done(err ?? new Error('spdy: stream closed'))
    this.session.forget(this)
    done(err)
  }
}

/**
 * A SPDY/3.1 server session on `socket`. `onStream` gets each stream the
 * peer opens (its headers are decoded); the session emits 'close' once the
 * socket closed, after every stream was destroyed.
 */
export class SpdySession extends EventEmitter {
  closed = false
  private readonly reader = new FrameReader()
  private readonly inflater: Inflate = createInflate({ dictionary: SPDY_DICTIONARY })
  private readonly deflater = new StoredDeflater()
  private readonly streams = new Map<number, SpdyStream>()
  private chain: Promise<void> = Promise.resolve()
  private lastStreamId = 0
  private goingAway = false
  /** The peer keeps windows (sent WINDOW_UPDATE or an initial window); until then, TCP paces us. */
  private peerFlowControl = false
  private sessionSendWindow = DEFAULT_WINDOW
  private initialSendWindow = DEFAULT_WINDOW
  private sessionUncredited = 0
  private readonly paused = new Set<SpdyStream>()
  private drainWaiters: (() => void)[] = []

  constructor(
    private readonly socket: Duplex,
    private readonly onStream: (stream: SpdyStream) => void,
  ) {
    super()
    this.inflater.on('error', e => this.fail(GOAWAY.PROTOCOL_ERROR, e))
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[]
      try {
        frames = this.reader.push(chunk)
      } catch (e) {
        this.fail(GOAWAY.PROTOCOL_ERROR, e as Error)
        return
      }
      for (const f of frames) this.chain = this.chain.then(() => this.handle(f)).catch(e => this.fail(GOAWAY.PROTOCOL_ERROR, e as Error))
    })
    socket.on('drain', () => this.drainWaiters.splice(0).forEach(w => w()))
    socket.on('error', () => this.teardown())
    socket.on('close', () => this.teardown())
    socket.on('end', () => this.teardown())
  }

  /** Say goodbye (GOAWAY OK) and close the connection once what we wrote is out. */
  close(): void {
    if (this.closed) return
    if (!this.socket.destroyed && this.socket.writable) this.socket.end(goAwayFrame(this.lastStreamId, GOAWAY.OK))
    this.teardown()
  }

  private fail(status: number, err: Error): void {
    if (this.closed) return
    this.emit('protocolError', err)
    if (!this.socket.destroyed && this.socket.writable) this.socket.end(goAwayFrame(this.lastStreamId, status))
    this.teardown()
  }

  private teardown(): void {
    if (this.closed) return
    this.closed = true
    for (const s of [...this.streams.values()]) {
      if (!s.remoteFin) s.push(null)
      s.destroy()
    }
    this.streams.clear()
    this.inflater.close()
    this.drainWaiters.splice(0).forEach(w => w())
    if (!this.socket.destroyed) this.socket.destroy()
    this.emit('close')
  }

  private inflate(block: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      const onData = (c: Buffer) => chunks.push(c)
      this.inflater.on('data', onData)
      this.inflater.once('error', reject)
      this.inflater.write(block)
      this.inflater.flush(zc.Z_SYNC_FLUSH, () => {
        this.inflater.off('data', onData)
        this.inflater.off('error', reject)
        resolve(Buffer.concat(chunks))
      })
    })
  }

  private async handle(f: Frame): Promise<void> {
    if (this.closed) return
    if (!f.control) return this.onData(f.streamId, f.flags, f.data)
    switch (f.type) {
      case CONTROL.SYN_STREAM: {
        const syn = parseSynStream(f.data)
        const headers = decodeHeaderBlock(await this.inflate(syn.headers))
        return this.onSynStream(syn.streamId, f.flags, headers)
      }
      case CONTROL.HEADERS: {
        const [id] = parseWords(f.data, 1, 'HEADERS')
        const headers = decodeHeaderBlock(await this.inflate(f.data.subarray(4)))
        const s = this.streams.get(id & 0x7fffffff)
        if (s) for (const [k, v] of headers) s.headers.set(k, v)
        if (s && f.flags & FLAG_FIN) this.remoteEnded(s)
        return
      }
      case CONTROL.SYN_REPLY:
        // We open no streams; a reply to none is the peer's confusion, its header block still feeds the inflater.
        await this.inflate(f.data.subarray(4))
        return
      case CONTROL.RST_STREAM: {
        const [id] = parseWords(f.data, 2, 'RST_STREAM')
        const s = this.streams.get(id & 0x7fffffff)
        if (s) {
          s.wasReset = true
          if (!s.remoteFin) s.push(null)
          s.destroy()
        }
        return
      }
      case CONTROL.SETTINGS: {
        const initial = parseSettings(f.data).get(SETTINGS_INITIAL_WINDOW_SIZE)
        if (initial !== undefined) {
          this.peerFlowControl = true
          for (const s of this.streams.values()) s.sendWindow += initial - this.initialSendWindow
          this.initialSendWindow = initial
          this.pumpAll()
        }
        return
      }
      case CONTROL.PING: {
        const [id] = parseWords(f.data, 1, 'PING')
        // Odd ids are the client's pings: echo them unchanged. Even ids would be replies to ours; we send none.
        if (id % 2 === 1) this.write(pingFrame(id))
        return
      }
      case CONTROL.GOAWAY:
        this.goingAway = true
        if (this.streams.size === 0) this.close()
        return
      case CONTROL.WINDOW_UPDATE: {
        const [id, delta] = parseWords(f.data, 2, 'WINDOW_UPDATE')
        this.peerFlowControl = true
        const streamId = id & 0x7fffffff
        if (streamId === 0) this.sessionSendWindow += delta & 0x7fffffff
        else {
          const s = this.streams.get(streamId)
          if (s) s.sendWindow += delta & 0x7fffffff
        }
        this.pumpAll()
        return
      }
      default:
        return // unknown control frames are ignored (section 2.2.1)
    }
  }

  private onSynStream(id: number, flags: number, headers: Headers): void {
    // Client streams have odd, increasing ids (section 2.3.2).
    if (id % 2 === 0 || id <= this.lastStreamId || this.goingAway) {
      this.write(rstStreamFrame(id, id <= this.lastStreamId ? RST.PROTOCOL_ERROR : RST.REFUSED_STREAM))
      return
    }
    this.lastStreamId = id
    const s = new SpdyStream(this, id, headers, this.initialSendWindow)
    this.streams.set(id, s)
    if (flags & FLAG_UNIDIRECTIONAL) s.localFin = true
    if (flags & FLAG_FIN) this.remoteEnded(s)
    this.onStream(s)
  }

  private onData(id: number, flags: number, data: Buffer): void {
    const s = this.streams.get(id)
    if (!s || s.remoteFin) {
      if (!s) this.write(rstStreamFrame(id, RST.INVALID_STREAM))
      return
    }
    if (data.length) {
      s.uncredited += data.length
      this.sessionUncredited += data.length
      if (!s.push(data)) {
        this.paused.add(s)
        this.socket.pause()
      } else this.credit(s)
    }
    if (flags & FLAG_FIN) this.remoteEnded(s)
  }

  private remoteEnded(s: SpdyStream): void {
    s.remoteFin = true
    s.push(null)
    this.maybeDone(s)
  }

  /** Give the peer back the window it spent, in steps of half a window. */
  private credit(s: SpdyStream): void {
    if (s.uncredited >= DEFAULT_WINDOW / 2 && !s.remoteFin) {
      this.write(windowUpdateFrame(s.id, s.uncredited))
      s.uncredited = 0
    }
    if (this.sessionUncredited >= DEFAULT_WINDOW / 2) {
      this.write(windowUpdateFrame(0, this.sessionUncredited))
      this.sessionUncredited = 0
    }
  }

  readResumed(s: SpdyStream): void {
    if (this.paused.delete(s)) {
      this.credit(s)
      if (this.paused.size === 0 && !this.closed) this.socket.resume()
    }
  }

  sendReply(s: SpdyStream): void {
    this.write(synReplyFrame(s.id, this.deflater.compress(encodeHeaderBlock([]))))
  }

  sendReset(s: SpdyStream, status: number): void {
    this.write(rstStreamFrame(s.id, status))
  }

  queueData(s: SpdyStream, w: PendingWrite): void {
    if (this.closed || s.wasReset) return w.done(new Error('spdy: stream closed'))
    s.pending.push(w)
    this.pump(s)
  }

  private pumpAll(): void {
    for (const s of this.streams.values()) this.pump(s)
  }

  /** Send what the windows allow (all of it while the peer keeps none), in frames of MAX_CHUNK. */
  private pump(s: SpdyStream): void {
    while (s.pending.length && !this.closed) {
      const w = s.pending[0]
      while (w.data.length) {
        const room = this.peerFlowControl ? Math.min(s.sendWindow, this.sessionSendWindow, MAX_CHUNK) : MAX_CHUNK
        if (room <= 0) return
        const piece = w.data.subarray(0, room)
        w.data = w.data.subarray(piece.length)
        s.sendWindow -= piece.length
        this.sessionSendWindow -= piece.length
        this.write(dataFrame(s.id, w.fin && w.data.length === 0 ? FLAG_FIN : 0, piece))
        if (w.fin && w.data.length === 0) w.fin = false
      }
      if (w.fin) this.write(dataFrame(s.id, FLAG_FIN, Buffer.alloc(0)))
      s.pending.shift()
      if (this.socket.writableNeedDrain) this.drainWaiters.push(() => w.done())
      else w.done()
      if (s.localFin && s.pending.length === 0) this.maybeDone(s)
    }
  }

  private maybeDone(s: SpdyStream): void {
    if (s.localFin && s.remoteFin && s.pending.length === 0) {
      this.streams.delete(s.id)
      if (this.goingAway && this.streams.size === 0) this.close()
    }
  }

  forget(s: SpdyStream): void {
    this.streams.delete(s.id)
    this.paused.delete(s)
    if (this.paused.size === 0 && !this.closed) this.socket.resume()
    if (this.goingAway && this.streams.size === 0) this.close()
  }

  private write(frame: Buffer): void {
    if (!this.closed && !this.socket.destroyed && this.socket.writable) this.socket.write(frame)
  }
}
