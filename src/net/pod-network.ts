// A pod's network: decide (before anything is made) whether it gets the CNI
// network, loopback only or the host's; ADD with pause's net namespace; DEL
// on teardown from a record kept under the state root (`.cni/<pod id>.json`:
// the conflist, runtime args and the ADD result, as libcni caches them under
// /var/lib/cni/results), so `rm --force` and `gc` can DEL after a crash.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statfsSync } from 'node:fs'
import { join } from 'node:path'
import { writeJsonAtomic } from '../atomic-file.js'
import { PodError } from '../errors.js'
import type { PodSpec } from '../spec/index.js'
import { native } from '../spawn/index.js'
import { isAlive, processIdentity, type ProcessIdentity } from '../state/index.js'
import { addNetwork, checkNetwork, delNetwork } from './cni.js'
import { findConfList, loadConfList, type ConfList } from './conflist.js'
import { writeDefaultConfList } from './default.js'
import { findPlugin, type RuntimeConf } from './exec.js'
import { parseResult, podIPs, type CniResult } from './result.js'
import { CNI_INSTALL_HINT, networkSettings, noCniPlan, planLocalNetwork, portMappings, type NetworkOptions, type NetworkPlan } from './settings.js'

/** The plugins the default network needs. */
const DEFAULT_PLUGINS = ['bridge', 'host-local', 'portmap', 'firewall']

/**
 * Which network the pod gets. Writes the default conflist when the conf dir
 * has none and the plugins exist. Throws PodError `cni.config` (a bad
 * conflist), `cni.plan` (hostPort without a CNI network, a plugin missing).
 */
export function planNetwork(spec: PodSpec, opts: NetworkOptions, warn: (m: string) => void): NetworkPlan {
  const local = planLocalNetwork(spec, opts)
  if (local) return local
  const { confDir, binDirs } = networkSettings(opts)
  const noCni = (why: string, hint: string): NetworkPlan => noCniPlan(spec, opts, why, hint)
  let list = findConfList(confDir)
  if (!list) {
    const missing = DEFAULT_PLUGINS.filter(p => !findPlugin(p, binDirs))
    if (missing.length === DEFAULT_PLUGINS.length) {
      const why = `no CNI plugins in ${binDirs.join(':')}`
      const plan = noCni(why, CNI_INSTALL_HINT)
      warn(`pod ${spec.name}: ${why}: the pod gets loopback only; to install them: ${CNI_INSTALL_HINT}`)
      return plan
    }
    if (missing.length > 0)
      throw new PodError(`cni.plan: ${binDirs.join(':')}: the default network needs ${missing.join(', ')}, not found`, {
        step: 'cni.plan',
        code: 'ENOENT',
        hint: CNI_INSTALL_HINT,
      })
    list = loadConfList(writeDefaultConfList(confDir))
  }
  const missing = list.plugins.map(p => p.type).filter(t => !findPlugin(t, binDirs))
  if (missing.length === list.plugins.length) {
    const why = `no plugin of ${list.file} (${missing.join(', ')}) in ${binDirs.join(':')}`
    const plan = noCni(why, CNI_INSTALL_HINT)
    warn(`pod ${spec.name}: ${why}: the pod gets loopback only; to install them: ${CNI_INSTALL_HINT}`)
    return plan
  }
  if (missing.length > 0) {
    throw new PodError(`cni.plan: ${list.file}: plugin ${missing.join(', ')} not found in ${binDirs.join(':')}`, {
      step: 'cni.plan',
      code: 'ENOENT',
      hint: CNI_INSTALL_HINT,
    })
  }
  return { kind: 'cni', list, binDirs, portMappings: opts.portMappings ?? portMappings(spec) }
}

