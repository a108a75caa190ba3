// `exec POD [-c C] -- CMD...`: join a running container's namespaces (pause's
// shared ones and its own mnt and pid) through the native spawn.
import { PodError } from '../errors.js'
import { closeNamespaces, execAttached, openNamespaces, planExec } from '../pod/index.js'
import { checkPlan, parseNsRef } from '../spawn/index.js'
import { isAlive, resolvePod, runningContainerStatuses } from '../state/index.js'
import { recordCgroups } from './ops.js'

export async function execInPod(root: string, ref: string, container: string | undefined, argv: string[]): Promise<number> {
  const { record: r, error } = resolvePod(root, ref)
  if (!r) throw error!
  // A sidecar runs beside the containers: exec reaches it with -c, as kubectl's does.
  const candidates = runningContainerStatuses(r)
  const status = container ? candidates.find(s => s.name === container) : r.containerStatuses[0]
  if (!status) {
    throw new PodError(`exec: ${r.name}: no container ${container}`, {
      step: 'exec',
      code: 'ENOENT',
      exitCode: 2,
      hint: `containers: ${candidates.map(s => s.name).join(', ')}`,
    })
  }
  if (!('running' in status.state) || !status.pid || !isAlive(r.pause)) {
    throw new PodError(`exec: ${r.name}/${status.name}: container is not running`, { step: 'exec', code: 'ESRCH', hint: 'pod-launch ps shows its state' })
  }
  if (!status.plan)
    throw new PodError(`exec: ${r.name}/${status.name}: the pod record holds no plan for it`, {
      step: 'exec',
      code: 'ENOENT',
      hint: 'the pod was started by an older pod-launch: restart it',
    })
  // The container's stored plan, copied: no image lookup, no re-derivation (containerd's exec copies spec.Process).
  // Not in a new session: Ctrl-C on our terminal reaches it, as with `podman exec`.
  const plan = planExec(checkPlan(status.plan, `${r.name}/${status.name}`), argv, { newSession: false })
  const pauseTypes = plan.join
    .map(j => parseNsRef(j.path))
    .filter(ref => ref.who === 'pause')
    .map(ref => ref.type)
  const shared = openNamespaces(r.pause!.pid, pauseTypes)
  try {
    const cg = recordCgroups(r)
    const name = status.name
    const exit = await execAttached({ pid: status.pid, plan, shared, devNull: 0, enter: cg && (pid => cg.enter(pid, name, { exec: true })) })
    return exit.exitCode
  } finally {
    closeNamespaces(shared)
  }
}
