// `exec POD [-c C] -- CMD...`: join a running container's namespaces (pause's
// shared ones and its own mnt and pid) through the native spawn.
import { PodError } from '../errors.js'
import { hostname } from 'node:os'
import { resolveImage } from '../rootfs/index.js'
import { closeNamespaces, runConfig, containerIdentity, execAttached, openNamespaces, podSharedNamespaces } from '../pod/index.js'
import { isAlive, resolvePod, runningContainerStatuses } from '../state/index.js'
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
  const running = status.state && 'running' in (status.state as object)
  if (!running || !status.pid || !isAlive(r.pause)) {
    throw new PodError(`exec: ${r.name}/${status.name}: container is not running`, { step: 'exec', code: 'ESRCH', hint: 'pod-launch ps shows its state' })
  }
  const shared = openNamespaces(r.pause!.pid, podSharedNamespaces(r.spec))
  try {
    const image = resolveImage(spec.image, spec.name, { storeRoot: root, imageFallback: 'host' })
    const run = runConfig(r.spec, spec, { podIP: r.podIP, hostIP: '', nodeName: hostname() }, image)
    const cg = recordCgroups(r)
    const exit = await execAttached({ pid: status.pid as number, shared, env: run.env, workingDir: run.workingDir, devNull: 0, enter: cg && (pid => cg.enter(pid, status.name as string, { exec: true })), identity: containerIdentity(spec, run.user, run.imageGroups) }, argv)
    return exit.exitCode
  } finally {
    closeNamespaces(shared)
  }
}
