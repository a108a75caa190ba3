// What the streaming server serves and what it needs from the runtime behind
// it. The requests carry the CRI's field names (ExecRequest, AttachRequest,
// PortForwardRequest of runtime.v1), so the gRPC service hands them over as
// they came.
import type { Duplex, Readable, Writable } from 'node:stream'

export interface ExecRequest {
  containerId: string
  cmd: string[]
  tty: boolean
  stdin: boolean
  stdout: boolean
  stderr: boolean
}

export type AttachRequest = Omit<ExecRequest, 'cmd'>

export interface PortForwardRequest {
  podSandboxId: string
  /** The ports a WebSocket client may forward when it names none (CRI `port`). */
  port: number[]
}

/** A terminal size as the remotecommand protocol sends it. */
export interface TerminalSize {
  width: number
  height: number
}

/** The client's side of one exec or attach: only the streams it asked for are there. */
export interface CommandIo {
  stdin?: Readable
  stdout?: Writable
  stderr?: Writable
  tty: boolean
  /** Window sizes the client sends (resize stream); the latest is also kept in `size`. */
  onResize(listener: (size: TerminalSize) => void): void
  size?: TerminalSize
  /** Aborted when the client went away. */
  signal: AbortSignal
}

/**
 * The runtime behind the server. Errors thrown reach the client as an
 * InternalError status; an exec's exit code as the NonZeroExitCode status.
 */
export interface StreamingRuntime {
  /** Run `req.cmd` in the container; resolves with its exit code once its output was delivered. */
  exec(req: ExecRequest, io: CommandIo): Promise<number>
  /** Join the container's stdio until it exits or the client leaves. */
  attach(req: AttachRequest, io: CommandIo): Promise<void>
  /** Connect to `port` inside the sandbox's network namespace and pipe `stream` both ways until either side ends. */
  portForward(podSandboxId: string, port: number, stream: Duplex): Promise<void>
}
