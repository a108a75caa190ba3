// A manifest file as `run FILE`, `explain FILE` and `down FILE` take it:
// every pod it makes (annotated with the file and document, so `down` finds
// exactly them), the ConfigMaps and Secrets they read (from the file and
// from --configmap / --secret files), checked before anything is made.
import { realpathSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { PodError } from '../errors.js'
import { checkPodConfig } from '../pod/config.js'
import {
  describeOrigin,
  originLabel,
  readManifestSet,
  readObjectFiles,
  type ConfigObject,
  type DocumentOrigin,
  type ManifestSet,
  type PodDocument,
  type PodObjects,
  type ValidateOptions,
} from '../spec/index.js'

/** Annotations of a pod made from a file: the file's real path and the document (`3`, or `3.2` for a List item). */
export const MANIFEST_ANNOTATION = 'pod-launch.io/manifest'
export const DOCUMENT_ANNOTATION = 'pod-launch.io/document'

export interface ManifestFileOptions extends ValidateOptions {
  /** Refuse a file with no pod and a reference no object meets (run); explain shows them instead. Default true. */
  check?: boolean
  /** --configmap: files (or directories of files) of ConfigMaps. */
  configMaps?: string[]
  /** --secret: files (or directories of files) of Secrets. */
  secrets?: string[]
}

export interface ManifestPods {
  /** The path as given. */
  source: string
  /** Its real path (what pods are annotated with); unset when it is not a regular file (stdin). */
  file?: string
  pods: PodDocument[]
  objects: PodObjects
  /** Where each Secret came from (`namespace/name` -> real path): a pod kept for boot reads it there again. */
  secretFiles: Map<string, string>
  objectOrigins: DocumentOrigin[]
  /** Documents run as nothing, and why. */
  notRun: ManifestSet['notRun']
  warnings: string[]
}

/** The real path of a regular file, else undefined. */
export function manifestPath(file: string): string | undefined {
  try {
    return statSync(file).isFile() ? realpathSync(file) : undefined
  } catch {
    return undefined
  }
}

/** What `down FILE` looks for: the real path, or the absolute one of a file that is gone. */
export const manifestKey = (file: string): string => manifestPath(file) ?? resolve(file)

const key = (o: ConfigObject) => `${o.namespace}/${o.name}`

/**
 * Read FILE and the --configmap / --secret files. Throws SPEC_INVALID (every
 * problem of every document), `pod.config` (a reference no object meets,
 * for every pod), or `manifest.empty` (no pod to run).
 */
export function loadManifestFile(source: string, opts: ManifestFileOptions = {}): ManifestPods {
  const file = manifestPath(source)
  const set = readManifestSet(source, {
    strict: opts.strict,
    annotate: file ? origin => ({ [MANIFEST_ANNOTATION]: file, [DOCUMENT_ANNOTATION]: originLabel(origin) }) : undefined,
  })
  const objects: PodObjects = { configMaps: [...set.objects.configMaps], secrets: [...set.objects.secrets] }
  const secretFiles = new Map(set.objects.secrets.map(o => [key(o), file ?? source]))
  const extra = [
    { paths: opts.configMaps ?? [], kind: 'ConfigMap' as const },
    { paths: opts.secrets ?? [], kind: 'Secret' as const },
  ]
  for (const { paths, kind } of extra) {
    if (paths.length === 0) continue
    const more = readObjectFiles(paths, kind, { strict: opts.strict })
    const mine: ConfigObject[] = kind === 'ConfigMap' ? objects.configMaps : objects.secrets
    for (const o of [...more.objects.configMaps, ...more.objects.secrets]) {
      if (mine.some(m => key(m) === key(o)))
        throw new PodError(`spec.invalid: ${more.from.get(key(o))}: ${kind} ${o.name}: also given in ${source}`, {
          step: 'spec.invalid',
          code: 'SPEC_INVALID',
          exitCode: 2,
          hint: `give each ${kind} once`,
        })
      if (o.kind === 'ConfigMap') objects.configMaps.push(o)
      else objects.secrets.push(o)
      if (kind === 'Secret') secretFiles.set(key(o), manifestPath(more.from.get(key(o))!) ?? more.from.get(key(o))!)
    }
  }
  const result = { source, file, pods: set.pods, objects, secretFiles, objectOrigins: set.objectOrigins, notRun: set.notRun, warnings: set.warnings }
  if (opts.check === false) return result
  if (set.pods.length === 0) {
    const what = [...set.objectOrigins, ...set.notRun.map(n => n.origin)].map(describeOrigin)
    throw new PodError(`manifest.empty: ${source}: no Pod to run${what.length ? ` (it holds ${what.join(', ')})` : ''}`, {
      step: 'manifest.empty',
      code: 'SPEC_INVALID',
      exitCode: 2,
      hint: 'give a file with a Pod, or a Deployment, ReplicaSet, StatefulSet, DaemonSet or Job',
    })
  }
  // Every pod's references, before any pod is made.
  const problems: string[] = []
  for (const p of set.pods) {
    try {
      checkPodConfig(p.parsed.spec, objects)
    } catch (e) {
      problems.push((e as Error).message.replace(/^pod\.config: /, ''))
    }
  }
  if (problems.length > 0) {
    throw new PodError(`pod.config: ${problems.join('\n  ')}`, {
      step: 'pod.config',
      code: 'CreateContainerConfigError',
      exitCode: 2,
      hint:
        'give the ConfigMap or Secret in the same file (a document of its own), with --configmap FILE / --secret FILE, ' +
        'or mark the reference optional: true',
    })
  }
  return result
}

/** The warnings of one pod's document (fields not honoured yet), prefixed with the pod when the file has several. */
export function podWarnings(m: ManifestPods, p: PodDocument): string[] {
  const prefix = m.pods.length > 1 ? `pod ${p.parsed.spec.name}: ` : ''
  return [
    ...(p.parsed.unsupported.length > 0 ? [`${prefix}not supported yet, ignored: ${p.parsed.unsupported.join(', ')}`] : []),
    ...p.parsed.warnings.map(w => prefix + w),
  ]
}
