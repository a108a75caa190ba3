// What a pod's network will be, decided without the CNI code: the options
// (flags, environment), the host's network or loopback only. A pod with CNI
// goes on to pod-network.ts, which a run with --network none never loads.
import { PodError } from '../errors.js'
import type { PodSpec } from '../spec/index.js'
import type { ConfList } from './conflist.js'
import { DEFAULT_BIN_DIRS, DEFAULT_CONF_DIR } from './default.js'

export interface NetworkOptions {
  /** `cni` (default): the conflist of the conf dir (written on first use); `none`: loopback only. Env POD_LAUNCH_NETWORK. */
  network?: 'cni' | 'none'
  /** Env POD_LAUNCH_CNI_CONF_DIR; default /etc/pod-launch/net.d. */
  cniConfDir?: string
  /** Colon-separated; env POD_LAUNCH_CNI_BIN_DIR; default /usr/lib/cni:/opt/cni/bin. */
  cniBinDir?: string
  /** The pod's hostPort mappings when no container spec lists them (a CRI sandbox's port_mappings). */
  portMappings?: PortMapping[]
}

export interface PortMapping {
  hostPort: number
  containerPort: number
  protocol: string
  hostIP?: string
}

export type NetworkPlan = { kind: 'host' } | { kind: 'none'; why: string } | { kind: 'cni'; list: ConfList; binDirs: string[]; portMappings: PortMapping[] }

export const CNI_INSTALL_HINT = 'apt-get install containernetworking-plugins iptables, or point --cni-bin-dir at CNI plugins'

export function networkSettings(opts: NetworkOptions = {}): { network: 'cni' | 'none'; confDir: string; binDirs: string[] } {
  const env = process.env
  const network = opts.network ?? (env.POD_LAUNCH_NETWORK as 'cni' | 'none' | undefined) ?? 'cni'
  if (network !== 'cni' && network !== 'none') {
    throw new PodError(`cni.options: network: "${String(network)}" must be cni or none`, {
      step: 'cni.options',
      exitCode: 2,
      hint: '--network none gives loopback only; cni (the default) the CNI network',
    })
  }
  const bin = opts.cniBinDir ?? env.POD_LAUNCH_CNI_BIN_DIR
  return {
    network,
    confDir: opts.cniConfDir ?? env.POD_LAUNCH_CNI_CONF_DIR ?? DEFAULT_CONF_DIR,
    binDirs: bin ? bin.split(':').filter(Boolean) : DEFAULT_BIN_DIRS,
  }
}

/** runtimeConfig.portMappings (CNI CONVENTIONS.md) from every container port with a hostPort. */
export function portMappings(spec: PodSpec): PortMapping[] {
  return spec.containers.flatMap(c =>
    c.ports
      .filter(p => p.hostPort !== undefined)
      .map(p => ({ hostPort: p.hostPort!, containerPort: p.containerPort, protocol: p.protocol.toLowerCase(), ...(p.hostIP ? { hostIP: p.hostIP } : {}) })),
  )
}

function hostPortField(spec: PodSpec): string | undefined {
  for (const [i, c] of spec.containers.entries()) {
    const j = c.ports.findIndex(p => p.hostPort !== undefined)
    if (j >= 0) return `spec.containers[${i}].ports[${j}].hostPort`
  }
  return undefined
}

/** A pod without CNI: its plan, or the error for a hostPort (which needs CNI). */
export function noCniPlan(spec: PodSpec, opts: NetworkOptions, why: string, hint: string): NetworkPlan {
  const field = hostPortField(spec) ?? (opts.portMappings?.length ? 'port_mappings' : undefined)
  if (field) throw new PodError(`cni.plan: ${field}: a hostPort needs a CNI network: ${why}`, { step: 'cni.plan', code: 'SPEC_INVALID', exitCode: 2, hint })
  return { kind: 'none', why }
}

/** The plan of a pod on the host's network or with --network none (loopback only); undefined when it gets CNI. */
export function planLocalNetwork(spec: PodSpec, opts: NetworkOptions): NetworkPlan | undefined {
  if (spec.hostNetwork) return { kind: 'host' }
  if (networkSettings(opts).network === 'none')
    return noCniPlan(spec, opts, 'the pod runs with --network none (loopback only)', 'drop --network none, or remove the hostPort')
  return undefined
}
