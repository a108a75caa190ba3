// pod-launch: the public library API. cli/ and labs/ use only this.
import { EventEmitter } from 'node:events'
import { Pod, type PodEvent, type PodOptions, type PodResult } from './pod/index.js'
import { parseManifest, readManifest, type ParseResult, type PodSpec, type ValidateOptions } from './spec/index.js'

export { PodError } from './errors.js'
export {
  Pod,
  printLine,
  namespaceInodes,
  parseCriLog,
  parseBackoff,
  parseDurationMs,
  stateName,
  stateReason,
  KUBELET_BACKOFF,
  type PodEvent,
  type PodOptions,
  type PodResult,
  type ContainerStatus,
  type ContainerState,
  type PodPhase,
  type Terminated,
  type OutputLine,
  type Stream,
  type BackoffOptions,
  DetachKeys,
  type AttachClient,
  type AttachedIo,
  type WindowSize,
  type ExecTerminal,
} from './pod/index.js'
export {
  isSidecar,
  parseManifest,
  parseManifestText,
  readManifest,
  readManifestSet,
  parseManifestSetText,
  describeOrigin,
  notRunLine,
  originLabel,
  objectStrings,
  referencedObjects,
  objectRefs,
  type PodSpec,
  type ParseResult,
  type ContainerSpec,
  type ManifestSet,
  type PodDocument,
  type DocumentOrigin,
  type PodObjects,
  type ConfigMapObject,
  type SecretObject,
} from './spec/index.js'
export { checkPodConfig } from './pod/index.js'
export { closestName, formatBytes } from './spec/index.js'
export { spawnProcess, native, pausePath, type ExitStatus, type NativePlan } from './spawn/index.js'

export interface RunPodOptions extends PodOptions {
  /** Aborting stops the pod gracefully (as Ctrl-C does in the CLI). */
  signal?: AbortSignal
  /** Called with warnings about the manifest (fields not honoured yet). */
  onManifestWarning?: (message: string) => void
}

/** A manifest: a file path, a parsed Pod object, or an already validated PodSpec. */
export type ManifestInput = string | Record<string, unknown> | PodSpec

function resolve(manifest: ManifestInput, warn: (m: string) => void, opts: ValidateOptions = {}): PodSpec {
  let parsed: ParseResult
  if (typeof manifest === 'string') parsed = readManifest(manifest, opts)
  else if ('uid' in manifest && 'containers' in manifest && Object.isFrozen(manifest)) return manifest as PodSpec
  else parsed = parseManifest(manifest, '(manifest)', opts)
  if (parsed.unsupported.length > 0) warn(`not supported yet, ignored: ${parsed.unsupported.join(', ')}`)
  for (const w of parsed.warnings) warn(w)
  return parsed.spec
}

/**
 * Start a pod; resolves once it is Running (or already ended).
 * Throws PodError: `spec.*` (exit code 2, nothing created), `state.*`,
 * `spawn.*` / `child.*` when the sandbox cannot be made (nothing left).
 */
export async function startPod(manifest: ManifestInput, opts: RunPodOptions = {}): Promise<Pod> {
  const warn = opts.onManifestWarning ?? ((m: string) => process.stderr.write(`warning: ${m}\n`))
  return Pod.start(resolve(manifest, warn), opts)
}

/**
 * A pod being run: an EventEmitter of PodEvents (by their `type`, and all of
 * them as `event`), awaitable for the PodResult.
 */
export class PodHandle extends EventEmitter implements PromiseLike<PodResult> {
  /** The pod once it is Running. */
  readonly started: Promise<Pod>
  /** The result once it ended and was torn down. */
  readonly result: Promise<PodResult>

  constructor(spec: PodSpec, opts: RunPodOptions) {
    super()
    const onEvent = (e: PodEvent) => {
      opts.onEvent?.(e)
      this.emit(e.type, e)
      this.emit('event', e)
    }
    this.started = Pod.start(spec, { ...opts, onEvent })
    this.result = this.started.then(pod => {
      const onAbort = () => void pod.stop()
      if (opts.signal?.aborted) onAbort()
      opts.signal?.addEventListener('abort', onAbort, { once: true })
      return pod.wait().finally(() => opts.signal?.removeEventListener('abort', onAbort))
    })
    this.result.catch(() => {}) // surfaced through then/await; never an unhandled rejection here
  }

  /** Stop gracefully (the pod's grace period unless given); `force` kills at once. */
  async stop(opts: { gracePeriodMs?: number; force?: boolean } = {}): Promise<PodResult> {
    const pod = await this.started
    return pod.stop({ gracePeriodSeconds: opts.gracePeriodMs === undefined ? undefined : opts.gracePeriodMs / 1000, force: opts.force })
  }

