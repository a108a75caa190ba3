// Extended attributes carried by a layer tar, which node-tar drops: PAX
// records `SCHILY.xattr.<name>=<raw bytes>` (GNU tar --xattrs, Go's
// archive/tar as docker, buildkit and umoci write them) and
// `LIBARCHIVE.xattr.<name>=<base64>` (bsdtar). The values are binary (a
// file capability is a struct with NUL bytes), so the PAX records are read
// here by their length prefix, from the same byte stream the tar parser
// gets. Each entry's attributes are kept under its path until the writer
// takes them; a scanner that lost its place gives none (never another
// file's). Spec: POSIX pax (IEEE 1003.1 "pax Extended Header").
import { entryComponents } from './safe-path.js'

const BLOCK = 512

function octal(h: Buffer, off: number, len: number): number {
  if (h[off] & 0x80) {
    // base-256 (GNU) for sizes over 8 GiB: big-endian after the flag bit
    let n = h[off] & 0x3f
    for (let i = off + 1; i < off + len; i++) n = n * 256 + h[i]
    return n
  }
  const s = h
    .toString('latin1', off, off + len)
    .replace(/\0.*$/s, '')
    .trim()
  return s === '' ? 0 : parseInt(s, 8)
}

const cstr = (h: Buffer, off: number, len: number) => {
  const end = h.indexOf(0, off)
  return h.toString('utf8', off, end >= 0 && end < off + len ? end : off + len)
}

/** PAX records of one extended header body -> key -> raw value bytes. */
export function parsePaxRecords(body: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  let i = 0
  while (i < body.length) {
    const sp = body.indexOf(0x20, i)
    if (sp < 0) break
    const len = Number(body.toString('latin1', i, sp))
    if (!Number.isSafeInteger(len) || len <= sp - i || i + len > body.length) break
    const rec = body.subarray(sp + 1, i + len - 1) // without the trailing \n
    const eq = rec.indexOf(0x3d)
    if (eq > 0) out.set(rec.toString('utf8', 0, eq), Buffer.from(rec.subarray(eq + 1)))
    i += len
  }
  return out
}

/** The xattrs a PAX header names (SCHILY raw, LIBARCHIVE base64 with a %-encoded name). */
export function xattrsOf(pax: Map<string, Buffer>): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  for (const [k, v] of pax) {
    if (k.startsWith('SCHILY.xattr.')) out.set(k.slice('SCHILY.xattr.'.length), v)
    else if (k.startsWith('LIBARCHIVE.xattr.')) {
      try {
        out.set(decodeURIComponent(k.slice('LIBARCHIVE.xattr.'.length)), Buffer.from(v.toString('latin1'), 'base64'))
      } catch {}
    }
  }
  return out
}

const keyOf = (path: string): string | undefined => {
  try {
    return entryComponents(path).join('/')
  } catch {
    return undefined
  }
}

export class TarXattrScanner {
  private header = Buffer.alloc(BLOCK)
  private headerFill = 0
  /** Bytes of the current body still to come, and whether we keep them. */
  private bodyLeft = 0
  private padLeft = 0
  private body: Buffer[] | null = null
  private bodyType = ''
  private pax: Map<string, Buffer> | null = null
  private longName: string | null = null
  private readonly found = new Map<string, Map<string, Buffer>[]>()
  private lost = false

  feed(chunk: Buffer): void {
    let i = 0
    while (i < chunk.length && !this.lost) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, chunk.length - i)
        if (this.body) this.body.push(chunk.subarray(i, i + n))
        this.bodyLeft -= n
        i += n
        if (this.bodyLeft === 0) this.endBody()
      } else if (this.padLeft > 0) {
        const n = Math.min(this.padLeft, chunk.length - i)
        this.padLeft -= n
        i += n
      } else {
        const n = Math.min(BLOCK - this.headerFill, chunk.length - i)
        chunk.copy(this.header, this.headerFill, i, i + n)
        this.headerFill += n
        i += n
        if (this.headerFill === BLOCK) {
          this.headerFill = 0
          this.onHeader(this.header)
        }
      }
    }
  }

  /** The xattrs of the next entry at `path`, if the layer gave it any. */
  take(path: string): Map<string, Buffer> | undefined {
    const key = keyOf(path)
    const q = key === undefined ? undefined : this.found.get(key)
    const x = q?.shift()
    if (q && q.length === 0) this.found.delete(key!)
    return x
  }

  private onHeader(h: Buffer): void {
    if (h.every(b => b === 0)) return // end-of-archive blocks
    if (h.toString('latin1', 257, 262) !== 'ustar' && h.toString('latin1', 257, 263) !== 'ustar ') {
      this.lost = true // not a header where we expect one: stop rather than guess
      return
    }
    const type = String.fromCharCode(h[156] || 0x30)
    const headerSize = octal(h, 124, 12)
    const size = (type !== 'x' && type !== 'g' && this.pax?.has('size') ? Number(this.pax.get('size')!.toString('latin1')) : headerSize) || 0
    if (type === 'x' || type === 'g' || type === 'L') {
      this.startBody(type, size, true)
      return
    }
    if (type !== 'K') {
      const prefix = h.toString('latin1', 345, 350).startsWith('\0') ? '' : cstr(h, 345, 155)
      const name = cstr(h, 0, 100)
      const path = this.pax?.get('path')?.toString('utf8') ?? this.longName ?? (prefix ? `${prefix}/${name}` : name)
      const x = this.pax ? xattrsOf(this.pax) : undefined
      const key = keyOf(path)
      if (x && x.size > 0 && key !== undefined) {
        const q = this.found.get(key) ?? []
        q.push(x)
        this.found.set(key, q)
      }
      this.pax = null
      this.longName = null
    }
    this.startBody(type, size, false)
  }

  private startBody(type: string, size: number, keep: boolean): void {
    this.bodyType = type
    this.body = keep ? [] : null
    this.bodyLeft = size
    this.padLeft = (BLOCK - (size % BLOCK)) % BLOCK
    if (size === 0) this.endBody()
  }

  private endBody(): void {
    if (!this.body) return
    const bytes = Buffer.concat(this.body)
    this.body = null
    if (this.bodyType === 'x') this.pax = parsePaxRecords(bytes)
    else if (this.bodyType === 'L') this.longName = bytes.toString('utf8').replace(/\0.*$/s, '')
  }
}
