// A container's stdout/stderr: read the pipe in libuv (no threadpool), split lines.
import { Socket } from 'node:net'

export type Stream = 'stdout' | 'stderr'

export interface OutputLine {
  container: string
  stream: Stream
  line: string
}

/** Read a pipe fd to EOF, calling `onLine` per line; resolves at EOF. */
export function readLines(fd: number, onLine: (line: string) => void): { done: Promise<void>; destroy: () => void } {
  const socket = new Socket({ fd, readable: true, writable: false })
  socket.setEncoding('utf8')
  let rest = ''
  socket.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n')
    rest = parts.pop()!
    for (const line of parts) onLine(line)
  })
  const done = new Promise<void>(resolve => {
    socket.on('close', () => {
      if (rest) onLine(rest)
      rest = ''
      resolve()
    })
    socket.on('error', () => {}) // 'close' follows
  })
  return { done, destroy: () => socket.destroy() }
}
