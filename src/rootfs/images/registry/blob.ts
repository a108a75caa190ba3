// Download one blob to a file, checking its size and sha256 while it
// streams (never held whole in memory): more bytes than the descriptor
// says stops the download at once; fewer, or another digest, fails it.
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { PodError } from '../../../errors.js'
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

/**
 * GET the blob `d` into `file`; `onBytes` sees each chunk's length.
 * Throws `registry.blob`, `image.verify` (IMAGE_DIGEST_MISMATCH, IMAGE_TRUNCATED), `image.store` (ENOSPC...).
 */
export async function downloadBlob(
  client: RegistryClient,
  image: string,
  d: Descriptor,
  file: string,
  onBytes: (n: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const res = await client.get(`${client.repositoryPath}/blobs/${d.digest}`, 'registry.blob')
  await client.expectOk(res, 'registry.blob', `blob ${d.digest}`)
  const hash = createHash('sha256')
  let n = 0
  const check = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length
      if (n > d.size) return cb(blobMismatch(image, d, `more than the ${d.size} bytes the manifest gives`))
      hash.update(chunk)
      onBytes(chunk.length)
      cb(null, chunk)
    },
  })
  const out = createWriteStream(file, { mode: 0o600 })
  try {
    await pipeline(res, check, out, signal ? { signal } : {})
  } catch (e) {
    if (e instanceof PodError) throw e
    const err = e as NodeJS.ErrnoException
    if (err.name === 'AbortError') throw e
    if (err.syscall === 'write' || err.syscall === 'open' || err.code === 'ENOSPC') throw PodError.system('image.store', e, file)
    // The connection dropped mid-body.
    if (n < d.size)
      throw new PodError(
        `image.verify: ${image}: blob ${d.digest}: truncated: the connection ended after ${n} of ${d.size} bytes (${err.code ?? err.message})`,
        { step: 'image.verify', code: 'IMAGE_TRUNCATED', hint: 'pull again; a proxy or the network cut the download' },
      )
    throw networkError('registry.blob', image, new URL(client.repositoryPath, 'http://registry'), e)
  }
  if (n < d.size)
    throw new PodError(`image.verify: ${image}: blob ${d.digest}: truncated: ${n} of ${d.size} bytes`, {
      step: 'image.verify',
      code: 'IMAGE_TRUNCATED',
      hint: 'pull again; a proxy or the network cut the download',
    })
  const got = `sha256:${hash.digest('hex')}`
  if (got !== d.digest) throw blobMismatch(image, d, `its content hashes to ${got}`)
}
