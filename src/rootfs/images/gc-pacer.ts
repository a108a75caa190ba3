// Node allocates a fresh buffer for every socket read and for every chunk
// gunzip hands out, and V8 frees them only at a collection, which it starts
// by the JS heap's growth, not the buffers' (it lets ~32 MiB of young
// buffers pile up, and a 1 GiB download through Node's http peaks at 115 MB
// of RSS with nothing else running). A pull streams gigabytes through such
// buffers while its JS heap hardly grows, so it asks for a young-generation
// collection itself, once per PACE_BYTES of blob or tar stream: the pull of
// a 1 GiB layer then peaks at 84-87 MB of RSS instead of 105-112 (the bare
// download at 75 MB; bench/README.md "Pulls"), for well under 1 ms per
// collection (the young generation holds little but those buffers). The collector is reached the way Jest's leak detector
// does (the --expose-gc flag set at run time, the function taken from a
// fresh context); where that is refused, nothing is paced.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

export const PACE_BYTES = 4 << 20

type Collect = (o: { type: 'minor' | 'major' }) => void
let collect: Collect | null | undefined
let since = 0

function collector(): Collect | null {
  if (collect !== undefined) return collect
  try {
    setFlagsFromString('--expose-gc')
    collect = runInNewContext('gc') as Collect
  } catch {
    collect = null
  } finally {
    setFlagsFromString('--no-expose-gc')
  }
  return collect
}

/** Count `bytes` that went through fresh buffers; every PACE_BYTES, collect the young generation. */
export function paceBuffers(bytes: number): void {
  since += bytes
  if (since < PACE_BYTES) return
  since = 0
  collector()?.({ type: 'minor' })
}
