// Network configuration lists (CNI SPEC.md "Configuration format"): load the
// first `.conflist` (or a single-plugin `.conf` / `.json`) of a directory, in
// name order as libcni does, and validate it with errors naming file and field.
import { existsSync, readdirSync } from 'node:fs'
import { readBounded } from '../bounded-read.js'
import { join } from 'node:path'
import { PodError } from '../errors.js'
import { compareVersions, isSupportedVersion, SUPPORTED_VERSIONS } from './result.js'

export interface PluginConf {
  type: string
  capabilities?: Record<string, boolean>
  [key: string]: unknown
}

export interface ConfList {
  /** The file it came from (in messages). */
  file: string
  name: string
  /** The version every plugin is called with. */
  cniVersion: string
  disableCheck: boolean
  plugins: PluginConf[]
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/
const EXTENSIONS = ['.conflist', '.conf', '.json']
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function invalid(file: string, field: string, reason: string): PodError {
  return new PodError(`cni.config: ${file}: ${field}: ${reason}`, {
    step: 'cni.config',
    code: 'CNI_CONFIG_INVALID',
    path: file,
    exitCode: 2,
    hint: 'fix the network config (CNI conflist format: https://www.cni.dev/docs/spec/), or point --cni-conf-dir elsewhere',
  })
}

/** The highest version both `cniVersions` (1.1.0) and we support, else `cniVersion`. */
function pickVersion(file: string, o: Record<string, unknown>): string {
  if (o.cniVersions !== undefined) {
    if (!Array.isArray(o.cniVersions) || !o.cniVersions.every(v => typeof v === 'string'))
      throw invalid(file, 'cniVersions', 'must be an array of version strings')
    const ok = o.cniVersions.filter(isSupportedVersion).sort(compareVersions)
    if (ok.length > 0) return ok[ok.length - 1]
    if (o.cniVersion === undefined)
      throw invalid(file, 'cniVersions', `none of ${JSON.stringify(o.cniVersions)} is supported (${SUPPORTED_VERSIONS.join(', ')})`)
  }
  if (typeof o.cniVersion !== 'string') throw invalid(file, 'cniVersion', 'required (a version string such as "1.0.0")')
  if (!isSupportedVersion(o.cniVersion)) throw invalid(file, 'cniVersion', `"${o.cniVersion}" is not supported: use one of ${SUPPORTED_VERSIONS.join(', ')}`)
  return o.cniVersion
}

function checkPlugin(file: string, p: unknown, path: string): PluginConf {
  if (!isObj(p)) throw invalid(file, path, 'must be an object')
  if (typeof p.type !== 'string' || p.type === '') throw invalid(file, `${path}.type`, 'required (the plugin binary name, e.g. "bridge")')
  if (p.type.includes('/') || p.type.startsWith('.')) throw invalid(file, `${path}.type`, `"${p.type}" must be a plain binary name in the CNI bin dir`)
  if (p.capabilities !== undefined && (!isObj(p.capabilities) || !Object.values(p.capabilities).every(v => typeof v === 'boolean'))) {
    throw invalid(file, `${path}.capabilities`, 'must map capability names to true/false')
  }
  return p as PluginConf
}

/** Validate the text of a `.conflist` or single-plugin `.conf`. Throws PodError `cni.config`. */
export function parseConfList(text: string, file: string): ConfList {
  let o: unknown
  try {
    o = JSON.parse(text)
  } catch (e) {
    throw invalid(file, '(file)', 'not JSON') // never V8's message: it quotes the file's text
  }
  if (!isObj(o)) throw invalid(file, '(file)', 'must be a JSON object')
  if (typeof o.name !== 'string' || o.name === '') throw invalid(file, 'name', 'required')
  if (!NAME.test(o.name)) throw invalid(file, 'name', `"${o.name}" must start with a letter or digit and contain only letters, digits, '_', '.', '-'`)
  const cniVersion = pickVersion(file, o)
  let plugins: PluginConf[]
  if (o.plugins !== undefined) {
    if (!Array.isArray(o.plugins) || o.plugins.length === 0) throw invalid(file, 'plugins', 'must be a non-empty array')
    plugins = o.plugins.map((p, i) => checkPlugin(file, p, `plugins[${i}]`))
  } else if (o.type !== undefined) {
    // A single-plugin .conf: the plugin is the whole object.
    const { cniVersion: _v, name: _n, ...plugin } = o
    plugins = [checkPlugin(file, plugin, '(file)')]
  } else {
    throw invalid(file, 'plugins', 'required (or "type" for a single-plugin .conf)')
  }
  if (o.disableCheck !== undefined && typeof o.disableCheck !== 'boolean') throw invalid(file, 'disableCheck', 'must be true or false')
  return { file, name: o.name, cniVersion, disableCheck: o.disableCheck === true, plugins }
}

export function loadConfList(file: string): ConfList {
  let text: string
  try {
    text = readBounded(file, 1 << 20).toString('utf8')
  } catch (e) {
    throw PodError.system('cni.config', e, file, { code: (e as { code?: string }).code })
  }
  return parseConfList(text, file)
}

/** The config files of a directory, in the order libcni tries them. */
export function confFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true })
    .filter(d => (d.isFile() || d.isSymbolicLink()) && EXTENSIONS.some(x => d.name.endsWith(x)))
    .map(d => join(dir, d.name))
    .sort()
}

/** The first network config of `dir` (name order), or undefined when it has none. Throws PodError `cni.config` when that one is invalid. */
export function findConfList(dir: string): ConfList | undefined {
  const [first] = confFiles(dir)
  return first ? loadConfList(first) : undefined
}
