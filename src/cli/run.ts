// `pod-launch run FILE` (and the short form `pod-launch FILE`): foreground pod.
import { startPod, type PodResult } from '../index.js'
import type { Io } from './output.js'

export interface RunArgs {
  manifest: string
  gracePeriod?: number
}

/** Run in the foreground: Ctrl-C stops gracefully, a second Ctrl-C kills. */
export async function runCommand(args: RunArgs, io: Io): Promise<number> {
  const pod = await startPod(args.manifest, { onManifestWarning: m => io.err(`warning: ${m}\n`) })
  let interrupts = 0
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++
    const grace = interrupts > 1 ? 0 : (args.gracePeriod ?? pod.spec.terminationGracePeriodSeconds)
    io.err(`pod-launch: ${sig}: stopping pod ${pod.name} (grace ${grace}s${interrupts === 1 ? ', again to kill now' : ''})\n`)
    void pod.stop(grace)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let result: PodResult
  try {
    result = await pod.wait()
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  for (const c of result.containers) {
    if (c.exitCode !== 0) io.err(`pod-launch: container ${c.name} exited ${c.exitCode}${c.signal ? ` (${c.signal})` : ''}\n`)
  }
  return result.exitCode
}
