// `run -d`: validate, record, hand the pod to the root's engine (started on
// demand), and return once the pod is Running (or with its start error).
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PodError } from '../errors.js'
import { planNetwork } from '../net/index.js'
import { noObjects, type PodObjects, type PodSpec } from '../spec/index.js'
import { checkPodConfig } from '../pod/config.js'
import { handOverObjects } from './pod-objects.js'
import { crashPoint } from '../crash-point.js'
import { ensureRoot, podDir, readRecord, specFile, processIdentity, unmountBelow, withLock, writeRecord, type PodRecord } from '../state/index.js'
import { removePod } from './ops.js'
import { admitPod } from './admit.js'
import { EngineGone, engineRequest } from './engine-client.js'
import type { SupervisedOptions } from './engine.js'

export interface DetachedStart {
  id: string
  name: string
  phase: string
  /** Containers whose image could not be pulled yet: the pod waits (ErrImagePull, then ImagePullBackOff). */
  waiting?: { containers: string[]; reason: string; message?: string }
}

/** Start `spec` under the root's engine; resolves once it is Running. Throws its start error (nothing left). */
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
      // ConfigMaps in spec.json, Secrets on the pod's secrets tmpfs: the engine reads them with takeOverObjects.
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
      // The owner until the engine takes over: a record is never ownerless while it is being started.
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
  try {
    const reply = await engineRequest(root, { op: 'run', id: spec.uid })
    return { id: spec.uid, name: spec.name, phase: reply.phase ?? 'Running', ...(reply.waiting && { waiting: reply.waiting }) }
  } catch (e) {
    if (!(e instanceof EngineGone)) throw e // a start error: the engine removed what it made
    // It died while starting the pod: whatever it made is named in the record; kill and remove it all.
    let cleanup = ''
    try {
      // Dead before it took the record over: the owner named there is us.
      const r = readRecord(root, spec.uid)
      if (r.supervisor?.pid === process.pid) writeRecord(root, { ...r, supervisor: null })
      await removePod(root, spec.uid, { force: true, onWarning: warn })
    } catch (c) {
      cleanup = `; cleaning up failed (${(c as Error).message}): pod-launch rm --force ${spec.uid}`
    }
    throw new PodError(`pod.start: ${spec.name}: ${e.message.replace(/^pod\.engine: /, '')}${cleanup}`, { step: 'pod.start' })
  }
}
