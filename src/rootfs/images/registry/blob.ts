// One blob from the registry as a stream that checks its size and sha256
// as the bytes pass (never held whole in memory): more bytes than the
// descriptor says stops it at once; fewer, a dropped connection, or another
// digest end it with an error. The reader (the layer unpacker) sees every
// failure as a PodError, and when the reader gives up first (a gzip or tar
// error), `verdict` still reads the rest of the body, so a corrupt download
// is reported as the digest mismatch it is, not as a bad tar.
import { createHash } from 'node:crypto'
import { close, open, writev } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { PodError } from '../../../errors.js'
import { paceBuffers } from '../gc-pacer.js'
import type { Descriptor } from '../manifest.js'
import type { RegistryClient } from './client.js'
import { networkError } from './http.js'

export function blobMismatch(image: string, d: Descriptor, what: string): PodError {
  return new PodError(`image.verify: ${image}: blob ${d.digest}: ${what}`, {
    step: 'image.verify',
    code: 'IMAGE_DIGEST_MISMATCH',
    hint: 'the registry (or a proxy between) served other bytes than the manifest names: nothing was stored; pull again',
  })
}

function truncated(image: string, d: Descriptor, n: number, why?: string): PodError {
  const what = why ? `the connection ended after ${n} of ${d.size} bytes (${why})` : `${n} of ${d.size} bytes`
  return new PodError(`image.verify: ${image}: blob ${d.digest}: truncated: ${what}`, {
    step: 'image.verify',
    code: 'IMAGE_TRUNCATED',
    hint: 'pull again; a proxy or the network cut the download',
  })
}

export class BlobStream extends Readable {
  /** Resolves once the whole body is read: undefined when it is the blob, else why not. */
  readonly verdict: Promise<PodError | undefined>
  private settle!: (e: PodError | undefined) => void
  private n = 0
  private readonly hash = createHash('sha256')
  private over = false

  constructor(
    private readonly res: IncomingMessage,
    private readonly image: string,
    private readonly d: Descriptor,
    where: URL,
    private readonly onBytes: (n: number) => void,
  ) {
    super({ highWaterMark: 1 << 20 })
    this.verdict = new Promise(resolve => (this.settle = resolve))
    res.on('data', (chunk: Buffer) => this.onChunk(chunk))
    res.on('end', () => this.onEnd())
    res.on('error', e =>
      this.fail(this.n < d.size ? truncated(image, d, this.n, (e as NodeJS.ErrnoException).code ?? e.message) : networkError('registry.blob', image, where, e)),
    )
    res.on('aborted', () => this.fail(truncated(image, d, this.n, 'aborted')))
  }

  private onChunk(chunk: Buffer): void {
    if (this.over) return
    this.n += chunk.length
    if (this.n > this.d.size) {
      this.res.destroy()
      return this.fail(blobMismatch(this.image, this.d, `more than the ${this.d.size} bytes the manifest gives`))
    }
    this.hash.update(chunk)
    paceBuffers(chunk.length)
    if (this.destroyed) return // the reader gave up: keep hashing for the verdict
    this.onBytes(chunk.length)
    if (!this.push(chunk)) this.res.pause()
  }

  private onEnd(): void {
    if (this.over) return
    const got = `sha256:${this.hash.digest('hex')}`
    if (this.n < this.d.size) return this.fail(truncated(this.image, this.d, this.n))
    if (got !== this.d.digest) return this.fail(blobMismatch(this.image, this.d, `its content hashes to ${got}`))
    this.over = true
    this.settle(undefined)
    if (!this.destroyed) this.push(null)
  }

  private fail(e: PodError): void {
    if (this.over) return
    this.over = true
    this.settle(e)
    if (!this.destroyed) this.destroy(e)
  }

  override _read(): void {
    this.res.resume()
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    // The reader stopped early (its own error): read on, for the verdict; an abort stops the download too.
    if (!this.over) {
      if (err?.name === 'AbortError') {
        this.over = true
        this.settle(undefined)
        this.res.destroy()
      } else this.res.resume()
    }
    cb(err)
  }
}

