// A restarted `pod-launch cri` takes its sandboxes back: each cri.json of the
// root (persist.ts) becomes a record again, its shim adopted (pause and the
// containers run on under it; the exits it recorded while no server listened
// are reported with their codes and times), the PodSandbox rebuilt from the
// stored plans so Stop/Remove, exec, attach and port-forward work as on a
// sandbox this server made. A sandbox whose shim died is NOT_READY, its
// running containers Exited (255, Unknown, as containerd reports a task it
// lost), and Stop/Remove clean what is left.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PodCgroups, realFs } from '../cgroups/index.js'
import { PodError } from '../errors.js'
import { PodSandbox, type HostedProcess, type ProcessHost } from '../pod/index.js'
import { ShimHost, ShimProcess } from '../shim/host.js'
import { podDir } from '../state/index.js'
import { findImage } from './images.js'
import { readStoredPods, type StoredContainer, type StoredPod } from './persist.js'
import { nowNs, type ContainerRecord, type CriRuntime, type SandboxRecord } from './runtime.js'
import { mountSources } from './translate.js'

/** containerd's code and reason for a container whose task it lost. */
const UNKNOWN_EXIT = 255

/** pause of a sandbox whose shim is gone: ended, signals go nowhere. */
function lostProcess(why: string): HostedProcess {
  const startedAt = new Date(0)
  return {
    pid: 0,
    startedAt,
    exited: Promise.resolve({ code: null, signal: 'SIGKILL', exitCode: 137, startedAt, finishedAt: new Date(), oomKilled: false, lost: why }),
    kill: () => false,
    attach: () => {
      throw new PodError(`attach: ${why}`, { step: 'attach', code: 'ESRCH' })
    },
    detach: () => {},
    windowSize: () => undefined,
    reopenLog: () => Promise.reject(new PodError(`shim.reopen: ${why}`, { step: 'shim.reopen', code: 'ESRCH' })),
  }
}

/** The host of a sandbox whose shim is gone: nothing starts; remove() has nothing of it to release. */
function lostHost(dir: string, why: string): ProcessHost {
  return {
    kind: 'shim',
    start: () => Promise.reject(new PodError(`shim.start: ${dir}: ${why}`, { step: 'shim.start', code: 'ESRCH', hint: 'remove the sandbox (crictl rmp)' })),
    close: () => Promise.resolve(),
  }
}

/** The exit the shim wrote before it died (`<pod dir>/exits/<name>.json`), if any. */
function recordedExit(dir: string, name: string): { exitCode: number; finishedAtNs: number; oomKilled: boolean } | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'exits', `${name}.json`), 'utf8')) as { exitCode: number; finishedAtNs: number; oomKilled: boolean }
  } catch {
    return undefined
  }
}

function containerRecord(sandboxId: string, c: StoredContainer): ContainerRecord {
  return {
    ...c,
    sandboxId,
    createdAt: BigInt(c.createdAt),
    startedAt: BigInt(c.startedAt),
    finishedAt: BigInt(c.finishedAt),
    created: { ...c.created, init: false },
  }
}

async function restoreOne(rt: CriRuntime, pod: StoredPod): Promise<void> {
  const st = pod.sandbox
  const root = rt.o.root
  const dir = podDir(root, st.id)
  let host: ProcessHost | undefined
  let pause: HostedProcess | undefined
  let lost: string | undefined
  try {
    host = (await ShimHost.adopt({ podDir: dir, cgroups: new PodCgroups(st.cgroupPlan, realFs) })).host
    pause = (host as ShimHost).process('pause')
    if (!pause) lost = 'its shim holds no pause'
  } catch (e) {
    lost = `its shim is gone (${(e as Error).message})`
  }
  if (lost) rt.o.warn(`cri.restore: sandbox ${st.id} (${st.config.metadata?.name ?? ''}): ${lost}: NOT_READY, its containers exited`)
  const sandbox = await PodSandbox.adopt(
    st.spec,
    { stateRoot: root, network: rt.o.network, cniConfDir: rt.o.cniConfDir, cniBinDir: rt.o.cniBinDir, onWarning: rt.o.warn },
    {
      host: host ?? lostHost(dir, lost!),
      pause: pause ?? lostProcess(`sandbox ${st.id}: ${lost}`),
      pausePlan: st.pausePlan,
      namespaces: st.namespaces,
      cgroupPlan: st.cgroupPlan,
      podIPs: st.podIPs,
    },
  )
  const ready = st.state === 'SANDBOX_READY' && pause instanceof ShimProcess && pause.running
  const s: SandboxRecord = {
    id: st.id,
    config: st.config,
    runtimeHandler: st.runtimeHandler,
    createdAt: BigInt(st.createdAt),
    state: ready ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY',
    sandbox,
    containers: new Set(),
  }
  for (const stored of pod.containers) {
    const c = containerRecord(st.id, stored)
    const name = c.created.spec.name
    const image = findImage(root, c.created.spec.image)
    if (image) sandbox.images.set(name, { kind: 'layers', layers: image.layers, config: image.config })
    for (const [v, path] of mountSources(c.id, c.config)) sandbox.volumes.set(v, path)
    const proc = host instanceof ShimHost ? host.process(name) : undefined
    if (proc && c.state !== 'CONTAINER_EXITED') {
      rt.follow(c, proc) // running on, or exited meanwhile: its exit is the shim's
    } else if (c.state === 'CONTAINER_RUNNING') {
      const exit = recordedExit(dir, name)
      c.state = 'CONTAINER_EXITED'
      c.exitCode = exit?.exitCode ?? UNKNOWN_EXIT
      c.finishedAt = exit ? BigInt(exit.finishedAtNs) : nowNs()
      c.reason = exit ? (exit.oomKilled ? 'OOMKilled' : exit.exitCode === 0 ? 'Completed' : 'Error') : 'Unknown'
      c.message = exit ? c.message : `the sandbox's shim died while pod-launch cri was not running (${lost ?? 'it holds no such process'})`
    }
    rt.containers.set(c.id, c)
    s.containers.add(c.id)
  }
  rt.track(s)
  rt.save(s.id)
}

/** Every sandbox recorded under the root, taken back; one that cannot be is named in a warning and left on disk. */
export async function restoreSandboxes(rt: CriRuntime): Promise<number> {
  const pods = readStoredPods(rt.o.root, (file, why) => rt.o.warn(`cri.restore: ${file}: ${why} (left alone)`))
  for (const pod of pods) {
    try {
      await restoreOne(rt, pod)
    } catch (e) {
      rt.o.warn(`cri.restore: sandbox ${pod.sandbox.id}: not restored: ${(e as Error).message}`)
    }
  }
  return pods.length
}
