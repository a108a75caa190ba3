export { Pod } from './pod.js'
export { printLine, type AdoptedPod, type PodEvent, type PodOptions, type PodResult } from './pod-options.js'
export {
  PodSandbox,
  type AdoptedSandbox,
  type ContainerStart,
  type HostContext,
  type SandboxContainer,
  type SandboxEvent,
  type SandboxOptions,
} from './sandbox.js'
export type { HostedProcess, ProcessExit, ProcessHost, ProcessIo, StartRequest } from './process-host.js'
export { DirectHost, type DirectHostOptions } from './direct-host.js'
export type { OutputLine, Stream } from './logs.js'
export { parseCriLog, rfc3339Nano, MAX_RECORD_BYTES } from './logs.js'
export { namespaceInodes, NS_TYPES } from './namespaces.js'
export {
  containerEnv,
  containerIdentity,
  bindPlan,
  joinsNothing,
  planContainer,
  planExec,
  planHostCheck,
  planPause,
  runConfig,
  sandboxNamespaces,
  sysctlPath,
  terminationLogOf,
  type ContainerPlanInputs,
  type RunConfig,
  type SpawnPlan,
} from './plan.js'
export { KUBELET_BACKOFF, parseBackoff, parseDurationMs, type BackoffOptions } from './backoff.js'
export { imagePullView, type ImagePullEvent, type ImagePullState, type KubeletEvent } from './image-pulls.js'
export { DEFAULT_STATE_ROOT } from '../state/index.js'
export { stateName, stateReason, type ContainerStatus, type ContainerState, type PodPhase, type Terminated } from '../state/index.js'
export {
  execAttached,
  execCapture,
  execInContainer,
  execWithPipes,
  execWithTerminal,
  type CapturedExec,
  type ExecPipes,
  type ExecTerminal,
  type ExecTarget,
} from './exec.js'
export { connectInPod } from './probe-kinds.js'
export { openNamespaces, closeAll as closeNamespaces } from './namespaces.js'
export { isSidecar, stopPrerequisites } from './ordering.js'
export { nodeFacts, hostIP, nodeAllocatable } from './node.js'
export { FRAME, FrameDecoder, DetachKeys, encodeFrame, resizeFrame, parseResize, type Frame } from './attach-protocol.js'
export { attachDir, attachFile, socketAddress } from './attach-server.js'
export type { AttachClient, AttachedIo, WindowSize } from './stdio.js'
export { checkPodConfig } from './config.js'
export { PodDir, SECRETS_TMPFS_BYTES } from './poddir.js'
