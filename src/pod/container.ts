// A container's spawn plan: joins pause's namespaces (uts/ipc/net, pid when
// shared), makes its own mnt (and pid) namespace, runs argv. Pure apart from
// the fds it is given.
import { DEFAULT_PATH, containerArgv, resolveEnv, type ContainerSpec, type PodSpec, type RuntimeFacts } from '../spec/index.js'
import { native, type NativeMount, type NativePlan, type NsType } from '../spawn/native.js'

/** Container environment as the CRI runtimes build it: PATH, HOSTNAME, HOME, then the spec's. */
export function containerEnv(pod: PodSpec, c: ContainerSpec, facts: RuntimeFacts): Map<string, string> {
  const env = new Map<string, string>([
    ['PATH', DEFAULT_PATH],
    ['HOSTNAME', pod.hostname],
    ['HOME', '/root'],
  ])
  for (const [k, v] of resolveEnv(pod, c, facts)) env.set(k, v)
  return env
}

export const envList = (env: Map<string, string>): string[] => [...env].map(([k, v]) => `${k}=${v}`)

/** The namespaces a container joins, from the fds pause's were opened into. */
export function joinList(shared: Map<NsType, number>, extra: Map<NsType, number> = new Map()): { type: NsType; fd: number }[] {
  const all = new Map([...shared, ...extra])
  return native()
    .namespaces.filter(t => t !== 'pid' && all.has(t))
    .map(type => ({ type, fd: all.get(type)! }))
}

export interface ContainerPlanInputs {
  shared: Map<NsType, number>
  stdio: [number, number, number]
  mounts: NativeMount[]
  facts: RuntimeFacts
}

export function containerPlan(pod: PodSpec, c: ContainerSpec, inp: ContainerPlanInputs): NativePlan {
  const env = containerEnv(pod, c, inp.facts)
  const argv = containerArgv(c, env)
  // A new pid namespace unless the pod shares pause's or the host's.
  const ownPid = !pod.shareProcessNamespace && !pod.hostPID
  return {
    file: argv[0],
    argv,
    envp: envList(env),
    searchPath: env.get('PATH'),
    cwd: c.workingDir,
    join: joinList(inp.shared),
    unshare: ownPid ? ['mnt', 'pid'] : ['mnt'],
    pidns: inp.shared.get('pid'),
    newSession: true,
    dieWithParent: true,
    mounts: inp.mounts,
    stdio: inp.stdio,
  }
}
