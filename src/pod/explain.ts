// `explain`: the plan a run would carry out, as data, without creating
// anything: namespaces made and joined per process (clone flags, setns
// calls), every cgroup write with the Kubernetes field it came from, the
// mounts, the exec'd argv and env, and what security settings apply.
import { detectCgroups, formatPlan, planPodCgroups, type CgroupPlan } from '../cgroups/index.js'
import { isSidecar, type ContainerSpec, type PodSpec } from '../spec/index.js'
import { native, type NsType } from '../spawn/native.js'
import { containerIdentity, joinList, runConfig, type RunConfig } from './container.js'
import { resolveImage, rootfsMounts, type ImageSource } from '../rootfs/index.js'
import { nodeFacts } from './node.js'
import { sandboxNamespaces, sysctlWrites } from './sandbox.js'
import { describeProbe } from './probes.js'
import { describeNetwork, type NetworkOptions } from '../net/index.js'
import { chooseProfile, describeChoice, preparePodSeccomp, type ContainerSeccomp } from '../seccomp/index.js'

/** Each container's seccomp profile in words; a Localhost profile that run would refuse says why. */
function seccompLines(spec: PodSpec, opts: { seccompDefault?: boolean }): Map<string, string> {
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
    const size = p?.filter ? `, ${p.filter.bpf.length / 8} BPF instructions loaded ${c.securityContext.allowPrivilegeEscalation === false ? 'last before execve (no_new_privs)' : 'before the identity change'}` : ''
    out.set(c.name, `${describeChoice(choice)}${size}${error && choice.type === 'Localhost' ? `; run would fail: ${error}` : ''}`)
  }
  return out
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
}

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
}

const CLONE = (t: NsType) => `CLONE_NEW${t === 'mnt' ? 'NS' : t.toUpperCase()}`

/** uid, gid, groups and capability masks, as the child will set them. */
function describeIdentity(c: ContainerSpec, run: RunConfig): string {
  try {
    const { identity: id, noNewPrivs } = containerIdentity(c, run.user, run.imageGroups)
    const hex = (v: string) => BigInt(v).toString(16).padStart(16, '0')
    return `uid ${id.uid} gid ${id.gid} groups [${id.groups.join(',')}]; bounding ${hex(id.capBounding)}, permitted/effective ${hex(id.capEffective)}${noNewPrivs ? '; no_new_privs' : ''}`
  } catch (e) {
    return `refused: ${(e as Error).message}`
  }
}

