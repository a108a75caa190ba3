// `check`: what this host supports and which mode each feature runs in.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { release } from 'node:os'
import { detectCgroups } from '../cgroups/index.js'
import { native, pausePath, shimPath, spawnProcess } from '../spawn/index.js'
import { CNI_INSTALL_HINT, DEFAULT_BRIDGE, findConfList, findPlugin, networkSettings, parseProcRoutes, pickSubnet, type NetworkOptions } from '../net/index.js'
import { RUNTIME_DEFAULT, SeccompCache, resolveRules } from '../seccomp/index.js'
import { DEFAULT_CAPABILITIES } from '../spec/index.js'
import { bindPlan, joinsNothing, planHostCheck } from '../pod/index.js'

/** A check's `true`, planned like every process we start, with our own stdio. */
const hostCheck = (opts: { seccomp?: Buffer } = {}) => bindPlan(planHostCheck(opts), { fdOf: joinsNothing('check'), stdio: [0, 1, 2], dieWithParent: false })

export interface CheckLine {
  status: 'pass' | 'warn' | 'fail'
  feature: string
  detail: string
  hint?: string
}

const read = (f: string) => {
  try {
    return readFileSync(f, 'utf8')
  } catch {
    return ''
  }
}

/**
 * Seccomp: the kernel's support, libseccomp's version, and proof: the
 * RuntimeDefault filter is compiled and loaded by a real child running true.
 */
async function checkSeccomp(opts: { seccompDefault?: boolean }): Promise<CheckLine> {
  const feature = 'seccomp'
  const mode = opts.seccompDefault
    ? 'containers that ask for no profile get RuntimeDefault (--seccomp-default)'
    : 'containers that ask for no profile run Unconfined, the Kubernetes default (--seccomp-default gives RuntimeDefault)'
  if (!/^Seccomp:/m.test(read('/proc/self/status')))
    return {
      status: 'fail',
      feature,
      detail: 'the kernel has no seccomp (CONFIG_SECCOMP_FILTER)',
      hint: 'RuntimeDefault and Localhost profiles cannot be applied here',
    }
  const actions = read('/proc/sys/kernel/seccomp/actions_avail').trim()
  try {
    const version = native().seccompVersion()
    const filter = new SeccompCache().get(
      resolveRules(
        RUNTIME_DEFAULT,
        DEFAULT_CAPABILITIES.map(c => `CAP_${c}`),
      ),
    )
    const child = await spawnProcess(hostCheck({ seccomp: filter.bpf }))
    const exit = await child.exited
    if (exit.exitCode !== 0) throw new Error(`true exited ${exit.exitCode} under RuntimeDefault`)
    return {
      status: 'pass',
      feature,
      detail: `libseccomp ${version}; RuntimeDefault compiles (${filter.bpf.length / 8} BPF instructions) and loads; kernel actions: ${actions}; ${mode}`,
    }
  } catch (e) {
    return {
      status: 'fail',
      feature,
      detail: (e as Error).message,
      hint: 'the addon links libseccomp: apt-get install libseccomp2 (libseccomp-dev to build), then npm run build:native',
    }
  }
}

export async function checkHost(opts: { seccompDefault?: boolean } & NetworkOptions = {}): Promise<CheckLine[]> {
  const out: CheckLine[] = []
  const root = process.getuid?.() === 0
  out.push(
    root
      ? { status: 'pass', feature: 'root', detail: 'running as root' }
      : { status: 'fail', feature: 'root', detail: `uid ${process.getuid?.()}`, hint: 'namespaces and cgroups need root: sudo pod-launch ...' },
  )
  const [maj, min] = release().split('.').map(Number)
  const kernelOk = maj > 5 || (maj === 5 && min >= 4)
  out.push({
    status: kernelOk ? 'pass' : 'fail',
    feature: 'kernel',
    detail: release(),
    hint: kernelOk ? undefined : 'Linux >= 5.4 is needed (pidfd, waitid P_PIDFD)',
  })
  try {
    pausePath()
    const child = await spawnProcess(hostCheck())
    await child.exited
    const clone3 = native().hasClone3()
    out.push({ status: 'pass', feature: 'pidfd', detail: 'CLONE_PIDFD and waitid(P_PIDFD) work' })
    out.push({
      status: clone3 ? 'pass' : 'warn',
      feature: 'clone3',
      detail: clone3 ? 'clone3(2) available' : 'clone(2) fallback',
      hint: clone3 ? undefined : 'no CLONE_INTO_CGROUP: processes are placed by a cgroup.procs write before they run',
    })
  } catch (e) {
    out.push({ status: 'fail', feature: 'spawn', detail: (e as Error).message, hint: 'build the addon: npm run build:native' })
  }
  try {
    const host = detectCgroups()
    out.push({ status: 'pass', feature: 'cgroups', detail: `${host.mode}: ${host.controllers.join(' ')}` })
    for (const c of ['cpu', 'memory', 'pids']) {
      if (!host.controllers.includes(c))
        out.push({ status: 'warn', feature: `cgroup ${c}`, detail: 'controller not available', hint: `resources needing ${c} cannot be applied` })
    }
    out.push({
      status: host.unified ? 'pass' : 'warn',
      feature: 'CLONE_INTO_CGROUP',
      detail: host.unified ? `children start in their cgroup2 cgroup (${host.unified})` : 'no cgroup2 tree',
      hint: host.unified ? undefined : 'placed by cgroup.procs before the go byte instead',
    })
  } catch (e) {
    out.push({ status: 'fail', feature: 'cgroups', detail: (e as Error).message })
  }
  const fss = read('/proc/filesystems')
  out.push({
    status: /\toverlay\n/.test(fss) ? 'pass' : 'warn',
    feature: 'overlayfs',
    detail: /\toverlay\n/.test(fss) ? 'available' : 'not in /proc/filesystems',
    hint: /\toverlay\n/.test(fss) ? undefined : 'modprobe overlay (needed for image layers)',
  })
  out.push(checkShim())
  out.push(await checkSeccomp(opts))
  const userns = Number(read('/proc/sys/user/max_user_namespaces').trim() || 0)
  out.push({
    status: userns > 0 ? 'pass' : 'warn',
    feature: 'user namespaces',
    detail: userns > 0 ? `max_user_namespaces ${userns} (not used yet)` : 'disabled',
  })
  out.push(...checkNetwork(opts))
  return out
}