/** What a run would do for the network, in one line, without writing or calling anything (for `explain`). */
export function describeNetwork(spec: PodSpec, opts: NetworkOptions = {}): string {
  if (spec.hostNetwork) return "the host's network namespace (hostNetwork): no CNI call"
  let s: ReturnType<typeof networkSettings>
  try {
    s = networkSettings(opts)
  } catch (e) {
    return (e as Error).message
  }
  if (s.network === 'none') return 'loopback only (--network none)'
  const ports = portMappings(spec).map(p => `${p.hostIP ? `${p.hostIP}:` : ''}${p.hostPort}->${p.containerPort}/${p.protocol}`)
  let list: ConfList | undefined
  try {
    list = findConfList(s.confDir)
  } catch (e) {
    return (e as Error).message
  }
  const types = list ? list.plugins.map(p => p.type) : DEFAULT_PLUGINS
  if (!types.some(t => findPlugin(t, s.binDirs))) return `loopback only: no CNI plugins in ${s.binDirs.join(':')}`
  const what = list
    ? `${list.name} from ${list.file} (${types.join(', ')})`
    : `the default network, written to ${s.confDir} on first use (bridge pl0, host-local, portmap, firewall)`
  const portMaps = ports.length ? `, portMappings ${ports.join(' ')}` : ''
  return `CNI ADD of ${what}: netns /proc/<pause>/ns/net, ifname eth0, containerId ${spec.uid}${portMaps}; DEL at teardown`
}

/** What is kept to DEL the pod's network later, from any process. */
export interface NetworkRecord {
  id: string
  pod: string
  list: ConfList
  binDirs: string[]
  runtime: RuntimeConf
  /** pause, to tell whether its netns path is still the pod's. */
  pause: ProcessIdentity
  /** The ADD result so far (the last plugin's once ADD finished). */
  result?: Record<string, unknown>
  /**
   * The pod's netns bind-mounted beside this record (as containerd pins it):
   * DEL still sees the pod's interface after pause died with its shim (the
   * bridge plugin removes its masquerade rules only then). Gone with the record.
   */
  netnsPin?: string
}

const recordDir = (stateRoot: string) => join(stateRoot, '.cni')
const recordFile = (stateRoot: string, id: string) => join(recordDir(stateRoot), `${id}.json`)
const NSFS_MAGIC = 0x6e736673

/** Bind `/proc/<pid>/ns/net` to `pin`; '' when the host refuses (DEL then needs pause alive, as before). */
function pinNetns(pid: number, pin: string): string {
  try {
    closeSync(openSync(pin, 'w', 0o600))
    native().mount(`/proc/${pid}/ns/net`, pin, null, native().mountFlags.MS_BIND, null)
    return pin
  } catch {
    rmSync(pin, { force: true })
    return ''
  }
}

/** Whether `pin` still holds a network namespace (a bind mount of nsfs). */
function pinHolds(pin: string | undefined): pin is string {
  try {
    return !!pin && statfsSync(pin).type === NSFS_MAGIC
  } catch {
    return false
  }
}

function unpin(pin: string | undefined): void {
  if (!pin) return
  native().umount(pin, true)
  rmSync(pin, { force: true })
}

export interface AttachedNetwork {
  podIPs: string[]
  result: CniResult
  /** DEL (from the record) and drop the record; a failure throws and the record stays for gc. */
  detach: (netnsFallback?: string) => Promise<boolean>
}

/**
 * CNI ADD for the pod whose pause is `pausePid`. `register` receives the
 * teardown (DEL) before the first plugin runs, so a failed ADD is undone
 * too. Throws PodError `cni.add` / `cni.result` / `state.write`.
 */
