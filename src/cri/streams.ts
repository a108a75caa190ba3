// The streaming server's runtime over the CRI's own records (issue 20):
// Exec runs a copy of the container's stored plan (pipes, or a terminal made
// in the container), Attach joins the running container's stdio through its
// ProcessHost handle (the same sessions `pod-launch attach` gets), PortForward
// connects to 127.0.0.1:<port> from the sandbox's network namespace, as
// containerd and CRI-O do.
import type { Duplex } from 'node:stream'
import { planExec } from '../pod/index.js'
import type { AttachClient, AttachedIo } from '../pod/stdio.js'
import { forwardFrom, streamExec, type AttachRequest, type CommandIo, type ExecRequest, type StreamingRuntime } from './streaming/index.js'
import type { ContainerRecord, CriRuntime, SandboxRecord } from './runtime.js'
import { criError } from './status.js'

export class CriStreams implements StreamingRuntime {
  constructor(private readonly rt: CriRuntime) {}

  /** The container, running; throws NOT_FOUND or FAILED_PRECONDITION (step `cri.Exec`...). */
  running(step: string, id: string): ContainerRecord & { process: NonNullable<ContainerRecord['process']> } {
    const c = this.rt.mustContainer(step, id)
    if (c.state !== 'CONTAINER_RUNNING' || !c.process) throw criError(step, `container ${c.id}`, 'is not running', 'FAILED_PRECONDITION')
    return c as ContainerRecord & { process: NonNullable<ContainerRecord['process']> }
  }

  exec(req: ExecRequest, io: CommandIo): Promise<number> {
    const c = this.running('cri.Exec', req.containerId)
    const s = this.rt.mustSandbox('cri.Exec', c.sandboxId).sandbox
    const target = {
      pid: c.process.pid,
      plan: planExec(c.created.plan, req.cmd),
      shared: s.shared,
      devNull: s.devNull,
      enter: (p: number) => s.cgroups.enter(p, c.created.spec.name, { exec: true }),
    }
    return streamExec(target, req, io)
  }

  /** Output from now on, input and resizes, until the run ends or the client leaves (its input's end too, as containerd's attach). */
  async attach(req: AttachRequest, io: CommandIo): Promise<void> {
    const c = this.running('cri.Attach', req.containerId)
    const proc = c.process
    let session: AttachedIo | undefined
    let finish = () => {}
    const over = new Promise<void>(resolve => (finish = resolve))
    const client: AttachClient = {
      started: a => (session = a),
      output: (stream, data) => {
        const to = stream === 'stdout' ? io.stdout : io.stderr
        if (to && !to.destroyed) to.write(data)
      },
      ended: () => finish(),
    }
    proc.attach(client)
    try {
      const size = (s: { width: number; height: number }) => session?.resize({ rows: s.height, cols: s.width })
      if (io.size) size(io.size)
      io.onResize(size)
      io.stdin?.on('data', (d: Buffer) => session?.write(d))
      io.stdin?.once('end', finish)
      io.signal.addEventListener('abort', finish, { once: true })
      // A run that ended before we joined never calls ended().
      void c.exited?.then(finish)
      await over
    } finally {
      proc.detach(client)
      session?.end()
    }
  }

  /** The sandbox, ready; throws NOT_FOUND or FAILED_PRECONDITION. */
  ready(step: string, id: string): SandboxRecord {
    const s = this.rt.mustSandbox(step, id)
    if (s.state !== 'SANDBOX_READY') throw criError(step, `sandbox ${s.id}`, 'is not ready (stopped)', 'FAILED_PRECONDITION')
    return s
  }

  async portForward(podSandboxId: string, port: number, stream: Duplex): Promise<void> {
    const s = this.ready('cri.PortForward', podSandboxId)
    // hostNetwork: no namespace of its own, the host's 127.0.0.1.
    await forwardFrom(s.sandbox.shared.get('net'), port, stream)
  }
}
