// A HostedProcess's attach() for a process of the shim: an AttachClient
// joined through the shim's attach socket (`<pod dir>/attach/<name>.sock`,
// the framing of pod/attach-protocol.ts), so a server that adopted the pod
// after a restart attaches as the one that started it (CRI Attach).
import { connect, type Socket } from 'node:net'
import { FRAME, FrameDecoder, encodeFrame, resizeFrame } from '../pod/attach-protocol.js'
import { attachDir, attachFile, socketAddress } from '../pod/attach-server.js'
import type { AttachClient } from '../pod/stdio.js'

/** Connect `client` to process `name` of the shim of `podDir`; returns what ends the session (the process runs on). */
export function attachThroughShim(podDir: string, name: string, client: AttachClient): () => void {
  const addr = socketAddress(attachDir(podDir), attachFile(name))
  const socket: Socket = connect(addr.path)
  let released = false
  const release = () => {
    if (!released) addr.close()
    released = true
  }
  socket.once('connect', release)
  const decoder = new FrameDecoder()
  let ended = false
  const end = (code: number) => {
    if (ended) return
    ended = true
    client.ended(code)
  }
  const send = (b: Buffer) => socket.writable && socket.write(b)
  let hello: { tty: boolean; stdin: boolean } | undefined
  // At once, as a direct host does: input and sizes given before the shim's HELLO wait in the socket's buffer.
  client.started({
    get tty() {
      return hello?.tty ?? false
    },
    get stdin() {
      return hello?.stdin ?? false
    },
    write: d => void (d.length && send(encodeFrame(FRAME.STDIN, d))),
    resize: s => void send(resizeFrame(s.rows, s.cols)),
    end: () => void send(encodeFrame(FRAME.STDIN_END)),
  })
  socket.on('data', chunk => {
    let frames
    try {
      frames = decoder.push(chunk)
    } catch {
      socket.destroy()
      return
    }
    for (const f of frames) {
      if (f.type === FRAME.HELLO) {
        hello = JSON.parse(f.payload.toString('utf8')) as { tty: boolean; stdin: boolean }
      } else if (f.type === FRAME.STDOUT || f.type === FRAME.STDERR) {
        client.output(f.type === FRAME.STDOUT ? 'stdout' : 'stderr', f.payload)
      } else if (f.type === FRAME.EXIT) {
        end((JSON.parse(f.payload.toString('utf8')) as { exitCode: number }).exitCode)
      }
    }
  })
  socket.on('error', () => {})
  // Not running (ERROR), or the shim went away: the session is over, the caller sees the exit from the shim's events.
  socket.on('close', () => {
    release()
    end(-1)
  })
  return () => {
    socket.end()
  }
}
