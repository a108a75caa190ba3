// A streaming zstd decompressor as a Node Transform. Node 20's zlib has no
// zstd (it arrives in 22.15); fzstd is a small pure-JS streaming decoder
// (no native build, no dependencies), so layers of any size decompress
// chunk by chunk without a second addon.
import { Transform } from 'node:stream'
import { Decompress } from 'fzstd'

export function createZstdDecompress(): Transform {
  // The decoder may hand out views of its window: copy each chunk before it moves on.
  const out: Transform = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        dec.push(chunk)
        cb()
      } catch (e) {
        cb(e as Error)
      }
    },
    flush(cb) {
      try {
        dec.push(new Uint8Array(0), true)
        cb()
      } catch (e) {
        cb(e as Error)
      }
    },
  })
  const dec = new Decompress(data => out.push(Buffer.from(data)))
  return out
}
