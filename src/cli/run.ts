// `pod-launch run FILE` (and the short form `pod-launch FILE`): foreground pod.
import {
  DEFAULT_STATE_ROOT,
  PodError,
  crashPoint,
  loadManifest,
  parseBackoff,
  runDetached,
  startForeground,
  stateName,
  stateReason,
  type ContainerStatus,
  type PodEvent,
  type PodResult,
} from '../index.js'
import { processIo, type Io } from './output.js'
import { pullProgress } from './pull-progress.js'
import { table } from './table.js'
import { DETACH_HINT, ForegroundClient, foregroundTarget } from './attach.js'

export interface RunArgs {
  manifest: string
  gracePeriod?: number
  force?: boolean
  backoff?: string
  root?: string
  cgroupParent?: string
  pidsLimit?: number
  imageFallback?: 'host'
  network?: 'cni' | 'none'
  cniConfDir?: string
  cniBinDir?: string
  seccompDefault?: boolean
  /** Unknown fields and a missing image are errors (the default), else warnings. */
  strict?: boolean
}

/** Lifecycle events worth a line on the terminal while the pod runs. */
function describe(e: PodEvent): string | undefined {
  switch (e.type) {
    case 'container-failed-to-start':
      return `container ${e.container}: ${e.error.message}${e.error.hint ? `\nhint: ${e.error.hint}` : ''}`
    case 'container-restarting':
      return `container ${e.container}: restarting in ${e.delayMs / 1000}s (restart ${e.restartCount})`
    case 'hook-failed':
      return `container ${e.container}: ${e.hook} hook failed: ${e.message}`
    case 'container-killing':
      return `container ${e.container}: ${e.message}`
    case 'probe-failed':
      // Readiness failures are routine (a container that is not ready yet): only the ones that lead to a kill.
      return e.probe === 'readiness' ? undefined : `container ${e.container}: ${e.message}`
    default:
      return undefined
  }
}

/** The pod options of `run`, foreground or detached. */
function podOptions(args: RunArgs) {
  const { cgroupParent, pidsLimit, imageFallback, network, cniConfDir, cniBinDir, seccompDefault } = args
  return { cgroupParent, pidsLimit, imageFallback, network, cniConfDir, cniBinDir, seccompDefault }
}

/** Run in the foreground: Ctrl-C stops gracefully, a second Ctrl-C kills. */
export async function runCommand(args: RunArgs, io: Io): Promise<number> {
  const backoff = args.backoff === undefined ? undefined : parseBackoff(args.backoff)
  if (args.backoff !== undefined && !backoff) {
    throw new PodError(`cli.args: --backoff ${args.backoff}: not a duration (e.g. 100ms, 2s, or initial,max like 1s,10s)`, { step: 'cli.args', exitCode: 2 })
  }
  const spec = loadManifest(args.manifest, m => io.err(`warning: ${m}\n`), { strict: args.strict ?? true })
  // One container gets our terminal: the first with stdin or tty, as kubectl attach picks one.
  const target = foregroundTarget(spec)
  const client = target && new ForegroundClient(target.container, io)
  if (target && target.others.length > 0) {
    io.err(
      `pod-launch: attaching our terminal to container ${target.container.name} only (the first with stdin or tty); not attached: ${target.others.join(', ')}\n`,
    )
  }
  if (target?.container.tty && target.container.stdin && process.stdin.isTTY)
    io.err(`pod-launch: container ${target.container.name} has a tty: ${DETACH_HINT}\n`)
  const pod = await startForeground(spec, args.root ?? DEFAULT_STATE_ROOT, {
    attach: target && { container: target.container.name, client: client! },
    backoff,
    ...podOptions(args),
    onPull: pullProgress({ write: io.err, isTTY: io === processIo && !!process.stderr.isTTY }),
    onEvent: e => {
      const line = describe(e)
      if (line) io.err(`pod-launch: ${line}\n`)
    },
  })
  let interrupts = 0
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++
    crashPoint('stop-requested')
    const force = args.force || interrupts > 1
    const grace = force ? 0 : (args.gracePeriod ?? pod.spec.terminationGracePeriodSeconds)
    io.err(`pod-launch: ${sig}: stopping pod ${pod.name} (grace ${grace}s${interrupts === 1 && grace > 0 ? ', again to kill now' : ''})\n`)
    void pod.stop({ gracePeriodSeconds: grace, force })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let result: PodResult
  try {
    result = await pod.wait()
  } finally {
    client?.stop()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  io.err(summary(result))
  return result.exitCode
}

/** The closing table: every container's state, reason, exit code, restarts. */
export function summary(r: PodResult): string {
  const row = (s: ContainerStatus) => {
    const t = 'terminated' in s.state ? s.state.terminated : undefined
    return [
      s.sidecar ? `${s.name} (sidecar)` : s.init ? `${s.name} (init)` : s.name,
      stateName(s.state),
      stateReason(s.state),
      t ? String(t.exitCode) + (t.signal ? ` (${t.signal})` : '') : '',
      String(s.restartCount),
      t?.message?.split('\n')[0] ?? '',
    ]
  }
  const rows = [...r.initContainerStatuses, ...r.containerStatuses].map(row)
  return `pod ${r.name}: ${r.phase}\n${table(['CONTAINER', 'STATE', 'REASON', 'EXIT', 'RESTARTS', 'MESSAGE'], rows)}`
}

/** `run -d`: print the pod id once it is Running. */
export async function runDetachedCommand(args: RunArgs, io: Io): Promise<number> {
  if (args.backoff !== undefined) throw new PodError('cli.args: --backoff applies to foreground runs only for now', { step: 'cli.args', exitCode: 2 })
  const spec = loadManifest(args.manifest, m => io.err(`warning: ${m}\n`), { strict: args.strict ?? true })
  const started = await runDetached(spec, args.root ?? DEFAULT_STATE_ROOT, podOptions(args), m => io.err(`warning: ${m}\n`))
  io.out(`${started.id}\n`)
  return 0
}
