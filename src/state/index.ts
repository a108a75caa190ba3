export {
  type ContainerRecord,
  type CgroupsRecord,
  type PodRecord,
  type PodCondition,
  displayPhase,
  isReady,
  podStatusText,
  runningContainerStatuses,
} from './record.js'
export { addEvent, MAX_EVENTS, type EventRecord } from './events.js'
export { writeRecord, readRecord, readRecordMentioning, listPodIds, ensureRoot, withLock } from './store.js'
export * from './layout.js'
export { startTicks, isAlive, podOfProcess, processesByPod, processIdentity, type ProcessIdentity } from './proc.js'
export { resolvePod, listPods, podsNamed, type PodRef } from './resolve.js'
export { mountsBelow, mountTmpfs, unmountBelow } from './mounts.js'
export {
  exitReason,
  stateName,
  stateReason,
  stored,
  type ContainerState,
  type ContainerStatus,
  type PodPhase,
  type Stored,
  type Terminated,
  type TerminatedReason,
  type WaitingReason,
} from './status.js'
