// Unpack one layer tar (plain, gzip or zstd) into a directory in the form overlayfs
// takes as a lowerdir: `.wh.<name>` becomes a whiteout (character device 0:0)
// and `.wh..wh..opq` the xattr trusted.overlay.opaque=y on its directory
// (kernel Documentation/filesystems/overlayfs.rst, OCI image-spec layer.md).
// Extended attributes in PAX headers (security.capability, user.*) are set
// on the files, after chown (which clears file capabilities). The
// uncompressed stream is counted as it flows: past `maxBytes` the unpack
// stops, and the free space of the destination is checked as it grows.
// Returns the sha256 of the uncompressed stream (the layer's diffID).
import { createHash } from 'node:crypto'
import {
  chmodSync,
  closeSync,
  constants as fsc,
  createReadStream,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { once } from 'node:events'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { Parser, type ReadEntry } from 'tar'
import { PodError } from '../../errors.js'
import { native } from '../../spawn/native.js'
import { paceBuffers } from './gc-pacer.js'
import { createZstdDecompress } from './zstd.js'
import { UnsafeEntry, ensureParents, entryComponents, existingTarget, lstatOrNull } from './safe-path.js'
import { TarXattrScanner } from './tar-xattrs.js'
import { OPAQUE_XATTR } from './run-config.js'

export const WHITEOUT_PREFIX = '.wh.'
export const OPAQUE_MARKER = '.wh..wh..opq'

export interface Unpacked {
  /** `sha256:<hex>` of the uncompressed tar. */
  diffId: string
  /** Bytes of regular file content written. */
  size: number
  /** Bytes of the uncompressed tar stream. */
  streamBytes: number
}

export type Compression = 'tar' | 'gzip' | 'zstd'

export interface UnpackOptions {
  compression: Compression
  /** Names the layer in messages (its digest or archive path). */
  label: string
  onWarning?: (message: string) => void
  /** Stop once the uncompressed stream passes this many bytes, with the error `tooLarge` gives. */
  maxBytes?: number
  tooLarge?: () => Error
  /** Called before the first entry, then again after as many stream bytes as it returns; throws to stop (free space). */
  checkSpace?: () => number
}
/** Never set from a layer: they would change what overlayfs shows (opaque dirs, redirects). */
const REFUSED_XATTR = /^trusted\.overlay\./

/** Remove whatever an earlier entry left at `path` (tar semantics: the later entry wins); true when something was. */
function clear(path: string, keepDir = false): boolean {
  const st = lstatOrNull(path)
  if (st === null || (keepDir && st.isDirectory())) return false
  if (st.isDirectory()) rmSync(path, { recursive: true, force: true })
  else unlinkSync(path)
  return true
}

function fsCall<T>(step: string, path: string, fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    throw PodError.system(step, e, path)
  }
}

class LayerWriter {
  size = 0
  /** Directories checked or made (ensureParents), forgotten whenever anything is removed. */
  private readonly dirs = new Set<string>()
  constructor(
    private readonly root: string,
    private readonly opts: UnpackOptions,
    private readonly xattrs: TarXattrScanner,
  ) {}

  /** The entry's PAX xattrs on `path` (after chown/chmod); a filesystem that refuses one is a warning. */
  private setXattrs(entry: string, path: string): void {
    const x = this.xattrs.take(entry)
    if (!x) return
    for (const [name, value] of x) {
      if (REFUSED_XATTR.test(name)) {
        this.warn(entry, `xattr ${name} is not taken from a layer (skipped)`)
        continue
      }
      try {
        native().lsetxattr(path, name, value)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EPERM') throw PodError.system('image.unpack', err, path)
        this.warn(entry, `xattr ${name} could not be set (${code}): skipped`)
      }
    }
  }

  private clear(path: string, keepDir = false): void {
    if (clear(path, keepDir)) this.dirs.clear()
  }

  private warn(entry: string, what: string): void {
    this.opts.onWarning?.(`image.unpack: ${this.opts.label}: ${entry}: ${what}`)
  }

