// `exec POD [-c C] -- CMD...`: join a running container's namespaces (pause's
// shared ones and its own mnt and pid) through the native spawn. The CRI's
// streaming Exec prepares its target the same way (prepareExec).
import { closeSync, openSync } from 'node:fs'
import { PodError } from '../errors.js'
import { closeNamespaces, execAttached, execWithTerminal, openNamespaces, planExec, type ExecTarget, type ExecTerminal, type WindowSize } from '../pod/index.js'
import { checkPlan, parseNsRef } from '../spawn/index.js'
import { isAlive, resolvePod, runningContainerStatuses } from '../state/index.js'
import { recordCgroups } from './ops.js'

export interface PreparedExec {
  /** `pod/container`, for messages. */
  name: string
  target: ExecTarget
  /** Close pause's namespace fds (after the spawn). */
  close(): void
}

/**
 * The target for running `argv` in a running container of a detached pod:
 * the container's stored plan, copied (no image lookup, no re-derivation;
 * containerd's exec copies spec.Process). `newSession`: a session of its own
 * (a terminal), else Ctrl-C on our terminal reaches it, as with `podman exec`.
 * Throws `exec` (no such container, not running, no plan).
 */
export function prepareExec(
  root: string,
  ref: string,
  container: string | undefined,
  argv: string[],
  opts: { newSession: boolean; devNull: number },
): PreparedExec {
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
  const plan = planExec(checkPlan(status.plan, `${r.name}/${status.name}`), argv, { newSession: opts.newSession })
  const pauseTypes = plan.join
    .map(j => parseNsRef(j.path))
    .filter(ref => ref.who === 'pause')
    .map(ref => ref.type)
  const shared = openNamespaces(r.pause!.pid, pauseTypes)
  const cg = recordCgroups(r)
  const name = status.name
  return {
    name: `${r.name}/${name}`,
    target: { pid: status.pid, plan, shared, devNull: opts.devNull, enter: cg && (pid => cg.enter(pid, name, { exec: true })) },
    close: () => closeNamespaces(shared),
  }
}

export interface ExecOptions {
  /** Pass our stdin (kubectl exec -i); else the command reads /dev/null. */
  stdin?: boolean
}

/** prepareExec with /dev/null open for it; `release` closes both. */
function prepareWithDevNull(
  root: string,
  ref: string,
  container: string | undefined,
  argv: string[],
  newSession: boolean,
): { exec: PreparedExec; release(): void } {
  let devNull: number
  try {
    devNull = openSync('/dev/null', 'r+')
  } catch (e) {
    throw PodError.system('exec.open', e, '/dev/null')
  }
  try {
    const exec = prepareExec(root, ref, container, argv, { newSession, devNull })
    return {
      exec,
      release: () => {
        exec.close()
        closeSync(devNull)
      },
    }
  } catch (e) {
    closeSync(devNull)
    throw e
  }
}

/** Run `argv` in the container with our stdout and stderr (and stdin with `stdin`); resolves with its exit code. */
export async function execInPod(root: string, ref: string, container: string | undefined, argv: string[], opts: ExecOptions = {}): Promise<number> {
  const { exec, release } = prepareWithDevNull(root, ref, container, argv, false)
  try {
    return (await execAttached(exec.target, { stdin: opts.stdin ?? false })).exitCode
  } finally {
    release()
  }
}

/** Run `argv` in the container on a pty of its own (exec -t), `size` rows x cols; the caller relays the terminal. */
export async function execTerminal(root: string, ref: string, container: string | undefined, argv: string[], size?: WindowSize): Promise<ExecTerminal> {
  const { exec, release } = prepareWithDevNull(root, ref, container, argv, true)
  try {
    return await execWithTerminal(exec.target, size)
  } finally {
    release()
  }
}
