// The StreamingRuntime over our pods: exec runs a copy of the container's
// stored plan (pipes, or a pty made in the container), attach joins the
// container's attach socket (src/pod/attach-server.ts; the shim serves the
// same protocol), port-forward connects from inside the pod's network
// namespace (the addon's netns socket helper) to 127.0.0.1:<port>, as
// containerd and CRI-O connect to localhost in the sandbox.
import { closeSync, openSync } from 'node:fs'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { PodError } from '../../errors.js'
import { attachPod, prepareExec } from '../../manage/index.js'
import { closeNamespaces, connectInPod, execWithPipes, execWithTerminal, openNamespaces, type ExecTarget } from '../../pod/index.js'
import { resolvePod } from '../../state/index.js'
import type { AttachRequest, CommandIo, ExecRequest, StreamingRuntime, TerminalSize } from './types.js'

/** Where a CRI id leads among our pods (the CRI service knows its own id scheme). */
export interface StreamTargets {
  container(containerId: string): { root: string; pod: string; container: string }
  sandbox(podSandboxId: string): { root: string; pod: string }
}

/** Ids as the CLI names things: a container is `<pod>/<container>`, a sandbox is `<pod>` (name or id). */
export function podRefTargets(root: string): StreamTargets {
  return {
    container: id => {
      const slash = id.lastIndexOf('/')
      if (slash <= 0 || slash === id.length - 1) {
        throw new PodError(`streaming.target: ${id}: not <pod>/<container>`, { step: 'streaming.target', code: 'ENOENT', exitCode: 2 })
      }
      return { root, pod: id.slice(0, slash), container: id.slice(slash + 1) }
    },
    sandbox: id => ({ root, pod: id }),
  }
}

export class PodStreamingRuntime implements StreamingRuntime {
  constructor(private readonly targets: StreamTargets) {}

  async exec(req: ExecRequest, io: CommandIo): Promise<number> {
    const t = this.targets.container(req.containerId)
    const devNull = openSync('/dev/null', 'r+')
    let prepared: ReturnType<typeof prepareExec> | undefined
    let held = true
    const release = () => {
      if (!held) return
      held = false
      prepared?.close()
      closeSync(devNull)
    }
    try {
      prepared = prepareExec(t.root, t.pod, t.container, req.cmd, { newSession: true, devNull })
      return await streamExec(prepared.target, req, io, release)
    } finally {
      release()
    }
  }

  async attach(req: AttachRequest, io: CommandIo): Promise<void> {
    const t = this.targets.container(req.containerId)
    const conn = await attachPod(t.root, t.pod, t.container)
    if (io.size) conn.resize(io.size.height, io.size.width)
    io.onResize(s => conn.resize(s.height, s.width))
    conn.on('output', (stream: 'stdout' | 'stderr', data: Buffer) => {
      const to = stream === 'stdout' ? io.stdout : io.stderr
      if (to && !to.destroyed) to.write(data)
    })
    await new Promise<void>(resolve => {
      conn.once('exit', () => resolve())
      // The client's input ended: with stdinOnce the container's stdin closes; the session is over (containerd's attach).
      io.stdin?.on('data', (d: Buffer) => conn.write(d))
      io.stdin?.once('end', () => {
        conn.endInput()
        conn.close()
      })
      io.signal.addEventListener('abort', () => conn.close(), { once: true })
    })
  }

  async portForward(podSandboxId: string, port: number, stream: Duplex): Promise<void> {
    const t = this.targets.sandbox(podSandboxId)
    const { record: r, error } = resolvePod(t.root, t.pod)
    if (!r) throw error!
    if (!r.pause || r.phase !== 'Running') {
      throw new PodError(`port-forward: ${r.name}: the pod is not running (${r.phase})`, { step: 'port-forward', code: 'ESRCH' })
    }
    let ns = r.spec.hostNetwork ? undefined : openNamespaces(r.pause.pid, ['net'])
    const release = () => {
      if (ns) closeNamespaces(ns)
      ns = undefined
    }
    try {
      await forwardFrom(ns?.get('net'), port, stream, release)
    } finally {
      release()
    }
  }
}

