// The probe workers of one container run, as kubelet's prober manager runs
// them: the startup probe first; liveness and readiness only once the
// container has started; each result counted against its thresholds. A
// liveness or startup failure asks the runner to kill the container (it then
// restarts under the pod's policy); readiness drives the container's `ready`.
// Everything stops with the run: no timer, socket or process outlives it.
import type { Probe, ProbeKind } from '../spec/index.js'
import { runProbe, type ProbeOutcome, type ProbeTarget } from './probe-kinds.js'

export type ProbeResult = 'success' | 'failure'

/** kubelet's initial result of each kind: not ready, alive, not yet started. */
const INITIAL: Record<ProbeKind, ProbeResult | 'unknown'> = { readiness: 'failure', liveness: 'success', startup: 'unknown' }

/**
 * The threshold state machine of kubelet's probe worker: a result becomes the
 * probe's state only after `successThreshold` consecutive successes or
 * `failureThreshold` consecutive failures.
 */
export class ProbeCounter {
  state: ProbeResult | 'unknown'
  private last?: ProbeResult
  private run = 0

  constructor(
    kind: ProbeKind,
    private readonly probe: Pick<Probe, 'successThreshold' | 'failureThreshold'>,
  ) {
    this.state = INITIAL[kind]
  }

  /** Count one result; true when the state changed. */
  record(r: ProbeResult): boolean {
    if (r === this.last) this.run++
    else {
      this.last = r
      this.run = 1
    }
    if ((r === 'failure' && this.run < this.probe.failureThreshold) || (r === 'success' && this.run < this.probe.successThreshold)) return false
    const changed = this.state !== r
    this.state = r
    return changed
  }

  /** After a kill for this probe's failure: count afresh (kubelet's resultRun = 0). */
  reset(): void {
    this.run = 0
  }
}

export interface ProbeHooks {
  /** The container counts as started (no startup probe, or it passed). */
  started(): void
  /** Readiness changed (only called when the container has a readiness probe). */
  ready(ready: boolean): void
  /** A probe attempt failed (kubelet's `Unhealthy` event). */
  failed(kind: ProbeKind, message: string): void
  /** Liveness or startup failed `failureThreshold` times: kill the container. */
  unhealthy(kind: 'liveness' | 'startup', probe: Probe): void
  /** A probe that could not run at all (its result is thrown away). */
  warn(message: string): void
}

const PROBE_NAME: Record<ProbeKind, string> = { startup: 'Startup', liveness: 'Liveness', readiness: 'Readiness' }

/** Runs one probe every periodSeconds from initialDelaySeconds after the container started. */
class ProbeWorker {
  readonly counter: ProbeCounter
  private timer?: NodeJS.Timeout
  private stopped = false
  private readonly abort = new AbortController()

  constructor(
    readonly kind: ProbeKind,
    readonly probe: Probe,
    private readonly target: ProbeTarget,
    private readonly onResult: (w: ProbeWorker, o: ProbeOutcome, changed: boolean) => void,
  ) {
    this.counter = new ProbeCounter(kind, probe)
  }

  start(startedAt: Date): void {
    this.schedule(startedAt.getTime() + this.probe.initialDelaySeconds * 1000 - Date.now())
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.abort.abort()
  }

  private schedule(ms: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => void this.tick(), Math.max(0, ms))
  }

  private async tick(): Promise<void> {
    const t0 = Date.now()
    const outcome = await runProbe(this.probe.handler, this.target, this.probe.timeoutSeconds * 1000, this.abort.signal)
    if (this.stopped) return
    const changed = outcome.result === 'error' ? false : this.counter.record(outcome.result)
    this.onResult(this, outcome, changed)
    // A probe that took longer than the period runs again at once (kubelet's ticker drops the missed ticks).
    this.schedule(t0 + this.probe.periodSeconds * 1000 - Date.now())
  }
}

/** The probes of one run of a container; `stop()` when the run ends. */
export class ContainerProbes {
  private readonly workers: ProbeWorker[] = []
  private stopped = false