/** Whether an ELF executable asks for a dynamic loader (a PT_INTERP program header). */
function isDynamic(file: string): boolean {
  const b = readFileSync(file)
  const phoff = Number(b.readBigUInt64LE(0x20))
  const size = b.readUInt16LE(0x36)
  for (let i = 0; i < b.readUInt16LE(0x38); i++) if (b.readUInt32LE(phoff + i * size) === 3) return true
  return false
}

/** The pod shim of detached pods: built, static (nothing to load when it starts), speaking our protocol. */
function checkShim(): CheckLine {
  try {
    const file = shimPath()
    const version = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 5000 }).stdout.trim()
    if (!/protocol 1\b/.test(version)) throw new Error(`${file} --version says "${version}", not protocol 1`)
    const kb = Math.round(statSync(file).size / 1024)
    if (isDynamic(file))
      return {
        status: 'warn',
        feature: 'pod shim',
        detail: `${version}, ${kb} KiB, dynamically linked`,
        hint: 'rebuild: npm run build:native (it links -static)',
      }
    return { status: 'pass', feature: 'pod shim', detail: `${version}, ${kb} KiB static: holds each detached pod (docs/shim.md)` }
  } catch (e) {
    return { status: 'fail', feature: 'pod shim', detail: (e as Error).message, hint: 'build it: npm run build:native (run -d needs it)' }
  }
}

function freeSubnet(): string {
  try {
    return pickSubnet(parseProcRoutes(readFileSync('/proc/net/route', 'utf8')))
  } catch (e) {
    return `no free subnet: ${(e as Error).message}`
  }
}

/** Which network pods get here, and why. */
export function checkNetwork(opts: NetworkOptions = {}): CheckLine[] {
  const out: CheckLine[] = []
  let s: ReturnType<typeof networkSettings>
  try {
    s = networkSettings(opts)
  } catch (e) {
    return [{ status: 'fail', feature: 'network', detail: (e as Error).message }]
  }
  if (s.network === 'none') return [{ status: 'warn', feature: 'network', detail: 'POD_LAUNCH_NETWORK=none: pods get loopback only' }]
  const bin = s.binDirs.join(':')
  let list: ReturnType<typeof findConfList>
  try {
    list = findConfList(s.confDir)
  } catch (e) {
    return [{ status: 'fail', feature: 'CNI config', detail: (e as Error).message, hint: (e as { hint?: string }).hint }]
  }
  const types = list ? list.plugins.map(p => p.type) : ['bridge', 'host-local', 'portmap', 'firewall']
  const missing = types.filter(t => !findPlugin(t, s.binDirs))
  if (missing.length === types.length) {
    out.push({
      status: 'warn',
      feature: 'CNI plugins',
      detail: `none of ${types.join(', ')} in ${bin}: pods get loopback only, hostPort is refused`,
      hint: CNI_INSTALL_HINT,
    })
    return out
  } else if (missing.length > 0) {
    out.push({ status: 'fail', feature: 'CNI plugins', detail: `${missing.join(', ')} missing from ${bin}: pods fail to start`, hint: CNI_INSTALL_HINT })
  } else {
    out.push({ status: 'pass', feature: 'CNI plugins', detail: `${types.join(', ')} found in ${bin}` })
  }
  out.push(
    list
      ? { status: 'pass', feature: 'CNI network', detail: `${list.name} (cniVersion ${list.cniVersion}) from ${list.file}` }
      : {
          status: 'pass',
          feature: 'CNI network',
          detail: `no config in ${s.confDir}: the first pod writes the default (bridge ${DEFAULT_BRIDGE}, host-local on ${freeSubnet()}, portmap, firewall)`,
        },
  )
  const iptables = ['/usr/sbin/iptables', '/sbin/iptables', '/usr/bin/iptables'].find(f => existsSync(f))
  if (types.some(t => t === 'portmap' || t === 'firewall') || !list) {
    out.push(
      iptables
        ? { status: 'pass', feature: 'iptables', detail: `${iptables} (portmap, firewall and ipMasq use it)` }
        : { status: 'warn', feature: 'iptables', detail: 'not found: portmap (hostPort), firewall and ipMasq fail', hint: 'apt-get install iptables' },
    )
  }
  return out
}
