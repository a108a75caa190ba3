// `explain`: the plan a run would carry out, as data, without creating
// anything. Each process is rendered from the very plan `run` executes
// (planPause, planContainer in plan.ts), with `<pause>` and `<pod dir>` in
// place of what only a run knows; plus every cgroup write with the
// Kubernetes field it came from, probes, stdio and the network.
import { detectCgroups, formatPlan, planPodCgroups, type CgroupPlan } from '../cgroups/index.js'
import { isSidecar, type ContainerSpec, type NodeAllocatable, type PodObjects, type PodSpec } from '../spec/index.js'
import { native, type NsType } from '../spawn/index.js'
import { planContainer, planPause, stopSignalOf, type SpawnPlan } from './plan.js'
import { onTmpfs, resolveImage, volumePayload, type ImageSource } from '../rootfs/index.js'
import { nodeFacts } from './node.js'
import { etcDir, volumeDir } from '../state/index.js'
import { join } from 'node:path'
import { describeProbe } from './probes.js'
import { describeNetwork, type NetworkOptions } from '../net/index.js'
import { chooseProfile, describeChoice, preparePodSeccomp, type ContainerSeccomp } from '../seccomp/index.js'

/** Each container's seccomp profile in words; a Localhost profile that run would refuse says why. */
function seccompLines(spec: PodSpec, opts: { seccompDefault?: boolean }): { lines: Map<string, string>; prepared?: Map<string, ContainerSeccomp> } {
  let prepared: Map<string, ContainerSeccomp> | undefined
  let error: string | undefined
  try {
    prepared = preparePodSeccomp(spec, opts)
  } catch (e) {
    error = (e as Error).message
  }
  const out = new Map<string, string>()
  for (const c of [...spec.initContainers, ...spec.containers]) {
    const p = prepared?.get(c.name)
    const choice = p?.choice ?? chooseProfile(c, opts)
    const when = c.securityContext.allowPrivilegeEscalation === false ? 'last before execve (no_new_privs)' : 'before the identity change'
    const size = p?.filter ? `, ${p.filter.bpf.length / 8} BPF instructions loaded ${when}` : ''
    out.set(c.name, `${describeChoice(choice)}${size}${error && choice.type === 'Localhost' ? `; run would fail: ${error}` : ''}`)
  }
  return { lines: out, prepared }
}

export interface ProcessPlan {
  who: string
  /** clone3 flags the process is created with. */
  clone: string[]
  /** setns(2) calls in the child, in order (fd of pause's namespace). */
  setns: string[]
  /** The pid namespace it is placed in by the parent (pid_for_children), if any. */
  pidNamespaceOf?: string
  unshare: string[]
  hostname?: string
  cgroup: string
  mounts: string[]
  argv: string[]
  env: string[]
  workingDir: string
  capabilities: string
  seccomp: string
  /** What each probe does and when (src/pod/probes.ts). */
  probes?: string[]
  /** What fds 0-2 are (containers). */
  stdio?: string
  /** How a graceful stop ends it (containers): the stop signal and where it comes from, then SIGKILL. */
  stop?: string
  /** The plan itself, as `run` stores and executes it (absent when run would refuse the container). */
  plan?: SpawnPlan
}

/** The placeholder explain prints for the pod's directory under the state root. */
export const POD_DIR = '<pod dir>'

export interface PodPlan {
  pod: string
  sandboxNamespaces: NsType[]
  hostNamespaces: NsType[]
  processes: ProcessPlan[]
  cgroupMode: string
  cgroupWrites: string[]
  cgroupPlan: CgroupPlan
  /** What happens to the pod's network (CNI ADD, loopback only, the host's). */
  network: string
  /** Each volume of API data: its files, modes and where they are kept (never a Secret's values). */
  volumes: string[]
}

