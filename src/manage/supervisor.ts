// The supervisor of a detached pod: `pod-launch __supervise` re-executed in
// its own session. It owns the pod as `run` does, writes pod.json after every
// state change, reports "started" (or the start error) to the `run -d` client
// on fd 3, and exits once the pod has ended and been torn down.
import { closeSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { PodError } from '../errors.js'
import { KUBELET_BACKOFF, Pod, type BackoffOptions } from '../pod/index.js'
import type { NetworkOptions } from '../net/index.js'
import type { ConfigMapObject, PodSpec } from '../spec/index.js'
import { takeOverObjects } from './pod-objects.js'
import { crashPoint } from '../crash-point.js'
import { podDir, readRecord, specFile, processIdentity, unmountBelow, writeRecord } from '../state/index.js'
import { RecordKeeper } from './recorder.js'
import { readStopRequest } from './stop-request.js'

/** The run options a detached pod keeps (spec.json holds `{spec, options}`). */
export interface SupervisedOptions extends NetworkOptions {
  cgroupParent?: string
  pidsLimit?: number
  singleProcessOOMKill?: boolean
  imageFallback?: 'host'
  seccompDefault?: boolean
  /** Restart and image-pull back-off (default kubelet's). */
  backoff?: BackoffOptions
}

/** The one message to the `run -d` client: started, waiting for an image, or the start error. */
function reporter(fd: number): { send: (msg: object) => void; readonly done: boolean } {
  let done = false
  return {
    send(msg) {
      if (done) return // fd closed: never write to a number another file may reuse
      done = true
      try {
        writeSync(fd, JSON.stringify(msg) + '\n')
        closeSync(fd)
      } catch {
        // the client is gone: nothing to tell
      }
    },
    get done() {
      return done
    },
  }
}

export async function supervise(root: string, id: string, reportFd = 3): Promise<number> {
  const dir = podDir(root, id)
  const { spec, options, configMaps } = JSON.parse(readFileSync(specFile(dir), 'utf8')) as {
    spec: PodSpec
    options: SupervisedOptions
    configMaps?: ConfigMapObject[]
  }
  // Our log is best effort: on a full disk a line is lost, never the pod (an unhandled write error would end us).
  process.stderr.on('error', () => {})
  const log = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`)
  const keeper = new RecordKeeper(root, { ...readRecord(root, id), supervisor: processIdentity(process.pid) }, m => log(`warning: ${m}`))
  const client = reporter(reportFd)
  let pod: Pod | undefined
  // A stop while the images are pulled or awaited ends the wait.
  const starting = new AbortController()
  // A stop before the start returned: the start ends its wait (pulls, a postStart, a sidecar's start), then the pod stops.
  let stopBeforeStart: ReturnType<typeof readStopRequest> | undefined
  const stopRequested = () => {
    const req = readStopRequest(dir)
    log(`stop requested: ${JSON.stringify(req)}`)
    keeper.stopping()
    crashPoint('stop-requested')
    if (pod) void pod.stop(req)
    else {
      stopBeforeStart = req
      starting.abort()
    }
  }
  process.on('SIGTERM', stopRequested)
  process.on('SIGINT', stopRequested)
  try {
    writeRecord(root, keeper.record)
    crashPoint('supervisor-record')
    pod = await Pod.start(spec, {
      ...options,
      imagePullBackoff: options.backoff ?? KUBELET_BACKOFF,
      signal: starting.signal,
      objects: takeOverObjects(dir, configMaps),
      stateRoot: root,
      keepState: true,
      dieWithParent: false,
      attachSockets: true, // `pod-launch attach`: we own the containers' terminals and stdin pipes
      onOutput: () => {}, // the CRI log files have it all
      onWarning: m => log(`warning: ${m}`),
      onIntent: keeper.onIntent,
      onEvent: e => {
        log(`event ${JSON.stringify(e, (k, v) => (k === 'error' && v instanceof Error ? v.message : v))}`)
        keeper.onEvent(e)
        // An image that cannot be pulled yet: the client returns, the pod waits (as kubectl apply returns).
        if (e.type === 'image-pull' && e.state === 'failed')
          client.send({ ok: true, id, phase: 'Pending', waiting: { containers: e.containers, reason: 'ErrImagePull', message: e.error } })
      },
    })
    if (stopBeforeStart) void pod.stop(stopBeforeStart)
  } catch (e) {
    const err = e instanceof PodError ? e : PodError.system('pod.start', e)
    log(`start failed: ${err.message}`)
    unmountBelow(dir) // the secrets tmpfs `run -d` made, when the start failed before the pod took it over
    if (client.done) {
      // The client was told the pod waits: it stays, Failed, with why (rm removes it).
      keeper.record = { ...keeper.record, phase: 'Failed', supervisor: null, error: { message: err.message, ...(err.hint && { hint: err.hint }) } }
      keeper.save()
      return 1
    }
    client.send({ error: { message: err.message, hint: err.hint, step: err.step } })
    rmSync(dir, { recursive: true, force: true }) // a failed start leaves nothing
    return 1
  }
  keeper.attach(pod)
  keeper.save()
  crashPoint('running')
  client.send({ ok: true, id, phase: pod.phase, ...backOffWaiting(pod) })
  const result = await pod.wait()
  keeper.record = { ...keeper.record, phase: result.phase, supervisor: null }
  keeper.save()
  log(`pod ended: ${result.phase}`)
  return 0
}

/** A pod that could not run yet because a container restarts with back-off (Init:CrashLoopBackOff): who, and why. */
function backOffWaiting(pod: Pod): { waiting?: { containers: string[]; reason: string; message?: string } } {
  if (pod.phase !== 'Pending') return {}
  const { init, containers } = pod.statuses
  const looping = [...init, ...containers].filter(s => 'waiting' in s.state && s.state.waiting.reason === 'CrashLoopBackOff')
  if (looping.length === 0) return {}
  const last = looping[0].lastState?.terminated
  const why = last ? `exited ${last.exitCode} (${last.reason ?? 'Error'})${last.message ? `: ${last.message.split('\n')[0]}` : ''}` : 'exited'
  return { waiting: { containers: looping.map(s => s.name), reason: 'CrashLoopBackOff', message: why } }
}
