// One exec or attach, whatever carries it (SPDY streams or WebSocket
// channels): run it on the runtime, then report how it ended on the error
// stream, as kubelet's server does (remotecommand ServeExec/ServeAttach).
import type { Writable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { SUCCESS, exitStatus, internalError, type StreamStatus } from './status.js'
import type { Parked } from './tokens.js'
import type { CommandIo, StreamingRuntime, TerminalSize } from './types.js'

export type CommandRequest = Extract<Parked, { kind: 'exec' | 'attach' }>

/** The resize listeners of one session, and the latest size. */
export class Resizes {
  private readonly listeners: ((s: TerminalSize) => void)[] = []
  last?: TerminalSize

  on(l: (s: TerminalSize) => void): void {
    this.listeners.push(l)
  }

  emit(sizes: TerminalSize[]): void {
    for (const s of sizes) {
      this.last = s
      this.listeners.forEach(l => l(s))
    }
  }
}

/** End `w` (once) and wait until what was written to it is handed on; never rejects. */
export async function endAndFlush(w: Writable | undefined): Promise<void> {
  if (!w || w.destroyed) return
  if (!w.writableEnded) w.end()
  await finished(w, { readable: false }).catch(() => {})
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e))

/** Run the command; resolves with the status to write (never rejects) once stdout and stderr were ended and flushed. */
export async function runCommand(runtime: StreamingRuntime, parked: CommandRequest, io: CommandIo): Promise<StreamStatus> {
  try {
    if (parked.kind === 'exec') {
      const code = await runtime.exec(parked.req, io)
      return code === 0 ? SUCCESS : exitStatus(parked.req.cmd, code)
    }
    await runtime.attach(parked.req, io)
    return SUCCESS
  } catch (e) {
    return internalError(parked.kind === 'exec' ? `error executing command in container: ${message(e)}` : `error attaching to container: ${message(e)}`)
  } finally {
    await Promise.all([endAndFlush(io.stdout), endAndFlush(io.stderr)])
  }
}

export function makeIo(parts: Omit<CommandIo, 'onResize' | 'size'>, resizes: Resizes): CommandIo {
  return {
    ...parts,
    onResize: l => resizes.on(l),
    get size() {
      return resizes.last
    },
  }
}
