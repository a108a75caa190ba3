// The pod's conditions as kubelet reports them (status.conditions, in its
// order), each with the time it last changed: the record keeper computes them
// on every save, so `inspect` shows a real lastTransitionTime.
import { isSidecar } from '../spec/sidecar.js'
import { isReady, runningContainerStatuses, type PodCondition, type PodRecord } from '../state/record.js'

type Computed = Omit<PodCondition, 'lastTransitionTime'>

/** The conditions of the pod as its record now stands (kubelet's order: generateAPIPodStatus). */
export function computeConditions(r: PodRecord): Computed[] {
  const ended = r.phase === 'Succeeded' || r.phase === 'Failed'
  // ContainersReady counts the sidecars too (kubelet 1.29+).
  const beside = runningContainerStatuses(r)
  const unready = beside.filter(s => !isReady(s)).map(s => s.name)
  const allReady = r.containerStatuses.length > 0 && unready.length === 0
  const sidecar = (name: string) => r.spec.initContainers.some(c => c.name === name && isSidecar(c))
  // Initialized: every plain init container exited 0 and every sidecar started, or the containers have been started.
  const initDone = r.initContainerStatuses.every(s => (sidecar(s.name) ? s.started === true : 'terminated' in s.state && s.state.terminated.exitCode === 0))
  const appStarted = r.containerStatuses.some(s => !('waiting' in s.state) || s.restartCount > 0)
  const cond = (type: string, ok: boolean, why?: { reason: string; message?: string }): Computed => ({
    type,
    status: ok ? 'True' : 'False',
    ...(!ok && why),
  })
  const notReady = ended ? { reason: 'PodCompleted' } : { reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` }
  const uninitialized = r.initContainerStatuses.filter(s => !('terminated' in s.state && s.state.terminated.exitCode === 0) && !sidecar(s.name))
  return [
    // The sandbox exists with its network (kubelet 1.29+, PodReadyToStartContainersCondition).
    cond('PodReadyToStartContainers', !!r.pause && !ended),
    {
      ...cond('Initialized', initDone || appStarted, {
        reason: 'ContainersNotInitialized',
        message: `containers with incomplete status: [${uninitialized.map(s => s.name).join(' ')}]`,
      }),
      ...(ended && (initDone || appStarted) && { reason: 'PodCompleted' }),
    },
    cond('Ready', allReady && !ended, notReady),
    cond('ContainersReady', allReady && !ended, notReady),
    cond('PodScheduled', true),
  ]
}

/** The conditions now, each keeping its earlier lastTransitionTime while its status has not changed. */
export function updateConditions(r: PodRecord, now = new Date()): PodCondition[] {
  const before = new Map((r.conditions ?? []).map(c => [c.type, c]))
  return computeConditions(r).map(c => {
    const old = before.get(c.type)
    return { ...c, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : now.toISOString() }
  })
}
