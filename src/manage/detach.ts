// `run -d`: validate, record, start one supervisor per pod in its own
// session, and return once the pod is Running (or with its start error).
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PodError } from '../errors.js'
import { planNetwork } from '../net/index.js'
import { noObjects, type PodObjects, type PodSpec } from '../spec/index.js'
import { checkPodConfig } from '../pod/index.js'
import { handOverObjects } from './pod-objects.js'
import { crashPoint } from '../crash-point.js'
import { ensureRoot, podDir, readRecord, specFile, processIdentity, unmountBelow, withLock, writeRecord, type PodRecord } from '../state/index.js'
import { removePod } from './ops.js'
import { admitPod } from './admit.js'
import type { SupervisedOptions } from './supervisor.js'

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'pod-launch')

/** The supervisor log's last line ('' when there is none). */
function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').pop()!.slice(0, 300)
  } catch {
    return ''
  }
}

export interface DetachedStart {
  id: string
  name: string
  phase: string
  /** Containers whose image could not be pulled yet: the pod waits (ErrImagePull, then ImagePullBackOff). */
  waiting?: { containers: string[]; reason: string; message?: string }
}

/** Start `spec` under a supervisor; resolves once it is Running. Throws its start error (nothing left). */
export async function runDetached(
  spec: PodSpec,
  root: string,
  options: SupervisedOptions = {},
  warn: (m: string) => void = m => process.stderr.write(`warning: ${m}\n`),
  objects: PodObjects = noObjects(),
): Promise<DetachedStart> {
  checkPodConfig(spec, objects)
  // The network plan here too: its warning (no plugins) reaches the user, and a hostPort without CNI fails with nothing made.
  planNetwork(spec, options, warn)
  ensureRoot(root)
  const dir = podDir(root, spec.uid)
  await withLock(join(root, '.lock'), () => {
    admitPod(root, spec, dir, true)
    try {
      const configMaps = handOverObjects(spec, root, objects)
      try {
        writeFileSync(specFile(dir), JSON.stringify({ spec, options, configMaps }))
      } catch (e) {
        throw PodError.system('state.write', e, specFile(dir))
      }
    } catch (e) {
      unmountBelow(dir)
      rmSync(dir, { recursive: true, force: true }) // a full disk leaves no pod dir
      throw e
    }
    const record: PodRecord = {
      id: spec.uid,
      name: spec.name,
      namespace: spec.namespace,
      createdAt: new Date().toISOString(),
      // The owner until the supervisor takes over: a record is never ownerless while it is being started.
      supervisor: processIdentity(process.pid),
      phase: 'Pending',
      spec,
      podIP: '',
      initContainerStatuses: [],
      containerStatuses: [],
    }
    try {
      writeRecord(root, record)
    } catch (e) {
      rmSync(dir, { recursive: true, force: true })
      throw e
    }
  })
  crashPoint('client-record')
  const logFd = openSync(join(dir, 'supervisor.log'), 'a', 0o640)
  const child = spawn(process.execPath, [BIN, '__supervise', '--root', root, spec.uid], {
    detached: true, // its own session: our terminal's signals and our exit do not reach it
    stdio: ['ignore', logFd, logFd, 'pipe'],
  })
  closeSync(logFd)
  const reply = await new Promise<string>(resolve => {
    let text = ''
    const pipe = child.stdio[3] as NodeJS.ReadableStream
    pipe.setEncoding('utf8')
    pipe.on('data', (d: string) => (text += d))
    pipe.on('close', () => resolve(text))
  })
  child.unref()
  let msg: { ok?: boolean; phase?: string; error?: { message: string; hint?: string; step?: string }; waiting?: DetachedStart['waiting'] }
  try {
    msg = JSON.parse(reply)
  } catch {
    // It died while starting the pod: whatever it made is named in the record; kill and remove it all.
    const tail = logTail(join(dir, 'supervisor.log'))
    let cleanup = ''
    try {
      // Dead before it took the record over: the owner named there is us.
      const r = readRecord(root, spec.uid)
      if (r.supervisor?.pid === process.pid) writeRecord(root, { ...r, supervisor: null })
      await removePod(root, spec.uid, { force: true, onWarning: warn })
    } catch (e) {
      cleanup = `; cleaning up failed (${(e as Error).message}): pod-launch rm --force ${spec.uid}`
    }
    throw new PodError(`pod.supervise: ${spec.name}: the supervisor exited without a word${tail ? ` (its last log line: ${tail})` : ''}${cleanup}`, {
      step: 'pod.supervise',
    })
  }
  if (msg.error) throw new PodError(msg.error.message, { step: msg.error.step ?? 'pod.start', hint: msg.error.hint })
  return { id: spec.uid, name: spec.name, phase: msg.phase ?? 'Running', ...(msg.waiting && { waiting: msg.waiting }) }
}
