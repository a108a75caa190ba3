// The pod-launch command as a test runs it: a child node process on bin/pod-launch.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const BIN = fileURLToPath(new URL('../../bin/pod-launch', import.meta.url))

export interface Out {
  code: number
  stdout: string
  stderr: string
}

/** `pod-launch --root ROOT ARGS...`; resolves with its exit code and output (never rejects). */
export function cli(root: string, ...args: string[]): Promise<Out> {
  return new Promise(resolve =>
    execFile(process.execPath, [BIN, '--root', root, ...args], { maxBuffer: 1 << 24 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  )
}
