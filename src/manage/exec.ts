// `exec POD [-c C] [-i] [-t] -- CMD...`: join a running container's namespaces
// (pause's shared ones and its own mnt and pid) through the native spawn, with
// our stdio, pipes (cp) or a pty made in the container. The CRI's streaming
// Exec prepares its target the same way (prepareExec).
import { closeSync, openSync } from 'node:fs'
import type { Socket } from 'node:net'
import { PodError } from '../errors.js'
import {
  closeNamespaces,
  execAttached,
  execWithPipes,
  execWithTerminal,
  openNamespaces,
  planExec,
  type ExecPipes,
  type ExecTarget,
  type ExecTerminal,
  type WindowSize,
} from '../pod/index.js'
import { checkPlan, parseNsRef } from '../spawn/index.js'
import { isAlive, resolvePod } from '../state/index.js'
import { pickContainer } from './logs.js'
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
 * Without `container`: the default one (kubectl's annotation, else the first).
 * Throws `exec` (no such container, not running, no plan).
 */
export function prepareExec(
  root: string,
  ref: string,
  container: string | undefined,
  argv: string[],
  opts: { newSession: boolean; devNull: number; onDefault?: ExecOptions['onDefault'] },
): PreparedExec {
  const { record: r, error } = resolvePod(root, ref)
  if (!r) throw error!
  // A sidecar runs beside the containers: exec reaches it with -c, as kubectl's does.
  const status = pickContainer(r, container, 'exec', opts.onDefault)
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
  /** No -c and several containers: the one chosen (kubectl's default container), and all of them. */
  onDefault?: (chosen: string, all: string[]) => void
  /** The container was found running: the command starts next. */
  onFound?: () => void
}

/** prepareExec with /dev/null open for it; `release` closes both. */
function prepareWithDevNull(
  root: string,
  ref: string,
  container: string | undefined,
  argv: string[],
  newSession: boolean,
  onDefault?: ExecOptions['onDefault'],
): { exec: PreparedExec; release(): void } {
  let devNull: number
  try {
    devNull = openSync('/dev/null', 'r+')
  } catch (e) {
    throw PodError.system('exec.open', e, '/dev/null')
  }
  try {
    const exec = prepareExec(root, ref, container, argv, { newSession, devNull, onDefault })
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
  // Not in a new session: Ctrl-C on our terminal reaches it, as with `podman exec`.
  const { exec, release } = prepareWithDevNull(root, ref, container, argv, false, opts.onDefault)
  try {
    opts.onFound?.()
    return (await execAttached(exec.target, { stdin: opts.stdin ?? false })).exitCode
  } finally {
    release()
  }
}

/** Run `argv` in the container on a pty of its own (exec -t), `size` rows x cols; the caller relays the terminal. */
export async function execTerminal(
  root: string,
  ref: string,
  container: string | undefined,
  argv: string[],
  size?: WindowSize,
  onDefault?: ExecOptions['onDefault'],
): Promise<ExecTerminal> {
  const { exec, release } = prepareWithDevNull(root, ref, container, argv, true, onDefault)
  try {
    return await execWithTerminal(exec.target, size)
  } finally {
    release()
  }
}

/** An exec'd process with a pipe for its stdin too. */
export type PipedExec = ExecPipes & { readonly stdin: Socket }

/** Run `argv` in the container with pipes for its stdin, stdout and stderr (cp). */
export async function execPipes(root: string, ref: string, container: string | undefined, argv: string[]): Promise<PipedExec> {
  const { exec, release } = prepareWithDevNull(root, ref, container, argv, true)
  try {
    return (await execWithPipes(exec.target, { stdin: true })) as PipedExec
  } finally {
    release()
  }
}
