// `wait POD --for=condition=Ready[=true|false] | --for=delete --timeout=30s`,
// as kubectl wait: poll the pod's record until the condition holds (its
// recorded status) or the pod is gone; a pod that ends first, or the timeout,
// is an error naming what was awaited.
import { existsSync } from 'node:fs'
import { PodError } from '../errors.js'
import { displayPhase, isAlive, podDir, readRecord, resolvePod, type PodRecord } from '../state/index.js'
import { computeConditions } from './conditions.js'

export type WaitFor = { condition: string; status: 'True' | 'False' } | { delete: true }

const FOR_HINT = 'kubectl wait --for forms: condition=Ready, condition=Ready=false, condition=ContainersReady, delete'

export function parseWaitFor(s: string): WaitFor {
  if (s === 'delete') return { delete: true }
  const m = /^condition=([A-Za-z]+)(?:=(true|false))?$/i.exec(s)
  if (!m) throw new PodError(`wait: --for=${s}: not understood`, { step: 'wait', code: 'EINVAL', exitCode: 2, hint: FOR_HINT })
  return { condition: m[1], status: m[2]?.toLowerCase() === 'false' ? 'False' : 'True' }
}

const describe = (f: WaitFor) => ('delete' in f ? 'delete' : `condition ${f.condition}=${f.status}`)

/** Whether `r` meets the condition (its type compared without case, as kubectl does). */
function met(r: PodRecord, f: { condition: string; status: string }): boolean {
  const c = (r.conditions ?? computeConditions(r)).find(c => c.type.toLowerCase() === f.condition.toLowerCase())
  return c?.status === f.status
}

/** Resolves with the pod's name once `forWhat` holds; throws `wait` on a timeout (exit 1) or a pod that ended first. */
export async function waitForPod(root: string, ref: string, forWhat: WaitFor, timeoutMs: number): Promise<string> {
  let found
  try {
    found = resolvePod(root, ref)
  } catch (e) {
    // Waiting for a deletion that has happened: done.
    if ('delete' in forWhat && e instanceof PodError && e.code === 'POD_NOT_FOUND') return ref
    throw e
  }
  const { id } = found
  const name = found.record?.name ?? ref
  const deadline = Date.now() + timeoutMs
  for (;;) {
    let r: PodRecord | undefined
    try {
      r = existsSync(podDir(root, id)) ? readRecord(root, id) : undefined
    } catch {
      r = undefined // removed while we read it
    }
    if ('delete' in forWhat) {
      if (!r) return name
    } else {
      if (!r) throw new PodError(`wait: ${name}: the pod was removed before ${describe(forWhat)}`, { step: 'wait', code: 'POD_NOT_FOUND' })
      if (met(r, forWhat)) return name
      const phase = displayPhase(r, isAlive(r.supervisor))
      if (phase === 'Succeeded' || phase === 'Failed' || phase === 'Unknown')
        throw new PodError(`wait: ${name}: the pod is ${phase}: ${describe(forWhat)} will not come`, {
          step: 'wait',
          code: 'ESRCH',
          hint: `pod-launch events ${name} and pod-launch inspect ${name} say why`,
        })
    }
    if (Date.now() >= deadline)
      throw new PodError(`wait: ${name}: timed out after ${timeoutMs / 1000}s waiting for ${describe(forWhat)}`, {
        step: 'wait',
        code: 'ETIMEDOUT',
        hint: '--timeout gives it longer',
      })
    await new Promise(res => setTimeout(res, 100))
  }
}
