// The options every command takes, each with its environment variable, and the
// checks on argv that yargs does not make (unknown commands, number options).
import { existsSync, statSync } from 'node:fs'
import type { Argv } from 'yargs'
// Leaf modules, not ../index.js: every command loads this file (see main.ts).
import { PodError } from '../errors.js'
import { closestName } from '../spec/suggest.js'
import { DEFAULT_PERSIST_ROOT, DEFAULT_STATE_ROOT } from '../state/layout.js'

export class UsageError extends Error {}

/** Global options: name -> [environment variable, description]. */
const GLOBALS = {
  root: ['POD_LAUNCH_ROOT', 'state root: runtime state, gone at reboot'],
  'persist-root': ['POD_LAUNCH_PERSIST_ROOT', 'what survives a reboot: pods kept with run -d --persist'],
  'cgroup-parent': ['POD_LAUNCH_CGROUP_PARENT', 'parent of the pod cgroup below each hierarchy root (default pod-launch)'],
  network: ['POD_LAUNCH_NETWORK', 'cni: the CNI network of --cni-conf-dir (default); none: loopback only'],
  'cni-conf-dir': [
    'POD_LAUNCH_CNI_CONF_DIR',
    'CNI network configs; the first conflist is used, a default one is written when none (default /etc/pod-launch/net.d)',
  ],
  'cni-bin-dir': ['POD_LAUNCH_CNI_BIN_DIR', 'CNI plugin dirs, colon-separated (default /usr/lib/cni:/opt/cni/bin)'],
  debug: ['POD_LAUNCH_DEBUG', 'print causes and stacks of errors'],
} as const

/** The global options as parsed, with the environment filled in. */
export interface Globals {
  root: string
  persistRoot: string
  cgroupParent?: string
  network?: 'cni' | 'none'
  cniConfDir?: string
  cniBinDir?: string
  debug: boolean
}

/** Declare the global options on the top-level parser (yargs shows them under every command's --help). */
export function globalOptions(y: Argv, env: NodeJS.ProcessEnv): Argv {
  for (const [name, [variable, describe]] of Object.entries(GLOBALS)) {
    const fromEnv = env[variable] === '' ? undefined : env[variable]
    const text = `${describe} (env ${variable})`
    if (name === 'debug')
      y.option(name, { type: 'boolean', describe: text, global: true, default: fromEnv !== undefined && fromEnv !== '0' && fromEnv !== 'false' })
    else if (name === 'network')
      y.option(name, { type: 'string', choices: ['cni', 'none'], describe: text, global: true, ...(fromEnv ? { default: fromEnv } : {}) })
    else
      y.option(name, {
        type: 'string',
        describe: text,
        global: true,
        ...(name === 'root'
          ? { default: fromEnv ?? DEFAULT_STATE_ROOT }
          : name === 'persist-root'
            ? { default: fromEnv ?? DEFAULT_PERSIST_ROOT }
            : fromEnv
              ? { default: fromEnv }
              : {}),
      })
  }
  return y.group(Object.keys(GLOBALS), 'Global options:')
}

export function globalsOf(a: Record<string, unknown>): Globals {
  return {
    root: a.root as string,
    persistRoot: a.persistRoot as string,
    cgroupParent: a.cgroupParent as string | undefined,
    network: a.network as 'cni' | 'none' | undefined,
    cniConfDir: a.cniConfDir as string | undefined,
    cniBinDir: a.cniBinDir as string | undefined,
    debug: !!a.debug,
  }
}

/**
 * A whole number of seconds (or count) as kubectl takes it: an integer; a negative
 * value means the default (undefined). Anything else is a usage error.
 */