export function explainPod(spec: PodSpec, opts: { cgroupParent?: string; pidsLimit?: number; stateRoot?: string; seccompDefault?: boolean } & NetworkOptions = {}): PodPlan {
  const host = detectCgroups()
  const cgroupPlan = planPodCgroups(spec, host, { parent: opts.cgroupParent, pidsLimit: opts.pidsLimit })
  const made = sandboxNamespaces(spec)
  const hostNs = (['ipc', 'uts', 'net', 'pid'] as NsType[]).filter(t => (t === 'pid' ? spec.hostPID : !made.includes(t)))
  const shared = new Map(made.filter(t => t !== 'pid').map(t => [t, -1] as [NsType, number]))
  const pausePid = spec.shareProcessNamespace ? 'pause' : undefined
  const security = { seccomp: 'Unconfined (pause is ours and runs no untrusted code)' }
  const seccomp = seccompLines(spec, opts)
  const pause: ProcessPlan = {
    who: 'pause',
    clone: ['CLONE_PIDFD', ...(made.includes('pid') ? [CLONE('pid')] : [])],
    setns: [],
    unshare: made.filter(t => t !== 'pid').map(CLONE),
    hostname: made.includes('uts') ? spec.hostname : undefined,
    cgroup: cgroupPlan.pause.rel,
    mounts: sysctlWrites(spec.securityContext.sysctls).map(m => `write ${JSON.stringify(m.source)} to ${m.target} (sysctl, in the pod's namespaces)`),
    argv: ['pause'],
    capabilities: 'those of the caller',
    env: [],
    workingDir: '/',
    ...security,
  }
  const node = nodeFacts()
  const facts = { ...node, podIP: spec.hostNetwork ? node.hostIP : '' }
  const containers = [...spec.initContainers, ...spec.containers].map((c): ProcessPlan => {
    let image: ImageSource = { kind: 'host' }
    try {
      image = resolveImage(c.image, c.name, { storeRoot: opts.stateRoot })
    } catch {
      // explain still shows the rest; run would stop at image.resolve
    }
    const run = runConfig(spec, c, facts, image)
    const env = run.env
    const ownPid = !spec.shareProcessNamespace && !spec.hostPID
    const pd = '<pod dir>'
    const volumeSources = new Map(spec.volumes.map(v => [v.name, v.kind === 'hostPath' ? String(v.source.path) : `${pd}/volumes/${v.name}`]))
    const mounts = rootfsMounts({
      root: `${pd}/containers/${c.name}/rootfs`,
      source: image.kind === 'host' ? { kind: 'host' } : { kind: 'overlay', lower: image.layers, upper: `${pd}/containers/${c.name}/upper`, work: `${pd}/containers/${c.name}/work` },
      shmDir: spec.hostIPC ? '/dev/shm' : `${pd}/shm`,
      ownIpc: !spec.hostIPC,
      etc: { hosts: `${pd}/etc/hosts`, hostname: `${pd}/etc/hostname`, resolvConf: `${pd}/etc/resolv.conf` },
      terminationLog: { source: `${pd}/containers/${c.name}/termination-log`, target: c.terminationMessagePath },
      volumes: { mounts: c.volumeMounts, sources: volumeSources },
      workingDir: run.workingDir,
      readOnlyRoot: c.securityContext.readOnlyRootFilesystem,
    }).filter(m => m.kind !== 'mkdir')
    const flags = native().mountFlags
    const flagNames = (f = 0) => Object.entries(flags).filter(([, v]) => (f & v) === v && v !== 0).map(([k]) => k.slice(3)).join(',')
    return {
      who: isSidecar(c) ? `${c.name} (sidecar)` : spec.initContainers.includes(c) ? `${c.name} (init)` : c.name,
      clone: ['CLONE_PIDFD', ...(ownPid ? [CLONE('pid')] : []), ...(host.mode !== 'v1' ? ['CLONE_INTO_CGROUP'] : [])],
      setns: joinList(shared).map(j => `setns(/proc/<pause>/ns/${j.type}, ${CLONE(j.type)})`),
      pidNamespaceOf: pausePid,
      unshare: [CLONE('mnt')],
      cgroup: cgroupPlan.containers.find(n => n.who === c.name)!.rel,
      mounts: mounts.map(m => (m.kind === 'pivot' ? `pivot_root ${m.target} (old root detached)` : m.kind && m.kind !== 'mount' ? `${m.kind} ${m.target}${m.source ? ` -> ${m.source}` : ''}` : `mount ${m.source ?? 'none'} on ${m.target}${m.fstype ? ` type ${m.fstype}` : ''}${m.flags ? ` (${flagNames(m.flags)})` : ''}${m.data ? ` ${m.data}` : ''}`)),
      argv: run.argv,
      env: [...env].map(([k, v]) => `${k}=${v}`),
      workingDir: run.workingDir,
      capabilities: describeIdentity(c, run),
      stdio: c.tty
        ? `tty: after the mounts, open /dev/ptmx (the container's devpts), unlockpt, slave as fds 0-2 and controlling terminal (TIOCSCTTY); master sent to the runtime over a socketpair (SCM_RIGHTS)${c.stdin ? ', input from attach' : ', no input (stdin: false)'}${c.stdinOnce ? ', input stops after the first attach session' : ''}`
        : `stdin ${c.stdin ? `a pipe fed by attach${c.stdinOnce ? ', closed after the first attach session (stdinOnce)' : ', never closed'}` : '/dev/null'}; stdout, stderr: pipes into the CRI log`,
      ...security,
      seccomp: seccomp.get(c.name)!,
      probes: (['startup', 'liveness', 'readiness'] as const).flatMap(k => {
        const probe = c[`${k}Probe`]
        return probe ? [describeProbe(k, probe, spec.hostNetwork)] : []
      }),
    }
  })
  return { pod: spec.name, sandboxNamespaces: made, hostNamespaces: hostNs, processes: [pause, ...containers], cgroupMode: host.mode, cgroupWrites: formatPlan(cgroupPlan), cgroupPlan, network: describeNetwork(spec, opts) }
}
