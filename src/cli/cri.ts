// `pod-launch cri`: serve the CRI on a unix socket until SIGINT or SIGTERM.
import { DEFAULT_CRI_LISTEN, serveCri } from '../index.js'
import type { Globals } from './globals.js'
import type { Io } from './output.js'

export interface CriFlags {
  listen?: string
  streamAddress?: string
  streamPort?: number
}

export async function criCommand(f: CriFlags, g: Globals, io: Io): Promise<number> {
  const server = await serveCri({
    listen: f.listen ?? DEFAULT_CRI_LISTEN,
    streamAddress: f.streamAddress,
    streamPort: f.streamPort,
    root: g.root,
    cgroupParent: g.cgroupParent,
    network: g.network,
    cniConfDir: g.cniConfDir,
    cniBinDir: g.cniBinDir,
    log: line => io.err(`${line}\n`),
  })
  io.err(
    `pod-launch cri: serving runtime.v1 on unix://${server.socket} (state root ${g.root}, ${server.runtime.sandboxes.size} sandbox(es) adopted), streaming on ${server.streamingUrl}\n`,
  )
  const signal = await new Promise<NodeJS.Signals>(resolve => {
    process.once('SIGINT', () => resolve('SIGINT'))
    process.once('SIGTERM', () => resolve('SIGTERM'))
  })
  // As containerd: stopping the runtime stops no pod; the next `pod-launch cri` on this root adopts them.
  io.err(`pod-launch cri: ${signal}: closing the socket; ${server.runtime.sandboxes.size} sandbox(es) run on under their shims\n`)
  await server.close(5000, false)
  return 0
}
