// What goes on a remotecommand error stream when the command ends: a
// metav1.Status as JSON for v4 and later (exit code as a NonZeroExitCode cause),
// or, before v4, the bare message of a failure and nothing on success.
import type { TerminalSize } from './types.js'

export interface StreamStatus {
  status: 'Success' | 'Failure'
  message?: string
  reason?: string
  details?: { causes: { reason: string; message: string }[] }
  code?: number
}

export const SUCCESS: StreamStatus = { status: 'Success' }

export function exitStatus(cmd: string[], exitCode: number): StreamStatus {
  return {
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${cmd.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  }
}

export function internalError(message: string): StreamStatus {
  return { status: 'Failure', message: `Internal error occurred: ${message}`, reason: 'InternalError', code: 500 }
}

/** The bytes for the error stream: v4+ writes the Status as JSON; older versions only a failure's message. */
export function encodeStatus(s: StreamStatus, json: boolean): Buffer {
  if (json) return Buffer.from(JSON.stringify(s))
  return Buffer.from(s.status === 'Success' ? '' : (s.message ?? ''))
}

/**
 * The resize stream: JSON objects `{"Width":80,"Height":24}`, one after
 * another (Go's json.Encoder ends each with a newline). Feed bytes, get sizes;
 * malformed input is dropped up to the next newline.
 */
export class ResizeDecoder {
  private buf = ''

  push(chunk: Buffer): TerminalSize[] {
    this.buf += chunk.toString('utf8')
    const out: TerminalSize[] = []
    let nl: number
    while ((nl = this.buf.indexOf('\n')) >= 0 || this.complete()) {
      const line = nl >= 0 ? this.buf.slice(0, nl) : this.buf
      this.buf = nl >= 0 ? this.buf.slice(nl + 1) : ''
      const size = parseSize(line)
      if (size) out.push(size)
    }
    if (this.buf.length > 4096) this.buf = ''
    return out
  }

  /** A WebSocket resize message is one whole object without a newline. */
  private complete(): boolean {
    return this.buf.trim().endsWith('}') && parseSize(this.buf) !== undefined
  }
}

function parseSize(text: string): TerminalSize | undefined {
  if (!text.trim()) return undefined
  try {
    const v = JSON.parse(text) as { Width?: unknown; Height?: unknown }
    const width = Number(v.Width)
    const height = Number(v.Height)
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0 || width > 65535 || height > 65535) return undefined
    return { width, height }
  } catch {
    return undefined
  }
}
