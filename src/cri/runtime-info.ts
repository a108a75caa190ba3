// Version, Status and RuntimeConfig: what kubelet asks before anything else.
import { readFileSync } from 'node:fs'
import { findConfList, findPlugin, networkSettings, type NetworkOptions } from '../net/index.js'
import type { RuntimeCondition } from './types.js'

/** The kubelet runtime API version every CRI runtime answers (the `version` field). */
export const KUBE_API_VERSION = '0.1.0'
export const RUNTIME_NAME = 'pod-launch'

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

export function version(): { version: string; runtimeName: string; runtimeVersion: string; runtimeApiVersion: string } {
  return { version: KUBE_API_VERSION, runtimeName: RUNTIME_NAME, runtimeVersion: packageVersion(), runtimeApiVersion: 'v1' }
}

/** The default network's plugins (net/default.ts writes its conflist on first use). */
const DEFAULT_PLUGINS = ['bridge', 'host-local', 'portmap']

/**
 * NetworkReady as kubelet needs it: the CNI network pods will get is usable
 * (its conflist parses and every plugin is found), or would be written on
 * first use (no conflist, the default network's plugins present).
 */
export function networkCondition(opts: NetworkOptions): RuntimeCondition {
  const notReady = (message: string): RuntimeCondition => ({ type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message })
  try {
    const { network, confDir, binDirs } = networkSettings(opts)
    if (network === 'none') return notReady('pod-launch cri runs with --network none: pods get loopback only')
    const list = findConfList(confDir)
    const wanted = list ? list.plugins.map(p => p.type) : DEFAULT_PLUGINS
    const missing = wanted.filter(t => !findPlugin(t, binDirs))
    if (missing.length > 0) return notReady(`CNI plugin ${missing.join(', ')} not found in ${binDirs.join(':')}${list ? ` (${list.file})` : ''}`)
    return { type: 'NetworkReady', status: true, reason: '', message: '' }
  } catch (e) {
    return notReady((e as Error).message)
  }
}

export function runtimeConditions(opts: NetworkOptions): RuntimeCondition[] {
  return [{ type: 'RuntimeReady', status: true, reason: '', message: '' }, networkCondition(opts)]
}
