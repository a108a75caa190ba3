// Calling one CNI plugin (SPEC.md "Execution protocol"): the binary named by
// `type`, found in the CNI bin dirs, run with CNI_* variables in its
// environment and the network config on stdin; its result on stdout.
import { spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { join } from 'node:path'
import { PodError } from '../errors.js'
import { parseErrorResult, pluginError } from './result.js'

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION'

export interface RuntimeConf {
  /** CNI_CONTAINERID: the pod id. */
  containerId: string
  /** CNI_NETNS: a path to the pod's network namespace; '' when it is gone (DEL only). */
  netns: string
  /** CNI_IFNAME: the interface inside the pod. */
  ifName: string
  /** CNI_ARGS as key/value pairs. */
  args: [string, string][]
  /** runtimeConfig values by capability name (given to plugins that declare the capability). */
  capabilityArgs: Record<string, unknown>
}

const PLUGIN_TIMEOUT_MS = 60_000

/** The path of plugin `type` in the first bin dir that has it, else undefined. */
export function findPlugin(type: string, binDirs: string[]): string | undefined {
  for (const dir of binDirs) {
    const file = join(dir, type)
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {
      // not in this dir
    }
  }
  return undefined
}

export interface ExecOutput {
  stdout: string
}

/**
 * Run a plugin; resolves with its stdout when it exits 0. A non-zero exit
 * becomes a PodError `cni.<command>` with the plugin's error result (its
 * msg, details and code), or its stderr when it printed none.
 */
export function execPlugin(command: CniCommand, plugin: string, binDirs: string[], rt: RuntimeConf, config: object): Promise<ExecOutput> {
  const step = `cni.${command.toLowerCase()}`
  const file = findPlugin(plugin, binDirs)
  if (!file) {
    return Promise.reject(
      new PodError(`${step}: ${plugin}: plugin not found in ${binDirs.join(':')}`, {
        step,
        code: 'ENOENT',
        hint: 'apt-get install containernetworking-plugins, or point --cni-bin-dir at the plugins',
      }),
    )
  }
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CNI_')) env[k] = v
  env.PATH ??= '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  Object.assign(env, {
    CNI_COMMAND: command,
    CNI_CONTAINERID: rt.containerId,
    CNI_NETNS: rt.netns,
    CNI_IFNAME: rt.ifName,
    CNI_ARGS: rt.args.map(([k, v]) => `${k}=${v}`).join(';'),
    CNI_PATH: binDirs.join(':'),
  })
  return new Promise((resolve, reject) => {
    const child = spawn(file, [], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.stdin.on('error', () => {}) // a plugin that exits without reading: its exit status says why
    child.stdin.end(JSON.stringify(config))
    const timer = setTimeout(() => child.kill('SIGKILL'), PLUGIN_TIMEOUT_MS)
    child.on('error', e => {
      clearTimeout(timer)
      reject(PodError.system(step, e, file))
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) return resolve({ stdout })
      const err = parseErrorResult(stdout)
      if (err) return reject(pluginError(command, plugin, err))
      const why = signal === 'SIGKILL' ? `killed after ${PLUGIN_TIMEOUT_MS / 1000}s` : signal ? `killed by ${signal}` : `exit ${code}`
      const text = (stderr || stdout).trim().split('\n').slice(-3).join(' / ')
      reject(
        new PodError(`${step}: ${plugin}: ${why}${text ? `: ${text}` : ''}`, {
          step,
          code: 'CNI_PLUGIN_FAILED',
          hint: `the ${plugin} plugin (${file}) failed without a CNI error result`,
        }),
      )
    })
  })
}
