// SPDY/3.1 framing (SPDY protocol draft 3.1, sections 2.2-2.6): the frame
// reader, the frame encoders and the header blocks. Pure: the session
// (spdy-session.ts) owns the sockets and the zlib inflater.
//
// Control frame: C=1 | version (15) | type (16) | flags (8) | length (24) | data
// Data frame:    C=0 | stream id (31)           | flags (8) | length (24) | data

export const SPDY_VERSION = 3

export const CONTROL = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const

export const FLAG_FIN = 0x01
/** SYN_STREAM only: the sender will not receive on this stream. */
export const FLAG_UNIDIRECTIONAL = 0x02

/** RST_STREAM status codes (section 2.4.2). */
export const RST = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
  FRAME_TOO_LARGE: 11,
} as const

/** GOAWAY status codes (section 2.6.6). */
export const GOAWAY = { OK: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2 } as const

/** SETTINGS ids we act on (section 2.6.4). */
export const SETTINGS_INITIAL_WINDOW_SIZE = 7

/** Both windows start here (section 2.6.8; the session window of 3.1 too). */
export const DEFAULT_WINDOW = 64 * 1024

const HEADER = 8
/** The length field has 24 bits. */
export const MAX_FRAME_DATA = 0xffffff

export type Frame = { control: true; type: number; flags: number; data: Buffer } | { control: false; streamId: number; flags: number; data: Buffer }

/** Reassemble frames from a byte stream. Throws on a control frame of another SPDY version. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0)

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk
    const out: Frame[] = []
    while (this.buf.length >= HEADER) {
      const length = this.buf.readUIntBE(5, 3)
      if (this.buf.length < HEADER + length) break
      const flags = this.buf[4]
      const data = Buffer.from(this.buf.subarray(HEADER, HEADER + length))
      if (this.buf[0] & 0x80) {
        const version = this.buf.readUInt16BE(0) & 0x7fff
        if (version !== SPDY_VERSION) throw new Error(`spdy: control frame of version ${version}, this server speaks ${SPDY_VERSION}`)
        out.push({ control: true, type: this.buf.readUInt16BE(2), flags, data })
      } else {
        out.push({ control: false, streamId: this.buf.readUInt32BE(0) & 0x7fffffff, flags, data })
      }
      this.buf = this.buf.subarray(HEADER + length)
    }
    if (this.buf.length === 0) this.buf = Buffer.alloc(0)
    return out
  }
}

export function controlFrame(type: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(HEADER)
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0)
  head.writeUInt16BE(type, 2)
  head[4] = flags
  head.writeUIntBE(data.length, 5, 3)
  return Buffer.concat([head, data])
}

export function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(HEADER)
  head.writeUInt32BE(streamId & 0x7fffffff, 0)
  head[4] = flags
  head.writeUIntBE(data.length, 5, 3)
  return Buffer.concat([head, data])
}

const u32 = (...values: number[]): Buffer => {
  const b = Buffer.alloc(4 * values.length)
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i))
  return b
}

export const synReplyFrame = (streamId: number, compressedHeaders: Buffer, flags = 0) =>
  controlFrame(CONTROL.SYN_REPLY, flags, Buffer.concat([u32(streamId & 0x7fffffff), compressedHeaders]))
export const rstStreamFrame = (streamId: number, status: number) => controlFrame(CONTROL.RST_STREAM, 0, u32(streamId & 0x7fffffff, status))
export const pingFrame = (id: number) => controlFrame(CONTROL.PING, 0, u32(id))
export const goAwayFrame = (lastGoodStreamId: number, status: number) => controlFrame(CONTROL.GOAWAY, 0, u32(lastGoodStreamId & 0x7fffffff, status))
export const windowUpdateFrame = (streamId: number, delta: number) => controlFrame(CONTROL.WINDOW_UPDATE, 0, u32(streamId & 0x7fffffff, delta & 0x7fffffff))

/** The fixed fields of a SYN_STREAM; `headers` is still compressed. */
export function parseSynStream(data: Buffer): { streamId: number; associatedId: number; priority: number; headers: Buffer } {
  if (data.length < 10) throw new Error(`spdy: SYN_STREAM of ${data.length} bytes is too short`)
  return {
    streamId: data.readUInt32BE(0) & 0x7fffffff,
    associatedId: data.readUInt32BE(4) & 0x7fffffff,
    priority: data[8] >> 5,
    headers: data.subarray(10),
  }
}

