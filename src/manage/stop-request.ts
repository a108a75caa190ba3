// A stop request to a detached pod's supervisor: stop.json says how (grace,
// force), SIGTERM says when. Teardown never waits on a write: on a full disk
// the request may not be written, and the pod is stopped all the same.
import { readFileSync, writeFileSync } from 'node:fs'
import { PodCgroups, realFs } from '../cgroups/index.js'
import { describeFailure, ignoreEnoent, PodError } from '../errors.js'
import { podDir, stopFile, type PodRecord } from '../state/index.js'

export interface StopRequest {
  gracePeriodSeconds?: number
  force?: boolean
}

/**
 * Write stop.json for the supervisor; false (and a warning naming step,
 * path and hint) when it cannot be written: the supervisor then stops the
 * pod with its terminationGracePeriodSeconds.
 */
export function writeStopRequest(root: string, r: PodRecord, req: StopRequest, warn: (m: string) => void): boolean {
  const file = stopFile(podDir(root, r.id))
  try {
    writeFileSync(file, JSON.stringify(req))
    return true
  } catch (cause) {
    const e = PodError.system('state.write', cause, file)
    warn(
      `pod ${r.name}: stop request not written (the pod's grace period, ${r.spec.terminationGracePeriodSeconds}s, applies; ` +
        `a shorter one or --force is kept by this command): ${describeFailure(e)}`,
    )
    return false
  }
}

/** The supervisor's side: the request as written, or `{}` (the pod's own grace) when there is none or it is unreadable. */
export function readStopRequest(dir: string): StopRequest {
  try {
    const req: unknown = JSON.parse(ignoreEnoent(() => readFileSync(stopFile(dir), 'utf8')) ?? '{}')
    return req !== null && typeof req === 'object' ? req : {}
  } catch {
    return {} // half written on a full disk
  }
}

/** SIGKILL every container process of the pod (pause stays for the supervisor's teardown). */
export async function killContainers(r: PodRecord): Promise<void> {
  const plan = r.cgroups?.plan
  if (!plan) return
  const cg = new PodCgroups(plan, realFs)
  for (const c of plan.containers) await cg.killAll(c.who)
}
