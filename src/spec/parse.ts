// Manifest text (YAML or JSON) -> validated PodSpec (the first Pod), or a
// whole ManifestSet (every document); one SPEC_INVALID error listing every problem.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { readBounded } from '../bounded-read.js'
import { PodError } from '../errors.js'
import { parseManifestDocuments, splitDocuments, type ManifestSet, type ManifestSetOptions } from './documents.js'
import type { PodObjects } from './objects.js'
import type { ParseResult, SpecProblem } from './types.js'
import { validatePod, type ValidateOptions } from './validate.js'

function parseError(source: string): (message: string, syntax: boolean) => never {
  return (message, syntax) => {
    throw new PodError(`spec.parse: ${source}: ${message}`, {
      step: 'spec.parse',
      code: 'SPEC_INVALID',
      exitCode: 2,
      path: source,
      ...(syntax ? { hint: 'the file must be YAML or JSON: Kubernetes objects, one per document (separated by ---)' } : {}),
    })
  }
}

/** Parse a manifest's text. YAML is a superset of JSON; the first Pod document wins (the library's one-pod API). */
export function parseManifestText(text: string, source = '(manifest)', opts: ValidateOptions = {}): ParseResult {
  const objects = splitDocuments(text, source, parseError(source))
  const podIndex = objects.findIndex(o => (o as { kind?: unknown })?.kind === 'Pod')
  const chosen = podIndex >= 0 ? podIndex : 0
  const result = parseManifest(objects[chosen], source, opts)
  const others = objects.flatMap((o, i) => (i === chosen ? [] : [`${(o as { kind?: string })?.kind ?? '?'} (document ${i + 1})`]))
  if (others.length > 0) result.warnings.push(`${source}: ignoring other documents: ${others.join(', ')}`)
  return result
}

/** Every document of a manifest's text; throws SPEC_INVALID listing every problem of every document. */
export function parseManifestSetText(text: string, source = '(manifest)', opts: ManifestSetOptions = {}): ManifestSet {
  const { set, problems } = parseManifestDocuments(splitDocuments(text, source, parseError(source)), source, opts)
  if (problems.length > 0) fail(source, problems)
  return set
}

/** Validate a manifest object; throws SPEC_INVALID listing every problem by field path. */
export function parseManifest(manifest: unknown, source = '(manifest)', opts: ValidateOptions = {}): ParseResult {
  const { result, problems } = validatePod(manifest, opts)
  if (result) return result
  return fail(source, problems)
}

function fail(source: string, problems: SpecProblem[]): never {
  const lines = problems.map(p => `  ${p.path}: ${p.message}`)
  throw new PodError(`spec.invalid: ${source}: ${lines.length} problem${lines.length === 1 ? '' : 's'}\n${lines.join('\n')}`, {
    step: 'spec.invalid',
    code: 'SPEC_INVALID',
    exitCode: 2,
    path: source,
  })
}

/** Far above any real Pod (etcd refuses objects over 1.5 MiB). */
export const MANIFEST_MAX_BYTES = 16 << 20

function readText(file: string): string {
  try {
    // Any file type (a manifest may come on /dev/stdin), but bounded: /dev/zero must not hang us.
    return readBounded(file, MANIFEST_MAX_BYTES, false).toString('utf8')
  } catch (e) {
    throw PodError.system('spec.read', e, file, { exitCode: 2, code: (e as { code?: string }).code })
  }
}

/** Read and parse a manifest file (its first Pod). */
export function readManifest(file: string, opts: ValidateOptions = {}): ParseResult {
  return parseManifestText(readText(file), file, opts)
}

/** Read and parse a whole manifest file: every document. */
export function readManifestSet(file: string, opts: ManifestSetOptions = {}): ManifestSet {
  return parseManifestSetText(readText(file), file, opts)
}

/** Manifest files of a directory, as `kubectl apply -f DIR` takes them (*.yaml, *.yml, *.json, sorted). */
function manifestFiles(path: string): string[] {
  let st
  try {
    st = statSync(path)
  } catch (e) {
    throw PodError.system('spec.read', e, path, { exitCode: 2, code: (e as { code?: string }).code })
  }
  if (!st.isDirectory()) return [path]
  return readdirSync(path)
    .filter(n => /\.(ya?ml|json)$/i.test(n))
    .sort()
    .map(n => join(path, n))
}

/**
 * The ConfigMaps (or Secrets) of `--configmap` / `--secret` paths: files of
 * such documents (several per file allowed, nothing else), or directories of
 * them; a name given twice is a problem.
 */
export function readObjectFiles(paths: string[], kind: 'ConfigMap' | 'Secret', opts: ValidateOptions = {}): { objects: PodObjects; from: Map<string, string> } {
  const out: PodObjects = { configMaps: [], secrets: [] }
  /** `namespace/name` -> the file it came from. */
  const from = new Map<string, string>()
  for (const file of paths.flatMap(manifestFiles)) {
    const set = readManifestSet(file, { ...opts, only: kind })
    for (const o of [...set.objects.configMaps, ...set.objects.secrets]) {
      const key = `${o.namespace}/${o.name}`
      if (from.has(key)) fail(file, [{ path: `${kind} ${o.name}`, message: `is given twice (also in ${from.get(key)})` }])
      from.set(key, file)
    }
    out.configMaps.push(...set.objects.configMaps)
    out.secrets.push(...set.objects.secrets)
  }
  return { objects: out, from }
}