/**
 * Run an exec for a streaming client: on pipes, or on a terminal made in the
 * container when `req.tty`; `started` runs once the process runs (the target's
 * fds may go then). Resolves with the exit code once its output was handed on.
 */
export async function streamExec(target: ExecTarget, req: ExecRequest, io: CommandIo, started: () => void = () => {}): Promise<number> {
  if (req.tty) {
    const size = (s?: TerminalSize) => (s ? { rows: s.height, cols: s.width } : undefined)
    const proc = await execWithTerminal(target, size(io.size))
    started()
    const { terminal } = proc
    io.onResize(s => proc.resize(size(s)!))
    if (io.size) proc.resize(size(io.size)!) // a size that came while it started
    // The client's end of input is not the terminal's: the process reads on until it exits (as containerd's exec).
    if (io.stdin) io.stdin.pipe(terminal, { end: false })
    if (io.stdout) terminal.pipe(io.stdout, { end: false })
    else terminal.resume()
    return relay(
      proc,
      io,
      () => io.stdin?.unpipe(terminal),
      () => {
        terminal.unpipe()
        terminal.resume()
      },
    )
  }
  const proc = await execWithPipes(target, { stdin: !!io.stdin })
  started()
  const { stdin, stdout, stderr } = proc
  if (io.stdin && stdin) io.stdin.pipe(stdin)
  for (const [from, to] of [
    [stdout, io.stdout],
    [stderr, io.stderr],
  ] as const) {
    if (to) from.pipe(to, { end: false })
    else from.resume()
  }
  const unpipeInput = () => io.stdin && stdin && io.stdin.unpipe(stdin)
  return relay(proc, io, unpipeInput, () => {
    unpipeInput()
    stdin?.destroy()
    for (const s of [stdout, stderr]) {
      s.unpipe()
      s.resume()
    }
  })
}

/** Wait for the exit; a client that left has its streams dropped (the command goes on, as with kubelet). */
async function relay(proc: { exited: Promise<{ exitCode: number }> }, io: CommandIo, done: () => void, drop: () => void): Promise<number> {
  io.signal.addEventListener('abort', drop, { once: true })
  try {
    return (await proc.exited).exitCode
  } finally {
    io.signal.removeEventListener('abort', drop)
    done()
  }
}

const CONNECT_TIMEOUT_MS = 10_000

/**
 * Connect to 127.0.0.1:`port` from the network namespace `netnsFd` (undefined:
 * the host's) and pipe `stream` both ways until either side ends; `connected`
 * runs once the socket is there (the namespace fd may go then).
 */
export async function forwardFrom(netnsFd: number | undefined, port: number, stream: Duplex, connected: () => void = () => {}): Promise<void> {
  const gone = new AbortController()
  const onClose = () => gone.abort()
  stream.once('close', onClose)
  let socket: Socket
  try {
    socket = await connectInPod(netnsFd, '127.0.0.1', port, CONNECT_TIMEOUT_MS, gone.signal)
  } finally {
    stream.off('close', onClose)
  }
  connected()
  await pipeBoth(stream, socket)
}

/** Copy both ways with half-closes passed on; resolves once both directions ended or either side was torn down. */
function pipeBoth(stream: Duplex, socket: Socket): Promise<void> {
  return new Promise<void>(resolve => {
    let done = false
    const finish = () => {
      if (done) return
      done = true
      socket.destroy()
      resolve()
    }
    socket.on('error', () => {})
    stream.pipe(socket) // the client's FIN becomes our FIN to the pod
    socket.pipe(stream) // and the pod's to the client
    socket.once('close', finish)
    stream.once('close', finish)
  })
}
