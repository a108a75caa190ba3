// `pod-launch run FILE` (and the short form `pod-launch FILE`): foreground pod.
import { constants } from 'node:os'
// Leaf modules only: `run -d` loads this file too, and never needs the pod runner (startForeground is
// imported when a foreground pod starts).
import { PodError } from '../errors.js'
import { crashPoint } from '../crash-point.js'
import { KUBELET_BACKOFF, parseBackoff } from '../pod/backoff.js'
import { DEFAULT_STATE_ROOT } from '../state/layout.js'
import { stateName, stateReason } from '../state/status.js'
import { formatBytes } from '../spec/quantity.js'
import type { BackoffOptions, ContainerStatus, DetachedStart, Pod, PodEvent, PodObjects, PodResult, PodSpec } from '../index.js'
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
  singleProcessOOMKill?: boolean
  imageFallback?: 'host'
  network?: 'cni' | 'none'
  cniConfDir?: string
  cniBinDir?: string
  seccompDefault?: boolean
  /** Unknown fields and a missing image are errors (the default), else warnings. */
  strict?: boolean
  /** --configmap, --secret: files (or directories) of ConfigMaps and Secrets the pods may read. */
  configMaps?: string[]
  secrets?: string[]
  /** run -d --persist: keep the pods for `pod-launch boot` under `persistRoot`. */
  persist?: boolean
  persistRoot?: string
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10}s`

/** Lifecycle events worth a line on the terminal while the pod runs (or waits for its images). */
export function describe(e: PodEvent, retried: Set<string>): string | undefined {
  switch (e.type) {
    case 'image-pull': {
      const who = `${e.containers.length > 1 ? 'containers' : 'container'} ${e.containers.join(', ')}`
      const q = JSON.stringify(e.image)
      if (e.state === 'failed') {
        retried.add(e.image)
        return `${who}: Failed to pull image ${q}: ${e.error} (ErrImagePull; next attempt in ${seconds(e.retryInMs ?? 0)}, Ctrl-C to give up)`
      }
      if (e.state === 'backoff') return `${who}: Back-off pulling image ${q} (ImagePullBackOff; next attempt in ${seconds(e.retryInMs ?? 0)})`
      if (e.state === 'pulling' && retried.has(e.image)) return `${who}: Pulling image ${q}`
      return undefined
    }
    case 'container-failed-to-start':
      return `container ${e.container}: ${e.error.message}${e.error.hint ? `\nhint: ${e.error.hint}` : ''}`
    case 'container-restarting':
      return `container ${e.container}: restarting in ${e.delayMs / 1000}s (restart ${e.restartCount})`
    case 'hook-failed':
      return `container ${e.container}: ${e.hook} hook failed: ${e.message}`
    case 'container-killing':
      return `container ${e.container}: ${e.message}`
    case 'sandbox-changed':
      return `${e.reason}: ${e.message}`
    case 'probe-failed':
      // Readiness failures are routine (a container that is not ready yet): only the ones that lead to a kill.
      return e.probe === 'readiness' ? undefined : `container ${e.container}: ${e.message}`
    default:
      return undefined
  }
}

/** The pod options of `run`, foreground or detached. */
export function podOptions(args: RunArgs) {
  const { cgroupParent, pidsLimit, singleProcessOOMKill, imageFallback, network, cniConfDir, cniBinDir, seccompDefault } = args
  return { cgroupParent, pidsLimit, singleProcessOOMKill, imageFallback, network, cniConfDir, cniBinDir, seccompDefault, backoff: backoffOf(args) }
}

/** --backoff: restarts (CrashLoopBackOff) and image pulls (ImagePullBackOff); default kubelet's. */
function backoffOf(args: RunArgs): BackoffOptions | undefined {
  if (args.backoff === undefined) return undefined
  const backoff = parseBackoff(args.backoff)
  if (!backoff) {
    throw new PodError(`cli.args: --backoff ${args.backoff}: not a duration (e.g. 100ms, 2s, or initial,max like 1s,10s)`, { step: 'cli.args', exitCode: 2 })
  }
  return backoff
}

/** One pod in the foreground, our terminal attached to its first stdin or tty container. Ctrl-C stops gracefully, a second Ctrl-C kills. */
export async function runOne(spec: PodSpec, objects: PodObjects, args: RunArgs, io: Io): Promise<number> {
  const options = podOptions(args)
  // One container gets our terminal: the first with stdin or tty, as kubectl attach picks one.
  const target = foregroundTarget(spec)
  const client = target && new ForegroundClient(target.container, io)
  if (target && target.others.length > 0) {
    io.err(
      `pod-launch: attaching our terminal to container ${target.container.name} only (the first with stdin or tty); ` +
        `not attached: ${target.others.join(', ')}\n`,
    )
  }
  if (target?.container.tty && target.container.stdin && process.stdin.isTTY)
    io.err(`pod-launch: container ${target.container.name} has a tty: ${DETACH_HINT}\n`)
  let pod: Pod | undefined
  let interrupts = 0
  const stop = (sig: string, running: Pod) => {
    const force = args.force || interrupts > 1
    const grace = force ? 0 : (args.gracePeriod ?? running.spec.terminationGracePeriodSeconds)
    io.err(`pod-launch: ${sig}: stopping pod ${running.name} (grace ${grace}s${interrupts === 1 && grace > 0 ? ', again to kill now' : ''})\n`)
    void running.stop({ gracePeriodSeconds: grace, force })
  }
  // Ctrl-C while the pod starts ends a wait for its images; later (or once it is up) it stops the pod.
  const starting = new AbortController()
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++
    crashPoint('stop-requested')
    if (pod) return stop(sig, pod)
    if (interrupts > 1) process.exit(128 + constants.signals[sig]) // a second one while starting: at once (gc removes what is left)
    io.err(`pod-launch: ${sig}: stopping pod ${spec.name} while it starts (again to kill now)\n`)
    starting.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const retried = new Set<string>()
  let result: PodResult
  try {
    pod = await (
      await import('../manage/foreground.js')
    ).startForeground(spec, args.root ?? DEFAULT_STATE_ROOT, {
      attach: target && { container: target.container.name, client: client! },
      ...options,
      imagePullBackoff: options.backoff ?? KUBELET_BACKOFF,
      signal: starting.signal,
      objects,
      onPull: pullProgress({ write: io.err, isTTY: io === processIo && !!process.stderr.isTTY }),
      onEvent: e => {
        const line = describe(e, retried)
        if (line) io.err(`pod-launch: ${line}\n`)
      },
    })
    if (interrupts > 0) stop('SIGINT', pod)
    result = await pod.wait()
  } finally {
    client?.stop()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  io.err(summary(result, pod.spec))
  return result.exitCode
}

/** The closing table: every container's state, reason, exit code, restarts; an OOM kill names the limit it hit. */
export function summary(r: PodResult, spec?: PodSpec): string {
  const limitOf = (name: string) => [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].find(c => c.name === name)?.resources.limits.memoryBytes
  const oomMessage = (name: string) => {
    const limit = limitOf(name)
    return limit === undefined ? 'killed by the kernel at the pod memory limit' : `killed at its memory limit (limits.memory ${formatBytes(limit)})`
  }
  const row = (s: ContainerStatus) => {
    const t = 'terminated' in s.state ? s.state.terminated : undefined
    return [
      s.sidecar ? `${s.name} (sidecar)` : s.init ? `${s.name} (init)` : s.name,
      stateName(s.state),
      stateReason(s.state),
      t ? String(t.exitCode) + (t.signal ? ` (${t.signal})` : '') : '',
      String(s.restartCount),
      t?.message?.split('\n')[0] ?? (t?.reason === 'OOMKilled' ? oomMessage(s.name) : ''),
    ]
  }
  const rows = [...r.initContainerStatuses, ...r.containerStatuses].map(row)
  return `pod ${r.name}: ${r.phase}\n${table(['CONTAINER', 'STATE', 'REASON', 'EXIT', 'RESTARTS', 'MESSAGE'], rows)}`
}

/** What `run -d` says of a pod that waits (for its images: ImagePullBackOff; on a failing init container: CrashLoopBackOff), or nothing. */
export function waitingNote(started: DetachedStart): string {
  const w = started.waiting
  if (!w) return ''
  const again =
    w.reason === 'CrashLoopBackOff'
      ? `restarts it with back-off (CrashLoopBackOff): pod-launch logs ${started.name} -c ${w.containers[0]} shows why`
      : `pulls again with back-off (ImagePullBackOff): pod-launch ps / inspect ${started.name} show it`
  return (
    `pod-launch: pod ${started.name}: ${w.containers.length > 1 ? 'containers' : 'container'} ${w.containers.join(', ')}: ${w.reason}: ${w.message ?? ''}\n` +
    `hint: the pod waits and ${again}; pod-launch rm --force ${started.name} gives up\n`
  )
}
