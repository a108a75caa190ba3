// Records as the CRI's messages: PodSandbox / PodSandboxStatus, Container /
// ContainerStatus, the stats; and the List* filters as kubelet and crictl
// send them.
import type { CgroupStats } from '../cgroups/index.js'
import { criSignalName, namespaceModes } from './translate.js'
import { nowNs, type ContainerRecord, type ContainerState, type SandboxRecord, type SandboxState } from './runtime.js'
import type { Labels } from './types.js'

const str = (n: bigint) => n.toString()

function matches(labels: Labels, selector: Labels | null | undefined): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v)
}

export function sandboxItem(s: SandboxRecord) {
  return {
    id: s.id,
    metadata: s.config.metadata,
    state: s.state,
    createdAt: str(s.createdAt),
    labels: s.config.labels,
    annotations: s.config.annotations,
    runtimeHandler: s.runtimeHandler,
  }
}

export function sandboxStatus(s: SandboxRecord) {
  const [ip, ...more] = s.state === 'SANDBOX_READY' ? s.sandbox.podIPs : []
  const modes = namespaceModes(s.config.linux?.securityContext?.namespaceOptions)
  return {
    ...sandboxItem(s),
    network: { ip: ip ?? '', additionalIps: more.map(a => ({ ip: a })) },
    linux: { namespaces: { options: { ...modes, targetId: '' } } },
  }
}

/** PodSandboxStatus verbose info, as containerd keys it: our process plan, namespaces and cgroups. */
export function sandboxInfo(s: SandboxRecord): Record<string, string> {
  const sb = s.sandbox
  const running = s.state === 'SANDBOX_READY'
  return {
    info: JSON.stringify({
      pid: running ? sb.pid : 0,
      podDir: sb.dir.root,
      plan: sb.plan,
      namespaces: running ? sb.namespaces : {},
      cgroups: sb.cgroups?.paths,
      podIPs: sb.podIPs,
      config: s.config,
      runtimeHandler: s.runtimeHandler,
    }),
  }
}

export interface SandboxFilter {
  id: string
  state: { state: SandboxState } | null
  labelSelector: Labels
}

export function filterSandboxes(all: Iterable<SandboxRecord>, f: SandboxFilter | null): SandboxRecord[] {
  return [...all].filter(s => !f || ((!f.id || s.id.startsWith(f.id)) && (!f.state || s.state === f.state.state) && matches(s.config.labels, f.labelSelector)))
}

function imageSpec(c: ContainerRecord) {
  return { image: c.config.image?.image ?? '', annotations: c.config.image?.annotations ?? {}, userSpecifiedImage: c.config.image?.userSpecifiedImage ?? '' }
}

export function containerItem(c: ContainerRecord) {
  return {
    id: c.id,
    podSandboxId: c.sandboxId,
    metadata: c.config.metadata,
    image: imageSpec(c),
    imageRef: c.imageId,
    imageId: c.imageId,
    state: c.state,
    createdAt: str(c.createdAt),
    labels: c.config.labels,
    annotations: c.config.annotations,
  }
}

export function containerStatus(c: ContainerRecord) {
  return {
    ...containerItem(c),
    startedAt: str(c.startedAt),
    finishedAt: str(c.finishedAt),
    exitCode: c.exitCode,
    reason: c.reason,
    message: c.message,
    mounts: c.config.mounts,
    logPath: c.logPath,
    resources: c.config.linux?.resources ? { linux: c.config.linux.resources } : null,
    stopSignal: criSignalName(c.signal),
  }
}

export function containerInfo(c: ContainerRecord): Record<string, string> {
  return {
    info: JSON.stringify({ sandboxId: c.sandboxId, pid: c.process?.pid ?? 0, plan: c.created.plan, config: c.config, logPath: c.logPath }),
  }
}

export interface ContainerFilter {
  id: string
  state: { state: ContainerState } | null
  podSandboxId: string
  labelSelector: Labels
}

export function filterContainers(all: Iterable<ContainerRecord>, f: ContainerFilter | null): ContainerRecord[] {
  return [...all].filter(
    c =>
      !f ||
      ((!f.id || c.id.startsWith(f.id)) &&
        (!f.state || c.state === f.state.state) &&
        (!f.podSandboxId || c.sandboxId.startsWith(f.podSandboxId)) &&
        matches(c.config.labels, f.labelSelector)),
  )
}

/** cpu and memory of one cgroup at `timestamp` (usage_nano_cores needs two samples: kubelet computes it). */
export function usage(stats: CgroupStats, timestamp = nowNs()) {
  const t = str(timestamp)
  return {
    cpu: { timestamp: t, usageCoreNanoSeconds: { value: stats.cpuUsageNs ?? 0 } },
    memory: {
      timestamp: t,
      workingSetBytes: { value: stats.memoryBytes ?? 0 },
      usageBytes: { value: stats.memoryBytes ?? 0 },
    },
  }
}

export function containerStats(c: ContainerRecord, stats: CgroupStats) {
  return {
    attributes: { id: c.id, metadata: c.config.metadata, labels: c.config.labels, annotations: c.config.annotations },
    ...usage(stats),
    writableLayer: null,
  }
}
