export { type PodRecord, displayPhase } from './record.js'
export { writeRecord, readRecord, listPodIds, podDir, ensureRoot, withLock, RECORD_FILE } from './store.js'
export { startTicks, isAlive } from './proc.js'
export { resolvePod, listPods, type PodRef } from './resolve.js'