  constructor(
    private readonly probes: Partial<Record<ProbeKind, Probe>>,
    private readonly target: ProbeTarget,
    private readonly startedAt: Date,
    private readonly hooks: ProbeHooks,
  ) {}

  /** Start probing; without a startup probe the container counts as started at once. */
  start(): void {
    if (this.probes.startup) this.spawn('startup', this.probes.startup)
    else this.afterStartup()
  }

  stop(): void {
    this.stopped = true
    for (const w of this.workers.splice(0)) w.stop()
  }

  private afterStartup(): void {
    this.hooks.started()
    if (this.probes.liveness) this.spawn('liveness', this.probes.liveness)
    if (this.probes.readiness) this.spawn('readiness', this.probes.readiness)
  }

  private spawn(kind: ProbeKind, probe: Probe): void {
    if (this.stopped) return
    const w = new ProbeWorker(kind, probe, this.target, (w, o, changed) => this.result(w, o, changed))
    this.workers.push(w)
    w.start(this.startedAt)
  }

  private drop(w: ProbeWorker): void {
    w.stop()
    this.workers.splice(this.workers.indexOf(w), 1)
  }

  private result(w: ProbeWorker, o: ProbeOutcome, changed: boolean): void {
    if (o.result === 'error') {
      this.hooks.warn(`${PROBE_NAME[w.kind]} probe errored: ${o.message}`)
      return
    }
    if (o.result === 'failure') this.hooks.failed(w.kind, o.message)
    if (!changed) return
    const state = w.counter.state
    if (w.kind === 'readiness') this.hooks.ready(state === 'success')
    else if (w.kind === 'startup' && state === 'success') {
      // Started: the startup probe is done for this run.
      this.drop(w)
      this.afterStartup()
    } else if (state === 'failure' && (w.kind === 'liveness' || w.kind === 'startup')) {
      // On hold until the next run (kubelet stops probing a container it is killing).
      this.stop()
      this.hooks.unhealthy(w.kind, w.probe)
    }
  }
}

/** kubelet's event text for a failed attempt: `Liveness probe failed: <output>`. */
export function probeFailedMessage(kind: ProbeKind, output: string): string {
  return `${PROBE_NAME[kind]} probe failed: ${output}`
}

/** kubelet's `Killing` event text for a probe kill. */
export function probeKillMessage(container: string, kind: 'liveness' | 'startup', willRestart: boolean): string {
  return `Container ${container} failed ${kind} probe${willRestart ? ', will be restarted' : ''}`
}

/** One line for `explain`: what the probe does, where, and when. */
export function describeProbe(kind: ProbeKind, p: Probe, hostNetwork: boolean): string {
  const h = p.handler
  const where = hostNetwork ? "from the host's network namespace" : "from inside the pod's network namespace"
  const addr = (host: string | undefined, port: number) => `${host ?? '<pod IP or 127.0.0.1>'}:${port}`
  const unverified = (scheme: string) => (scheme === 'HTTPS' ? ' (certificate not verified, as kubelet)' : '')
  const headers = (hs: readonly { name: string }[]) => (hs.length ? ` with ${hs.map(x => x.name).join(', ')}` : '')
  const what =
    h.kind === 'exec'
      ? `exec ${JSON.stringify(h.command)} in the container`
      : h.kind === 'tcpSocket'
        ? `tcp connect ${addr(h.host, h.port)} ${where}`
        : h.kind === 'grpc'
          ? `grpc.health.v1.Health/Check service ${JSON.stringify(h.service)} at ${addr(undefined, h.port)} ${where}`
          : `GET ${h.scheme.toLowerCase()}://${addr(h.host, h.port)}${h.path}${headers(h.headers)} ${where}${unverified(h.scheme)}`
  const grace = p.terminationGracePeriodSeconds === undefined ? '' : `, kill grace ${p.terminationGracePeriodSeconds}s`
  const thresholds = `success ${p.successThreshold}, failure ${p.failureThreshold}`
  return `${kind}: ${what}; every ${p.periodSeconds}s after ${p.initialDelaySeconds}s, timeout ${p.timeoutSeconds}s, ${thresholds}${grace}`
}