export function wholeNumber(option: string, opts: { negativeIsDefault?: boolean; min?: number } = {}) {
  return (v: unknown): number | undefined => {
    if (v === undefined) return undefined
    const s = String(Array.isArray(v) ? v[v.length - 1] : v)
    if (!/^-?\d+$/.test(s.trim())) throw new UsageError(`--${option} ${s}: must be an integer`)
    const n = Number(s)
    if (n < 0 && opts.negativeIsDefault) return undefined
    if (n < (opts.min ?? 0)) throw new UsageError(`--${option} ${s}: must be an integer >= ${opts.min ?? 0}`)
    return n
  }
}

/** --strict (default), --strict=warn: kubectl's --validate=strict|warn. */
export const strictOption = {
  type: 'string',
  default: 'strict',
  describe: 'unknown manifest fields and a container without image: errors (strict, the default, as kubectl), or warnings (warn)',
  coerce: (v: unknown): boolean => {
    const s = String(Array.isArray(v) ? v[v.length - 1] : v)
    if (['', 'true', 'strict', 'error'].includes(s)) return true
    if (['warn', 'false'].includes(s)) return false
    throw new UsageError(`--strict=${s}: must be strict or warn`)
  },
} as const

/** Options that take a value, so that the word after them is not a command. */
const VALUED = new Set([
  'root',
  'persist-root',
  'configmap',
  'secret',
  'cgroup-parent',
  'network',
  'cni-conf-dir',
  'cni-bin-dir',
  'grace-period',
  'backoff',
  'pids-limit',
  'image-fallback',
  'strict',
  'o',
  'output',
  'l',
  'selector',
  'filter',
  'since',
  'since-time',
  'for',
  'timeout',
  'interval',
  'address',
  'c',
  'container',
])

/** The first word of argv that is not an option or an option's value. */
export function firstWord(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--') return argv[i + 1]
    if (a.startsWith('-')) {
      const name = a.replace(/^-+/, '')
      if (!name.includes('=') && VALUED.has(name)) i++
      continue
    }
    return a
  }
  return undefined
}

/**
 * The short form `pod-launch FILE` takes an existing file (or a word that reads
 * as a path, to report it missing); any other unknown word is an unknown command.
 */
export function checkCommandWord(argv: string[], commands: string[]): void {
  const word = firstWord(argv)
  if (word === undefined || commands.includes(word)) return
  const isFile = existsSync(word) && statSync(word).isFile()
  if (isFile || word.includes('/') || /\.(ya?ml|json)$/i.test(word)) return
  const near = closestName(word, commands)
  throw new UsageError(`unknown command '${word}'${near ? ` (did you mean '${near}'?)` : ''}`)
}

/** Commands that make or act on processes, cgroups and namespaces. */
const ROOT_COMMANDS = new Set(['run', 'down', 'boot', 'stop', 'rm', 'exec', 'attach', 'cp', 'port-forward', 'gc', 'lab', 'ns', 'tree', 'stats', '__engine'])

/** One clear message before anything is tried, rather than an EACCES from deep inside. */
export function requireRoot(command: string, uid = process.getuid?.() ?? 0): void {
  if (uid === 0 || !ROOT_COMMANDS.has(command)) return
  throw new PodError(`cli.root: pod-launch ${command}: needs root (running as uid ${uid})`, {
    step: 'cli.root',
    code: 'EPERM',
    exitCode: 1,
    hint: `namespaces and cgroups need root: sudo pod-launch ${command} ...`,
  })
}

/** A permission error from a non-root run (e.g. reading /run/pod-launch): say that root is needed. */
export function asRootError(e: unknown, uid = process.getuid?.() ?? 0): unknown {
  const err = e as NodeJS.ErrnoException
  if (uid === 0 || !err || (err.code !== 'EACCES' && err.code !== 'EPERM') || e instanceof PodError) return e
  return new PodError(`cli.root: ${err.path ?? err.syscall ?? 'permission'}: permission denied (running as uid ${uid})`, {
    step: 'cli.root',
    code: err.code,
    exitCode: 1,
    hint: 'pod-launch needs root: sudo pod-launch ...',
    cause: e,
  })
}
