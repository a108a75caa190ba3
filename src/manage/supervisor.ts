// The supervisor of a detached pod: `pod-launch __supervise` re-executed in
// its own session. It owns the pod as `run` does, writes pod.json after every
// state change, reports "started" (or the start error) to the `run -d` client
// on fd 3, and exits once the pod has ended and been torn down.
import { closeSync, existsSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { PodError } from '../errors.js'
import { Pod } from '../pod/index.js'
import type { NetworkOptions } from '../net/index.js'
import type { PodSpec } from '../spec/index.js'
import { crashPoint } from '../crash-point.js'
import { podDir, readRecord, specFile, stopFile, startTicks, writeRecord } from '../state/index.js'
import { RecordKeeper } from './recorder.js'

/** The run options a detached pod keeps (spec.json holds `{spec, options}`). */
export interface SupervisedOptions extends NetworkOptions {
  cgroupParent?: string
  pidsLimit?: number
  imageFallback?: 'host'
  seccompDefault?: boolean
}

function report(fd: number, msg: object): void {
  try {
    writeSync(fd, JSON.stringify(msg) + '\n')
    closeSync(fd)
  } catch {
    // the client is gone: nothing to tell
  }
}

export async function supervise(root: string, id: string, reportFd = 3): Promise<number> {
  const dir = podDir(root, id)
  const { spec, options } = JSON.parse(readFileSync(specFile(dir), 'utf8')) as { spec: PodSpec; options: SupervisedOptions }
  const log = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`)
  const keeper = new RecordKeeper(root, { ...readRecord(root, id), supervisor: { pid: process.pid, startTicks: startTicks(process.pid) ?? '' } }, m =>
    log(`warning: ${m}`),
  )
  writeRecord(root, keeper.record)
  crashPoint('supervisor-record')
  let pod: Pod | undefined
  const stopRequested = () => {
    const file = stopFile(dir)
    const req = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { gracePeriodSeconds?: number; force?: boolean }) : {}
    log(`stop requested: ${JSON.stringify(req)}`)
    crashPoint('stop-requested')
    void pod?.stop(req)
  }
  process.on('SIGTERM', stopRequested)
  process.on('SIGINT', stopRequested)
  try {
    pod = await Pod.start(spec, {
      ...options,
      stateRoot: root,
      keepState: true,
      dieWithParent: false,
      attachSockets: true, // `pod-launch attach`: we own the containers' terminals and stdin pipes
      onOutput: () => {}, // the CRI log files have it all
      onWarning: m => log(`warning: ${m}`),
      onIntent: keeper.onIntent,
      onEvent: e => {
        log(`event ${JSON.stringify(e, (k, v) => (k === 'error' ? (v as Error).message : v))}`)
        keeper.onEvent(e)
      },
    })
  } catch (e) {
    const err = e instanceof PodError ? e : PodError.system('pod.start', e)
    log(`start failed: ${err.message}`)
    report(reportFd, { error: { message: err.message, hint: err.hint, step: err.step } })
    rmSync(dir, { recursive: true, force: true }) // a failed start leaves nothing
    return 1
  }
  keeper.attach(pod)
  keeper.save()
  crashPoint('running')
  report(reportFd, { ok: true, id, phase: pod.phase })
  const result = await pod.wait()
  keeper.record = { ...keeper.record, phase: result.phase, supervisor: null }
  keeper.save()
  log(`pod ended: ${result.phase}`)
  return 0
}
