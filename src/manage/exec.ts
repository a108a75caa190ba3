// `exec POD [-c C] -- CMD...`: join a running container's namespaces (pause's
// shared ones and its own mnt and pid) through the native spawn.
import { PodError } from '../errors.js'
import { resolveImage } from '../rootfs/index.js'
import { closeNamespaces, nodeFacts, runConfig, containerIdentity, execAttached, openNamespaces, podSharedNamespaces } from '../pod/index.js'
import { isAlive, podDir, resolvePod, specFile, runningContainerStatuses } from '../state/index.js'
import { preparePodSeccomp } from '../seccomp/index.js'
import type { SupervisedOptions } from './supervisor.js'
import { readFileSync } from 'node:fs'

/** The run options the pod was started with (spec.json), for the seccomp default. */
function startOptions(root: string, id: string): SupervisedOptions {
  try {
    return (JSON.parse(readFileSync(specFile(podDir(root, id)), 'utf8')) as { options?: SupervisedOptions }).options ?? {}
  } catch {
    return {}
  }
}
import { recordCgroups } from './ops.js'

export async function execInPod(root: string, ref: string, container: string | undefined, argv: string[]): Promise<number> {
  const { record: r, error } = resolvePod(root, ref)
  if (!r) throw error!
  // A sidecar runs beside the containers: exec reaches it with -c, as kubectl's does.
  const candidates = runningContainerStatuses(r)
  const status = container ? candidates.find(s => s.name === container) : r.containerStatuses[0]
  if (!status) {
    throw new PodError(`exec: ${r.name}: no container ${container}`, { step: 'exec', code: 'ENOENT', exitCode: 2, hint: `containers: ${candidates.map(s => s.name).join(', ')}` })
  }
  const spec = [...r.spec.initContainers, ...r.spec.containers].find(c => c.name === status.name)!
  const running = 'running' in status.state
  if (!running || !status.pid || !isAlive(r.pause)) {
    throw new PodError(`exec: ${r.name}/${status.name}: container is not running`, { step: 'exec', code: 'ESRCH', hint: 'pod-launch ps shows its state' })
  }
  const shared = openNamespaces(r.pause!.pid, podSharedNamespaces(r.spec))
  try {
    const image = resolveImage(spec.image, spec.name, { storeRoot: root, imageFallback: 'host' })
    // The container's own environment, resolved with the same node facts as at its start.
    const node = nodeFacts()
    const run = runConfig(r.spec, spec, { ...node, podIP: r.podIP || (r.spec.hostNetwork ? node.hostIP : '') }, image)
    const cg = recordCgroups(r)
    // The exec'd process gets the container's seccomp filter, as runc exec does.
    const seccomp = preparePodSeccomp({ ...r.spec, initContainers: [], containers: [spec] }, { seccompDefault: startOptions(root, r.id).seccompDefault }).get(spec.name)?.filter?.bpf
    const exit = await execAttached({ pid: status.pid, shared, env: run.env, workingDir: run.workingDir, devNull: 0, enter: cg && (pid => cg.enter(pid, status.name, { exec: true })), identity: { ...containerIdentity(spec, run.user, run.imageGroups), seccomp } }, argv)
    return exit.exitCode
  } finally {
    closeNamespaces(shared)
  }
}
