// The CRI server's records on disk: `<root>/<sandbox id>/cri.json` holds the
// sandbox (its config, times, state and what adopting it needs: the pod
// spec, cgroup plan, pause plan and namespaces, pod IPs) and every container
// of it (config, times, exit, log path, stored plan). Written atomically
// (tmp, fsync, rename) after each change, so a restarted `pod-launch cri`
// finds what the last one knew; what happened meanwhile (exits) the shims
// recorded.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CgroupPlan } from '../cgroups/index.js'
import type { SandboxContainer } from '../pod/index.js'
import type { NsType } from '../spawn/index.js'
import type { PodSpec } from '../spec/index.js'
import { writeJsonAtomic } from '../atomic-file.js'
import { CRI_RECORD_FILE } from '../state/index.js'
import type { ContainerConfig, PodSandboxConfig } from './types.js'

export const CRI_RECORD = CRI_RECORD_FILE
const VERSION = 1

export interface StoredSandbox {
  id: string
  config: PodSandboxConfig
  runtimeHandler: string
  /** ns since the epoch, as a decimal string (bigint). */
  createdAt: string
  state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY'
  spec: PodSpec
  cgroupPlan: CgroupPlan
  pausePlan: SandboxContainer['plan']
  namespaces: Record<NsType, number>
  podIPs: string[]
}

export interface StoredContainer {
  id: string
  config: ContainerConfig
  createdAt: string
  startedAt: string
  finishedAt: string
  state: 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN'
  exitCode: number
  reason: string
  message: string
  imageId: string
  logPath: string
  signal: string
  created: { spec: SandboxContainer['spec']; plan: SandboxContainer['plan'] }
}

export interface StoredPod {
  version: number
  sandbox: StoredSandbox
  containers: StoredContainer[]
}

export function writeStoredPod(podDir: string, pod: Omit<StoredPod, 'version'>): void {
  writeJsonAtomic(join(podDir, CRI_RECORD), { version: VERSION, ...pod }, 0o600, 'cri.state')
}

/** Every readable record under the root; `bad` gets the files that are not (left alone, named). */
export function readStoredPods(root: string, bad: (file: string, why: string) => void): StoredPod[] {
  let names: string[]
  try {
    names = readdirSync(root)
  } catch {
    return []
  }
  const out: StoredPod[] = []
  for (const name of names.filter(n => /^[0-9a-f]{64}$/.test(n))) {
    const file = join(root, name, CRI_RECORD)
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      continue // not a CRI sandbox (or one whose RunPodSandbox never finished: gc's)
    }
    try {
      const pod = JSON.parse(text) as StoredPod
      if (pod.version !== VERSION || pod.sandbox?.id !== name || !Array.isArray(pod.containers))
        throw new Error(`not a version ${VERSION} record of sandbox ${name}`)
      out.push(pod)
    } catch (e) {
      bad(file, (e as Error).message)
    }
  }
  return out
}
