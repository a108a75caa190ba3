// A minimal ustar writer for fabricated (also malicious) archives in tests:
// node-tar and GNU tar refuse to write `../x` or absolute names as given.
export interface TarEntry {
  path: string
  type?: 'file' | 'dir' | 'symlink' | 'link' | 'char'
  body?: string | Buffer
  linkpath?: string
  mode?: number
}

const TYPEFLAG = { file: '0', link: '1', symlink: '2', char: '3', dir: '5' } as const

function header(e: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(512)
  const put = (s: string, off: number, len: number) => h.write(s, off, Math.min(len, Buffer.byteLength(s)), 'utf8')
  const oct = (n: number, off: number, len: number) => put(n.toString(8).padStart(len - 1, '0') + '\0', off, len)
  const type = e.type ?? 'file'
  if (Buffer.byteLength(e.path) > 100) throw new Error(`tar-writer: path too long: ${e.path}`)
  put(e.path, 0, 100)
  oct(e.mode ?? (type === 'dir' ? 0o755 : 0o644), 100, 8)
  oct(0, 108, 8)
  oct(0, 116, 8)
  oct(size, 124, 12)
  oct(0, 136, 12)
  put('        ', 148, 8)
  put(TYPEFLAG[type], 156, 1)
  put(e.linkpath ?? '', 157, 100)
  put('ustar\0', 257, 6)
  put('00', 263, 2)
  let sum = 0
  for (const b of h) sum += b
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8)
  return h
}

/** The bytes of a tar archive holding `entries` in order. */
export function makeTar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = []
  for (const e of entries) {
    const body = e.body === undefined ? Buffer.alloc(0) : Buffer.from(e.body)
    const size = (e.type ?? 'file') === 'file' ? body.length : 0
    parts.push(header(e, size))
    if (size > 0) parts.push(body, Buffer.alloc((512 - (size % 512)) % 512))
  }
  parts.push(Buffer.alloc(1024))
  return Buffer.concat(parts)
}