/**
 * GET the blob `d`; `onBytes` sees each chunk's length as it passes. Throws
 * `registry.blob` (network codes, 404...); the stream fails with
 * `image.verify` (IMAGE_DIGEST_MISMATCH, IMAGE_TRUNCATED) or `registry.blob`.
 */
export async function openBlob(client: RegistryClient, image: string, d: Descriptor, onBytes: (n: number) => void): Promise<BlobStream> {
  const path = `${client.repositoryPath}/blobs/${d.digest}`
  const res = await client.get(path, 'registry.blob')
  await client.expectOk(res, 'registry.blob', `blob ${d.digest}`)
  return new BlobStream(res, image, d, client.urlOf(path), onBytes)
}

/** Bytes gathered before one writev: a socket read is 64 KiB at most, and each write wakes a pool thread. */
const WRITE_BATCH = 1 << 20

/**
 * `file` (created: flags wx, mode 0600) written in batches of WRITE_BATCH bytes, one writev
 * each on the libuv pool (a fs.WriteStream writes whatever queued while its last write ran,
 * ~100 KiB here): a chunk is taken at once until a batch is full, so at most one batch waits
 * and one is written (backpressure holds the rest in the socket).
 */
class BlobFile extends Writable {
  private fd = -1
  private batch: Buffer[] = []
  private bytes = 0
  /** A writev runs on the pool: the fd is closed only after it (never reused under it). */
  private writing = false
  private closeAfterWrite?: () => void

  constructor(private readonly file: string) {
    super({ highWaterMark: WRITE_BATCH })
  }

  override _construct(cb: (e?: Error | null) => void): void {
    open(this.file, 'wx', 0o600, (e, fd) => {
      if (!e) this.fd = fd
      cb(e)
    })
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.batch.push(chunk)
    this.bytes += chunk.length
    if (this.bytes < WRITE_BATCH) return cb()
    this.flush(cb)
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.flush(cb)
  }

  private flush(cb: (e?: Error | null) => void): void {
    const bufs = this.batch
    this.batch = []
    this.bytes = 0
    const next = (e: Error | null, written: number): void => {
      this.writing = false
      if (this.closeAfterWrite) return this.closeAfterWrite()
      if (e) return cb(e)
      // A short write (rare on a file): the rest again.
      while (written > 0 && bufs.length) {
        const b = bufs[0]
        if (written >= b.length) {
          written -= b.length
          bufs.shift()
        } else {
          bufs[0] = b.subarray(written)
          written = 0
        }
      }
      if (!bufs.length) return cb()
      this.writing = true
      writev(this.fd, bufs, next)
    }
    next(null, 0)
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    const fd = this.fd
    this.fd = -1
    if (fd < 0) return cb(err)
    const shut = () => close(fd, e => cb(err ?? e))
    if (this.writing) this.closeAfterWrite = shut
    else shut()
  }
}

/**
 * GET the blob `d` into `file` (created, 0600), its size and sha256 checked
 * as it is written: when this resolves the file is the blob. `signal` stops
 * it (a failed config, Ctrl-C) with an AbortError, also when it fires while
 * the request waits for its answer: the body is then not read. Throws as
 * openBlob, and `image.pull` for a write that fails (ENOSPC...).
 */
export async function downloadBlob(
  client: RegistryClient,
  image: string,
  d: Descriptor,
  file: string,
  onBytes: (n: number) => void,
  signal: AbortSignal,
): Promise<void> {
  const body = await openBlob(client, image, d, onBytes)
  try {
    // An aborted signal destroys the body with an AbortError (BlobStream then drops the connection).
    await pipeline(body, new BlobFile(file), { signal })
  } catch (e) {
    if (e instanceof PodError || (e as Error).name === 'AbortError') throw e
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new PodError(`image.pull: ${image}: layer ${d.digest}: no space left on the store's filesystem`, {
        step: 'image.pull',
        code: 'ENOSPC',
        path: file,
        cause: e,
        hint: 'nothing was stored; free space on the filesystem of the state root (pod-launch gc, image rm) or use another --root',
      })
    }
    throw PodError.system('image.pull', e, file)
  }
}
