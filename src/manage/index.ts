export { runDetached, type DetachedStart } from './detach.js'
export { supervise } from './supervisor.js'
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
export type { SupervisedOptions } from './supervisor.js'