/** RST_STREAM, GOAWAY, WINDOW_UPDATE and PING carry 31/32-bit words; `n` of them. */
export function parseWords(data: Buffer, n: number, what: string): number[] {
  if (data.length < 4 * n) throw new Error(`spdy: ${what} of ${data.length} bytes is too short`)
  return Array.from({ length: n }, (_, i) => data.readUInt32BE(4 * i))
}

/** SETTINGS entries: flags (8) | id (24) | value (32). */
export function parseSettings(data: Buffer): Map<number, number> {
  const [count] = parseWords(data, 1, 'SETTINGS')
  if (data.length < 4 + 8 * count) throw new Error(`spdy: SETTINGS of ${data.length} bytes is too short for ${count} entries`)
  const out = new Map<number, number>()
  for (let i = 0; i < count; i++) out.set(data.readUInt32BE(4 + 8 * i) & 0xffffff, data.readUInt32BE(8 + 8 * i))
  return out
}

/** Header names are lower case on the wire; a value with several parts joins them with NUL (section 2.6.10). */
export type Headers = Map<string, string[]>

export function encodeHeaderBlock(headers: Iterable<[string, string[]]>): Buffer {
  const entries = [...headers]
  const parts: Buffer[] = [u32(entries.length)]
  for (const [name, values] of entries) {
    const n = Buffer.from(name.toLowerCase(), 'utf8')
    const v = Buffer.from(values.join('\0'), 'utf8')
    parts.push(u32(n.length), n, u32(v.length), v)
  }
  return Buffer.concat(parts)
}

export function decodeHeaderBlock(block: Buffer): Headers {
  let at = 0
  const take = (n: number): Buffer => {
    if (at + n > block.length) throw new Error('spdy: header block ends inside an entry')
    const b = block.subarray(at, at + n)
    at += n
    return b
  }
  const count = take(4).readUInt32BE(0)
  const out: Headers = new Map()
  for (let i = 0; i < count; i++) {
    const name = take(take(4).readUInt32BE(0)).toString('utf8').toLowerCase()
    const value = take(take(4).readUInt32BE(0)).toString('utf8')
    out.set(name, [...(out.get(name) ?? []), ...value.split('\0')])
  }
  return out
}

/**
 * The compressing side of our header blocks without a compressor: a zlib
 * stream whose blocks are all "stored" (RFC 1951 section 3.2.4: BFINAL=0,
 * BTYPE=00, LEN, NLEN, raw bytes). Each header block ends with an empty
 * stored block, the marker a zlib sync flush writes: an inflater (Go's
 * compress/flate among them) hands out what it has on reaching it instead of
 * reading on into the next frame. No dictionary is needed to read stored
 * bytes, so the zlib header (RFC 1950) declares none.
 */
export class StoredDeflater {
  private started = false

  compress(block: Buffer): Buffer {
    const parts: Buffer[] = []
    if (!this.started) {
      parts.push(Buffer.from([0x78, 0x01])) // CM=8 (deflate), 32K window, no FDICT; (0x7801 % 31) === 0
      this.started = true
    }
    for (let at = 0; at < block.length; at += 0xffff) parts.push(storedBlock(block.subarray(at, at + 0xffff)))
    parts.push(storedBlock(Buffer.alloc(0)))
    return Buffer.concat(parts)
  }
}

function storedBlock(piece: Buffer): Buffer {
  const head = Buffer.alloc(5) // BFINAL=0, BTYPE=00, then padding to the byte boundary
  head.writeUInt16LE(piece.length, 1)
  head.writeUInt16LE(~piece.length & 0xffff, 3)
  return Buffer.concat([head, piece])
}
