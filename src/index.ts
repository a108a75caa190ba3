// pod-launch: the public library API. cli/ and labs/ use only this.
import { PodError } from './errors.js'
import { Pod, type PodOptions, type PodResult } from './pod/index.js'
import { parseManifest, readManifest, type ParseResult, type PodSpec } from './spec/index.js'

export { PodError } from './errors.js'
export { Pod, printLine, namespaceInodes, type PodEvent, type PodOptions, type PodResult, type ContainerResult, type OutputLine } from './pod/index.js'
export { parseManifest, parseManifestText, readManifest, type PodSpec, type ParseResult, type ContainerSpec } from './spec/index.js'
export { spawnProcess, native, pausePath, type ExitStatus, type NativePlan } from './spawn/index.js'

export interface RunPodOptions extends PodOptions {
  /** Aborting stops the pod gracefully (as Ctrl-C does in the CLI). */
  signal?: AbortSignal
  /** Called with warnings about the manifest (fields not honoured yet). */
  onManifestWarning?: (message: string) => void
}

/** A manifest: a file path, a parsed Pod object, or an already validated PodSpec. */
export type ManifestInput = string | Record<string, unknown> | PodSpec

function resolve(manifest: ManifestInput, warn: (m: string) => void): PodSpec {
  let parsed: ParseResult
  if (typeof manifest === 'string') parsed = readManifest(manifest)
  else if ('uid' in manifest && 'containers' in manifest && Object.isFrozen(manifest)) return manifest as PodSpec
  else parsed = parseManifest(manifest)
  if (parsed.unsupported.length > 0) warn(`not supported yet, ignored: ${parsed.unsupported.join(', ')}`)
  for (const w of parsed.warnings) warn(w)
  return parsed.spec
}

/**
 * Start a pod and return it once every container has exec'd.
 * Throws PodError: `spec.*` (exit code 2, nothing created), `spawn.*` / `child.*`.
 */
export async function startPod(manifest: ManifestInput, opts: RunPodOptions = {}): Promise<Pod> {
  const warn = opts.onManifestWarning ?? ((m: string) => process.stderr.write(`warning: ${m}\n`))
  return Pod.start(resolve(manifest, warn), opts)
}

/**
 * Run a pod to completion: start it, wait for every container, tear it down.
 * Resolves with each container's exit; the pod's exitCode is the first
 * failing container's. Throws as `startPod`.
 */
export async function runPod(manifest: ManifestInput, opts: RunPodOptions = {}): Promise<PodResult> {
  if (opts.signal?.aborted) throw new PodError('pod.run: aborted before start', { step: 'pod.run', code: 'ABORT_ERR' })
  const pod = await startPod(manifest, opts)
  const onAbort = () => void pod.stop()
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    return await pod.wait()
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
  }
}