  then<A = PodResult, B = never>(onOk?: ((r: PodResult) => A | PromiseLike<A>) | null, onErr?: ((e: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.result.then(onOk, onErr)
  }
}

/**
 * Run a pod to completion: `await runPod(...)` gives the PodResult (phase,
 * exit code of the first failing container, every container's status); the
 * handle also emits events and can `stop()`. A bad manifest throws at once
 * (SPEC_INVALID, exit code 2, nothing created).
 */
export function runPod(manifest: ManifestInput, opts: RunPodOptions = {}): PodHandle {
  const warn = opts.onManifestWarning ?? ((m: string) => process.stderr.write(`warning: ${m}\n`))
  return new PodHandle(resolve(manifest, warn), opts)
}

export { attachPod, attachTarget, AttachConnection, type AttachHello } from './manage/index.js'
export {
  runDetached,
  startForeground,
  runEngine,
  stopPod,
  removePod,
  inspectPod,
  podStats,
  execInPod,
  execTerminal,
  type ExecOptions,
  podLogs,
  gc,
  podNamespaces,
  podTree,
  checkHost,
  NS_COLUMNS,
  type NsRow,
  type TreeNode,
  type CheckLine,
  type GcAction,
  type GcOptions,
  type DetachedStart,
  type LogOptions,
  loadManifestFile,
  manifestKey,
  manifestPath,
  podWarnings,
  MANIFEST_ANNOTATION,
  DOCUMENT_ANNOTATION,
  type ManifestFileOptions,
  type ManifestPods,
  bootPods,
  listPersisted,
  persistPod,
  unpersistManifest,
  unpersistPod,
  DEFAULT_PERSIST_ROOT,
  type BootResult,
  type PersistedPod,
  type SupervisedOptions,
  kubePod,
  containerID,
  podSummary,
  selectPods,
  parseSelector,
  matchesSelector,
  type PodSummary,
  type ContainerSummary,
  type Selector,
  podEvents,
  type PodEventRow,
  waitForPod,
  parseWaitFor,
  parseDuration,
  type WaitFor,
  watchStats,
  type StatsRow,
  copyFromPod,
  copyToPod,
  parseCpArg,
  portForward,
  parsePortPair,
  type PortPair,
  type PortForward,
  type ForwardEvents,
} from './manage/index.js'
export {
  listPods,
  displayPhase,
  podStatusText,
  isAlive,
  isReady,
  runningContainerStatuses,
  type PodRecord,
  type PodRef,
  type PodCondition,
  type EventRecord,
} from './state/index.js'
export { DEFAULT_STATE_ROOT } from './state/index.js'
export {
  importImage,
  importImages,
  inspectImage,
  parseSize,
  parseImageName,
  lookupImage,
  listImages,
  removeImage,
  familiarName,
  normalizeImageName,
  lowerdirOption,
  imageArgv,
  imageEnv,
  imageWorkingDir,
  resolveImageUser,
  type ImageRecord,
  type ImageConfig,
  type ImportOptions,
  type SizeLimits,
} from './rootfs/images/index.js'
export {
  pullImage,
  checkLogin,
  pullPodImages,
  parsePlatform,
  saveCredentials,
  removeCredentials,
  type PullEvent,
  type PullOptions,
} from './rootfs/images/index.js'

/** Parse a manifest (with warnings) into a PodSpec, for callers that start it themselves. */
export function loadManifest(manifest: ManifestInput, warn: (m: string) => void, opts: ValidateOptions = {}): PodSpec {
  return resolve(manifest, warn, opts)
}
export { explainPod, type PodPlan, type ProcessPlan } from './pod/explain.js'
export { checkFromRecord as checkPodNetwork, describeNetwork, type NetworkOptions, type PortMapping } from './net/index.js'
export { crashPoint, CRASH_STEPS, type CrashStep } from './crash-point.js'

export type { CriServer, CriServerOptions, StreamingUrls } from './cri/index.js'
export { DEFAULT_CRI_LISTEN } from './cri/defaults.js'

/**
 * Serve the CRI (runtime.v1 RuntimeService + ImageService) on a unix socket
 * until `close()`. Loaded on demand: gRPC costs nothing to the other commands.
 * Throws `cri.listen`.
 */
export async function serveCri(opts: import('./cri/index.js').CriServerOptions = {}): Promise<import('./cri/index.js').CriServer> {
  const { CriServer } = await import('./cri/index.js')
  return CriServer.start(opts)
}
