// Manifest text (YAML or JSON) -> validated PodSpec, or one SPEC_INVALID error.
import { createRequire } from 'node:module'
import { readBounded } from '../bounded-read.js'
import { PodError } from '../errors.js'
import type { ParseResult } from './types.js'
import { validatePod, type ValidateOptions } from './validate.js'

/** Parse a manifest's text. YAML is a superset of JSON; the first Pod document wins. */
export function parseManifestText(text: string, source = '(manifest)', opts: ValidateOptions = {}): ParseResult {
  // JSON needs no YAML parser: loading one costs a CLI run ~50 ms.
  if (/^\s*\{/.test(text)) {
    try {
      return parseManifest(JSON.parse(text), source, opts)
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e // a validation error; a syntax error gets the YAML parser's message
    }
  }
  const { parseAllDocuments } = createRequire(import.meta.url)('yaml') as typeof import('yaml')
  const docs = parseAllDocuments(text)
  const list = Array.isArray(docs) ? docs : [docs]
  const objects: unknown[] = []
  for (const doc of list) {
    if (doc.errors.length > 0) {
      const e = doc.errors[0]
      throw new PodError(`spec.parse: ${source}: ${e.message.split('\n')[0]}`, {
        step: 'spec.parse',
        code: 'SPEC_INVALID',
        exitCode: 2,
        path: source,
        hint: 'the file must be one YAML or JSON Pod manifest',
      })
    }
    const value = doc.toJS()
    if (value !== null && value !== undefined) objects.push(value)
  }
  if (objects.length === 0) {
    throw new PodError(`spec.parse: ${source}: no document found`, { step: 'spec.parse', code: 'SPEC_INVALID', exitCode: 2, path: source })
  }
  const podIndex = objects.findIndex(o => (o as { kind?: unknown })?.kind === 'Pod')
  const chosen = podIndex >= 0 ? podIndex : 0
  const result = parseManifest(objects[chosen], source, opts)
  const others = objects.flatMap((o, i) => (i === chosen ? [] : [`${(o as { kind?: string })?.kind ?? '?'} (document ${i + 1})`]))
  if (others.length > 0) result.warnings.push(`${source}: ignoring other documents: ${others.join(', ')}`)
  return result
}

/** Validate a manifest object; throws SPEC_INVALID listing every problem by field path. */
export function parseManifest(manifest: unknown, source = '(manifest)', opts: ValidateOptions = {}): ParseResult {
  const { result, problems } = validatePod(manifest, opts)
  if (result) return result
  const lines = problems.map(p => `  ${p.path}: ${p.message}`)
  return fail(source, lines)
}

function fail(source: string, lines: string[]): never {
  throw new PodError(`spec.invalid: ${source}: ${lines.length} problem${lines.length === 1 ? '' : 's'}\n${lines.join('\n')}`, {
    step: 'spec.invalid',
    code: 'SPEC_INVALID',
    exitCode: 2,
    path: source,
  })
}

/** Far above any real Pod (etcd refuses objects over 1.5 MiB). */
export const MANIFEST_MAX_BYTES = 16 << 20

/** Read and parse a manifest file. */
export function readManifest(file: string, opts: ValidateOptions = {}): ParseResult {
  let text: string
  try {
    // Any file type (a manifest may come on /dev/stdin), but bounded: /dev/zero must not hang us.
    text = readBounded(file, MANIFEST_MAX_BYTES, false).toString('utf8')
  } catch (e) {
    throw PodError.system('spec.read', e, file, { exitCode: 2, code: (e as { code?: string }).code })
  }
  return parseManifestText(text, file, opts)
}
