// The namespace labs: `pod-launch lab list`, `pod-launch lab NAME`.
import { PodError } from '../index.js'
import { LabRun, type Lab, type LabIo } from './lab.js'
import { cpuLimit, gracefulStop, hostNamespaces, memoryLimit } from './limits-stop-host.js'
import { sharedIpc, sharedNet, uts } from './net-ipc-uts.js'
import { pauseRole, pidSharing } from './pid-pause.js'

export const LABS: Lab[] = [sharedNet, sharedIpc, uts, pidSharing, pauseRole, memoryLimit, cpuLimit, gracefulStop, hostNamespaces]
export type { Lab, LabIo, Check } from './lab.js'

/** Run one lab; resolves with whether every check held. Pods are always cleaned up. */
export async function runLab(name: string, io: LabIo): Promise<{ passed: boolean; checks: LabRun['checks'] }> {
  const lab = LABS.find(l => l.name === name)
  if (!lab) throw new PodError(`lab: ${name}: no such lab`, { step: 'lab', code: 'ENOENT', exitCode: 2, hint: `labs: ${LABS.map(l => l.name).join(', ')}` })
  const run = new LabRun(io, lab.name)
  io.out(`${io.color ? '\x1b[1m' : ''}${lab.name}: ${lab.title}${io.color ? '\x1b[0m' : ''}\n`)
  try {
    await lab.run(run)
  } catch (e) {
    run.check('the lab ran to the end', false, (e as Error).message)
  } finally {
    await run.cleanup()
  }
  run.finish()
  return { passed: run.passed, checks: run.checks }
}