/** A volume of API data in words: `cfg (configMap game-demo, on the pod's disk): game.properties 0644, ...`. */
function describeVolumes(spec: PodSpec, objects: PodObjects | undefined, allocatable?: NodeAllocatable): string[] {
  return spec.volumes.flatMap(v => {
    const files = volumePayload(spec, v, objects ?? { configMaps: [], secrets: [] }, allocatable)
    if (!files) return []
    const what =
      v.kind === 'configMap' || v.kind === 'secret'
        ? `${v.kind} ${String(v.source.name)}`
        : v.kind === 'projected'
          ? `projected from ${(v.source.sources as { kind: string; name?: string }[]).map(s => (s.name ? `${s.kind} ${s.name}` : s.kind)).join(', ')}`
          : v.kind
    const where = onTmpfs(v) ? 'on a tmpfs of its own' : "on the pod's disk"
    const list = files.map(f => `${f.path} ${f.mode.toString(8).padStart(4, '0')}`).join(', ')
    return [`${v.name} (${what}, ${where}, read-only, ..data layout): ${list || 'no files'}`]
  })
}

const CLONE = (t: NsType) => `CLONE_NEW${t === 'mnt' ? 'NS' : t.toUpperCase()}`

/** A container's stdio as the spawn sets it up: a pty (tty) or pipes into the CRI log. */
function describeStdio(c: ContainerSpec): string {
  if (c.tty) {
    const input = `${c.stdin ? ', input from attach' : ', no input (stdin: false)'}${c.stdinOnce ? ', input stops after the first attach session' : ''}`
    return (
      "tty: after the mounts, open /dev/ptmx (the container's devpts), unlockpt, slave as fds 0-2 and controlling terminal (TIOCSCTTY); " +
      `master sent to the runtime over a socketpair (SCM_RIGHTS)${input}`
    )
  }
  const stdin = c.stdin ? `a pipe fed by attach${c.stdinOnce ? ', closed after the first attach session (stdinOnce)' : ', never closed'}` : '/dev/null'
  return `stdin ${stdin}; stdout, stderr: pipes into the CRI log`
}

/** uid, gid, groups and capability masks, as the child will set them. */
function describeIdentity(plan: SpawnPlan): string {
  const id = plan.identity
  if (!id) return 'those of the caller'
  const hex = (v: string) => BigInt(v).toString(16).padStart(16, '0')
  const caps = `bounding ${hex(id.capBounding)}, permitted/effective ${hex(id.capEffective)}`
  return `uid ${id.uid} gid ${id.gid} groups [${id.groups.join(',')}]; ${caps}${plan.noNewPrivs ? '; no_new_privs' : ''}`
}

/** Each mount step of a plan in words (mkdir steps left out). */
function describeMounts(plan: SpawnPlan): string[] {
  const flags = native().mountFlags
  const flagNames = (f = 0) =>
    Object.entries(flags)
      .filter(([, v]) => (f & v) === v && v !== 0)
      .map(([k]) => k.slice(3))
      .join(',')
  return plan.mounts
    .filter(m => m.kind !== 'mkdir')
    .map(m => {
      if (m.kind === 'write') return `write ${JSON.stringify(m.source)} to ${m.target} (sysctl, in the pod's namespaces)`
      if (m.kind === 'pivot') return `pivot_root ${m.target} (old root detached)`
      if (m.kind && m.kind !== 'mount') return `${m.kind} ${m.target}${m.source ? ` -> ${m.source}` : ''}`
      const type = m.fstype ? ` type ${m.fstype}` : ''
      return `mount ${m.source ?? 'none'} on ${m.target}${type}${m.flags ? ` (${flagNames(m.flags)})` : ''}${m.data ? ` ${m.data}` : ''}`
    })
}

/** The plan's namespace steps, clone flags and exec'd program, as explain lists them. */
function describePlan(
  plan: SpawnPlan,
  into: string[],
): Pick<ProcessPlan, 'clone' | 'setns' | 'pidNamespaceOf' | 'unshare' | 'hostname' | 'mounts' | 'argv' | 'env' | 'workingDir' | 'capabilities' | 'plan'> {
  const unshare = plan.unshare
  return {
    clone: ['CLONE_PIDFD', ...(unshare.includes('pid') ? [CLONE('pid')] : []), ...into],
    setns: plan.join.map(j => `setns(${j.path}, ${CLONE(j.type)})`),
    pidNamespaceOf: plan.pidns?.startsWith('/proc/<pause>/') ? 'pause' : undefined,
    unshare: unshare.filter(t => t !== 'pid').map(CLONE),
    hostname: plan.hostname,
    mounts: describeMounts(plan),
    argv: plan.argv,
    env: plan.envp,
    workingDir: plan.cwd,
    capabilities: describeIdentity(plan),
    plan,
  }
}