export async function attachNetwork(
  plan: Extract<NetworkPlan, { kind: 'cni' }>,
  spec: PodSpec,
  stateRoot: string,
  pausePid: number,
  register: (what: string, fn: () => Promise<void>) => void,
  /** A path that holds the netns while this process lives (for DEL after pause died). */
  holder?: string,
): Promise<AttachedNetwork> {
  const runtime: RuntimeConf = {
    containerId: spec.uid,
    netns: `/proc/${pausePid}/ns/net`,
    ifName: 'eth0',
    args: [
      ['IgnoreUnknown', '1'],
      ['K8S_POD_NAMESPACE', spec.namespace],
      ['K8S_POD_NAME', spec.name],
      ['K8S_POD_INFRA_CONTAINER_ID', spec.uid],
      ['K8S_POD_UID', spec.uid],
    ],
    capabilityArgs: plan.portMappings.length > 0 ? { portMappings: plan.portMappings } : {},
  }
  const record: NetworkRecord = {
    id: spec.uid,
    pod: spec.name,
    list: plan.list,
    binDirs: plan.binDirs,
    runtime,
    pause: processIdentity(pausePid),
  }
  mkdirSync(recordDir(stateRoot), { recursive: true, mode: 0o700 })
  const file = recordFile(stateRoot, spec.uid)
  const save = () => writeJsonAtomic(file, record, 0o600, 'state.write')
  // Named before it is made: a crash in between leaves a record whose pin DEL then removes.
  record.netnsPin = join(recordDir(stateRoot), `${spec.uid}.netns`)
  save()
  if (!pinNetns(pausePid, record.netnsPin)) {
    record.netnsPin = undefined
    save()
  }
  const detach = (netnsFallback?: string) => detachFromRecord(stateRoot, spec.uid, netnsFallback)
  register(`CNI DEL of ${plan.list.name}`, async () => void (await detach(holder)))
  const result = await addNetwork(plan.list, plan.binDirs, runtime, r => {
    record.result = r.raw
    save()
  })
  const ips = podIPs(result)
  if (ips.length === 0)
    throw new PodError(`cni.add: ${plan.list.file}: the network gave the pod no IP address`, {
      step: 'cni.add',
      code: 'CNI_NO_IP',
      hint: 'the conflist needs an ipam section (e.g. host-local with a subnet)',
    })
  return { podIPs: ips, result, detach }
}

/**
 * DEL a pod's network from its record, then drop the record. The netns path
 * is pause's when pause still lives, else `netnsFallback` (a path that still
 * holds the namespace) or '' (the spec lets DEL run without one). No record:
 * nothing to do. Throws the plugin's PodError (the record stays).
 */
export async function detachFromRecord(stateRoot: string, id: string, netnsFallback = ''): Promise<boolean> {
  const file = recordFile(stateRoot, id)
  if (!existsSync(file)) return false
  let record: NetworkRecord
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as NetworkRecord
  } catch (e) {
    throw PodError.system('cni.del', e, file)
  }
  const alive = isAlive(record.pause)
  const pinned = pinHolds(record.netnsPin) ? record.netnsPin : ''
  const runtime = { ...record.runtime, netns: alive ? record.runtime.netns : pinned || netnsFallback }
  const cached = record.result ? parseResult(JSON.stringify(record.result), 'cache') : undefined
  await delNetwork(record.list, record.binDirs, runtime, cached)
  unpin(record.netnsPin)
  rmSync(file, { force: true })
  return true
}

/**
 * CNI CHECK of a running pod's network from its record (the plugins verify
 * that what ADD made is still there). Throws PodError `cni.check`, or
 * `cni.state` when the pod has no network record or its pause is gone.
 */
export async function checkFromRecord(stateRoot: string, id: string): Promise<void> {
  let record: NetworkRecord
  try {
    record = JSON.parse(readFileSync(recordFile(stateRoot, id), 'utf8')) as NetworkRecord
  } catch (e) {
    throw PodError.system('cni.state', e, recordFile(stateRoot, id), { hint: 'the pod has no CNI network (loopback only, hostNetwork, or removed)' })
  }
  if (!record.result || !isAlive(record.pause)) {
    throw new PodError(`cni.state: ${record.pod}: the pod's network is not (or no longer) up`, { step: 'cni.state' })
  }
  await checkNetwork(record.list, record.binDirs, record.runtime, parseResult(JSON.stringify(record.result), 'cache'))
}

/** Ids with a network record (pods whose DEL has not succeeded yet). */
export function networkRecordIds(stateRoot: string): string[] {
  const dir = recordDir(stateRoot)
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter(f => /^[0-9a-f-]{36}\.json$/.test(f))
    .map(f => f.slice(0, -5))
}

/** Whether the pause of a network record still lives (its pod is not to be touched by gc). */
export function networkRecordLive(stateRoot: string, id: string): boolean {
  try {
    const r = JSON.parse(readFileSync(recordFile(stateRoot, id), 'utf8')) as NetworkRecord
    return isAlive(r.pause)
  } catch {
    return false
  }
}
