// A conflist's plugins as one network (SPEC.md "Network configuration list
// runtime semantics"): ADD in order, each given the previous result as
// prevResult; DEL in reverse order, each given the cached ADD result; CHECK
// in order with the cached result.
import type { ConfList, PluginConf } from './conflist.js'
import { execPlugin, type CniCommand, type RuntimeConf } from './exec.js'
import { convertResult, parseResult, type CniResult } from './result.js'

/** The config a plugin reads on stdin: its own object plus name, cniVersion, prevResult, runtimeConfig. */
export function pluginConfig(list: ConfList, plugin: PluginConf, rt: RuntimeConf, prev?: CniResult): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion }
  const runtimeConfig: Record<string, unknown> = {}
  for (const [cap, on] of Object.entries(plugin.capabilities ?? {})) {
    if (on && rt.capabilityArgs[cap] !== undefined) runtimeConfig[cap] = rt.capabilityArgs[cap]
  }
  if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = { ...(plugin.runtimeConfig ?? {}), ...runtimeConfig }
  if (prev) conf.prevResult = convertResult(prev, list.cniVersion)
  return conf
}

async function call(command: CniCommand, list: ConfList, plugin: PluginConf, binDirs: string[], rt: RuntimeConf, prev?: CniResult): Promise<string> {
  return (await execPlugin(command, plugin.type, binDirs, rt, pluginConfig(list, plugin, rt, prev))).stdout
}

/**
 * ADD every plugin of the list in order; resolves with the last result.
 * `onResult` sees each intermediate result (to cache it before the next
 * plugin runs). Throws PodError `cni.add` / `cni.result`.
 */
export async function addNetwork(list: ConfList, binDirs: string[], rt: RuntimeConf, onResult?: (r: CniResult) => void): Promise<CniResult> {
  let prev: CniResult | undefined
  for (const plugin of list.plugins) {
    const out = await call('ADD', list, plugin, binDirs, rt, prev)
    prev = parseResult(out, plugin.type)
    onResult?.(prev)
  }
  return prev!
}

/** DEL every plugin in reverse order with the cached result (when ADD got that far). Throws the first failure after trying them all. */
export async function delNetwork(list: ConfList, binDirs: string[], rt: RuntimeConf, cached?: CniResult): Promise<void> {
  let first: unknown
  for (const plugin of [...list.plugins].reverse()) {
    try {
      await call('DEL', list, plugin, binDirs, rt, cached)
    } catch (e) {
      first ??= e
    }
  }
  if (first) throw first
}

/** CHECK every plugin in order with the cached result (skipped when the list sets disableCheck). Throws PodError `cni.check`. */
export async function checkNetwork(list: ConfList, binDirs: string[], rt: RuntimeConf, cached: CniResult): Promise<void> {
  if (list.disableCheck) return
  for (const plugin of list.plugins) await call('CHECK', list, plugin, binDirs, rt, cached)
}
