export { runDetached, type DetachedStart } from './detach.js'
export { runEngine, type SupervisedOptions } from './engine.js'
export { stopPod, removePod, inspectPod, podStats } from './ops.js'
export { execInPod, execTerminal, prepareExec, type ExecOptions, type PreparedExec } from './exec.js'
export { podLogs, type LogOptions } from './logs.js'
export { gc, type GcAction, type GcOptions } from './gc.js'
export { podNamespaces, podTree, NS_COLUMNS, type NsRow, type TreeNode } from './explore.js'
export { checkHost, type CheckLine } from './check.js'
export { attachPod, attachTarget, AttachConnection, type AttachHello } from './attach.js'
export { startForeground } from './foreground.js'
export {
  loadManifestFile,
  manifestKey,
  manifestPath,
  podWarnings,
  MANIFEST_ANNOTATION,
  DOCUMENT_ANNOTATION,
  type ManifestFileOptions,
  type ManifestPods,
} from './manifest-file.js'
export { bootPods, listPersisted, persistPod, unpersistManifest, unpersistPod, DEFAULT_PERSIST_ROOT, type BootResult, type PersistedPod } from './persist.js'
export { kubePod, containerID } from './kube-pod.js'
export { podSummary, type PodSummary, type ContainerSummary } from './summary.js'
export { selectPods, parseSelector, matchesSelector, type Selector } from './select.js'
export { computeConditions, updateConditions } from './conditions.js'
export { podEvents, type PodEventRow } from './events.js'
export { waitForPod, parseWaitFor, type WaitFor } from './wait.js'
export { parseDuration } from './duration.js'
export { DEFAULT_CONTAINER_ANNOTATION } from './logs.js'
export { watchStats, hostMillicores, type StatsRow } from './stats.js'
export { copyFromPod, copyToPod, parseCpArg } from './cp.js'
export { portForward, parsePortPair, type PortPair, type PortForward, type ForwardEvents } from './port-forward.js'