function describeStop(spec: PodSpec, c: ContainerSpec, image: ImageSource): string {
  const s = stopSignalOf(c, image)
  const ignored = s.ignored !== undefined ? `; the image's StopSignal ${JSON.stringify(s.ignored)} names no signal` : ''
  const kill = `SIGKILL ${spec.terminationGracePeriodSeconds} s later (terminationGracePeriodSeconds)`
  return `${c.lifecycle.preStop ? 'preStop, then ' : ''}${s.signal} (${s.from}${ignored}), ${kill}`
}

export function explainPod(
  spec: PodSpec,
  opts: {
    cgroupParent?: string
    pidsLimit?: number
    singleProcessOOMKill?: boolean
    stateRoot?: string
    seccompDefault?: boolean
    objects?: PodObjects
  } & NetworkOptions = {},
): PodPlan {
  const host = detectCgroups()
  const cgroupPlan = planPodCgroups(spec, host, { parent: opts.cgroupParent, pidsLimit: opts.pidsLimit, singleProcessOOMKill: opts.singleProcessOOMKill })
  const pausePlan = planPause(spec, 'pause')
  const made = pausePlan.unshare
  const hostNs = (['ipc', 'uts', 'net', 'pid'] as NsType[]).filter(t => (t === 'pid' ? spec.hostPID : !made.includes(t)))
  const security = { seccomp: 'Unconfined (pause is ours and runs no untrusted code)' }
  const seccomp = seccompLines(spec, opts)
  const pause: ProcessPlan = { who: 'pause', cgroup: cgroupPlan.pause.rel, ...describePlan(pausePlan, []), ...security }
  const node = nodeFacts()
  const facts = { ...node, podIP: spec.hostNetwork ? node.hostIP : '', objects: opts.objects }
  const etc = etcDir(POD_DIR)
  const inputs = {
    podDir: POD_DIR,
    facts,
    etc: { hosts: join(etc, 'hosts'), hostname: join(etc, 'hostname'), resolvConf: join(etc, 'resolv.conf') },
    volumes: new Map(spec.volumes.map(v => [v.name, v.kind === 'hostPath' ? String(v.source.path) : volumeDir(POD_DIR, v.name)])),
  }
  const containers = [...spec.initContainers, ...spec.containers].map((c): ProcessPlan => {
    let image: ImageSource = { kind: 'host' }
    try {
      image = resolveImage(c.image, c.name, { storeRoot: opts.stateRoot })
    } catch {
      // explain still shows the rest; run would stop at image.resolve
    }
    const who = isSidecar(c) ? `${c.name} (sidecar)` : spec.initContainers.includes(c) ? `${c.name} (init)` : c.name
    const cgroup = cgroupPlan.containers.find(n => n.who === c.name)!.rel
    let described: ReturnType<typeof describePlan>
    try {
      described = describePlan(
        planContainer(spec, c, { ...inputs, image, seccomp: seccomp.prepared?.get(c.name)?.filter?.bpf }),
        host.mode !== 'v1' ? ['CLONE_INTO_CGROUP'] : [],
      )
    } catch (e) {
      if ((e as { step?: string }).step !== 'security.run-as-non-root') throw e
      described = { clone: [], setns: [], unshare: [], mounts: [], argv: [], env: [], workingDir: '', capabilities: `refused: ${(e as Error).message}` }
    }
    return {
      who,
      cgroup,
      ...described,
      stdio: describeStdio(c),
      seccomp: seccomp.lines.get(c.name)!,
      stop: describeStop(spec, c, image),
      probes: (['startup', 'liveness', 'readiness'] as const).flatMap(k => {
        const probe = c[`${k}Probe`]
        return probe ? [describeProbe(k, probe, spec.hostNetwork)] : []
      }),
    }
  })
  return {
    pod: spec.name,
    sandboxNamespaces: made,
    hostNamespaces: hostNs,
    processes: [pause, ...containers],
    cgroupMode: host.mode,
    cgroupWrites: formatPlan(cgroupPlan),
    cgroupPlan,
    network: describeNetwork(spec, opts),
    volumes: describeVolumes(spec, opts.objects, node.allocatable),
  }
}
