// Read a file a user named (a seccomp profile, a manifest, a CNI config) with
// a size cap, so /dev/zero or a FIFO can never hang or exhaust us. O_NONBLOCK
// keeps open(2) of a FIFO from waiting for a writer; fstat on the open fd
// (not the path) decides what it is, so a swap after the check cannot matter.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'

/** Thrown with code 'ENOTREG' (not a regular file) or 'EFBIG' (over the cap); fs errors pass through. */
export class BoundedReadError extends Error {
  constructor(
    message: string,
    readonly code: 'ENOTREG' | 'EFBIG',
  ) {
    super(message)
  }
}

/**
 * The bytes of `path`, at most `maxBytes`. `regularOnly` (the default)
 * refuses anything but a regular file; without it a pipe such as /dev/stdin
 * is read too, still never beyond the cap.
 */
export function readBounded(path: string, maxBytes: number, regularOnly = true): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOCTTY | (regularOnly ? constants.O_NONBLOCK : 0))
  try {
    const st = fstatSync(fd)
    if (regularOnly && !st.isFile()) throw new BoundedReadError('not a regular file', 'ENOTREG')
    if (st.isFile() && st.size > maxBytes) throw new BoundedReadError(`larger than ${maxBytes} bytes`, 'EFBIG')
    const buf = Buffer.alloc(Math.min(maxBytes + 1, st.isFile() ? st.size + 1 : maxBytes + 1))
    let n = 0
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null)
      if (got === 0) break
      n += got
      if (n > maxBytes) throw new BoundedReadError(`larger than ${maxBytes} bytes`, 'EFBIG')
      if (n === buf.length) break // a regular file that grew past its stat size: read what was there
    }
    return buf.subarray(0, n)
  } finally {
    closeSync(fd)
  }
}