  /** Handle one entry; file data is written as it streams. */
  entry(e: ReadEntry, fail: (err: unknown) => void): void {
    const parts = entryComponents(e.path)
    if (parts.length === 0) return void e.resume() // the layer root itself
    const base = parts[parts.length - 1]
    const uid = e.uid ?? 0
    const gid = e.gid ?? 0
    const mode = (e.mode ?? 0o644) & 0o7777
    if (base.startsWith(WHITEOUT_PREFIX)) return void (this.whiteout(e.path, parts), e.resume())
    const path = ensureParents(this.root, parts, e.path, this.dirs)
    switch (e.type) {
      case 'Directory':
        this.clear(path, true)
        if (lstatOrNull(path) === null) mkdirSync(path, { mode: 0o700 })
        lchownSync(path, uid, gid)
        chmodSync(path, mode)
        this.setXattrs(e.path, path)
        return void e.resume()
      case 'File':
      case 'OldFile':
      case 'ContiguousFile': {
        this.clear(path)
        const fd = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600)
        e.on('data', (chunk: Buffer) => {
          try {
            writeSync(fd, chunk)
            this.size += chunk.length
          } catch (err) {
            fail(PodError.system('image.unpack', err, path))
          }
        })
        e.on('end', () => {
          try {
            fchownSync(fd, uid, gid)
            fchmodSync(fd, mode) // after chown, which clears set-id bits
            if (e.mtime) futimesSync(fd, e.mtime, e.mtime)
            closeSync(fd)
            this.setXattrs(e.path, path)
          } catch (err) {
            fail(PodError.system('image.unpack', err, path))
          }
        })
        return
      }
      case 'SymbolicLink':
        if (!e.linkpath) throw new UnsafeEntry(`symlink "${e.path}" has no target`)
        this.clear(path)
        symlinkSync(e.linkpath, path)
        lchownSync(path, uid, gid)
        this.setXattrs(e.path, path)
        return void e.resume()
      case 'Link': {
        const target = existingTarget(this.root, entryComponents(e.linkpath ?? '', 'hardlink target'), e.path)
        this.clear(path)
        linkSync(target, path)
        this.setXattrs(e.path, path)
        return void e.resume()
      }
      default:
        this.warn(e.path, `${e.type} entries are not unpacked (skipped)`)
        return void e.resume()
    }
  }

  private whiteout(entry: string, parts: string[]): void {
    const base = parts[parts.length - 1]
    if (base === OPAQUE_MARKER) {
      const dir = ensureParents(this.root, [...parts.slice(0, -1), '.'], entry, this.dirs)
      fsCall('image.unpack', dir, () => native().lsetxattr(dir, OPAQUE_XATTR, 'y'))
      return
    }
    if (base.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX)) return this.warn(entry, 'unknown .wh..wh. marker (skipped)')
    const name = base.slice(WHITEOUT_PREFIX.length)
    if (name === '' || name === '.' || name === '..') throw new UnsafeEntry(`whiteout "${entry}" names no file`)
    const path = ensureParents(this.root, [...parts.slice(0, -1), name], entry, this.dirs)
    this.clear(path)
    fsCall('image.unpack', path, () => native().mknod(path, fsc.S_IFCHR, 0, 0))
  }
}

/**
 * Unpack the layer blob `source` (a file, or a stream such as a download
 * being verified) into the existing empty directory `dest`.
 * Throws `image.unpack` (IMAGE_LAYER_UNSAFE for an entry that would escape
 * `dest`, IMAGE_INVALID for a corrupt tar).
 */
export async function unpackLayer(source: string | Readable, dest: string, opts: UnpackOptions): Promise<Unpacked> {
  const file = typeof source === 'string' ? source : undefined
  const hash = createHash('sha256')
  const xattrs = new TarXattrScanner()
  const writer = new LayerWriter(dest, opts, xattrs)
  let streamBytes = 0
  let nextCheck = 0
  const parser = new Parser({ strict: true })
  let failure: unknown
  const fail = (err: unknown) => {
    if (failure !== undefined) return
    failure = err
    parser.abort(err instanceof Error ? err : new Error(String(err)))
  }
  parser.on('entry', (e: ReadEntry) => {
    if (failure !== undefined) return void e.resume()
    try {
      writer.entry(e, fail)
    } catch (err) {
      e.resume()
      fail(err)
    }
  })
  const done = new Promise<void>((resolve, reject) => {
    parser.on('error', reject)
    parser.on('end', resolve)
    parser.on('close', resolve)
  })
  done.catch(() => {}) // awaited below; an abort must not surface as an unhandled rejection first
  try {
    const sink = async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        if (failure !== undefined) throw failure
        streamBytes += chunk.length
        try {
          if (opts.maxBytes !== undefined && streamBytes > opts.maxBytes) throw opts.tooLarge?.() ?? new Error(`more than ${opts.maxBytes} bytes`)
          if (opts.checkSpace && streamBytes >= nextCheck) nextCheck = streamBytes + opts.checkSpace()
        } catch (err) {
          fail(err) // the reason, not the pipeline's abort of the decompressor
          throw err
        }
        hash.update(chunk)
        paceBuffers(chunk.length)
        xattrs.feed(chunk)
        if (!parser.write(chunk)) await Promise.race([once(parser, 'drain'), done])
      }
      parser.end()
    }
    const input = typeof source === 'string' ? createReadStream(source, { highWaterMark: 256 << 10 }) : source
    if (opts.compression === 'gzip') await pipeline(input, createGunzip({ chunkSize: 256 << 10 }), sink)
    else if (opts.compression === 'zstd') await pipeline(input, createZstdDecompress(), sink)
    else await pipeline(input, sink)
    await done
    if (failure !== undefined) throw failure
  } catch (err) {
    const e = failure ?? err
    if (e instanceof PodError) throw e
    if (e instanceof UnsafeEntry) {
      throw new PodError(`image.unpack: ${opts.label}: ${e.message}`, {
        step: 'image.unpack',
        code: 'IMAGE_LAYER_UNSAFE',
        path: file,
        hint: 'the layer tries to write outside its directory: this archive is malformed or malicious; nothing was written outside the store',
      })
    }
    // zlib's errors carry its own negative errno (Z_DATA_ERROR is -3): a corrupt stream, not a system call.
    const sys = e as NodeJS.ErrnoException
    if (sys?.errno !== undefined && !sys.code?.startsWith('Z_')) throw PodError.system('image.unpack', e, opts.label)
    throw new PodError(
      `image.unpack: ${opts.label}: not a valid tar${{ tar: '', gzip: '.gz', zstd: '.zst' }[opts.compression]} (${(e as Error)?.message ?? e})`,
      {
        step: 'image.unpack',
        code: 'IMAGE_INVALID',
        path: file,
        cause: e,
      },
    )
  }
  return { diffId: `sha256:${hash.digest('hex')}`, size: writer.size, streamBytes }
}
