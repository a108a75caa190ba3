// `run` in the foreground keeps a record too: ps, inspect, stop and rm see the
// pod while it runs, and when the CLI is killed (its containers die with it)
// the record names the cgroups, mounts and directory gc must remove.
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { crashPoint } from '../crash-point.js'
import { Pod, type PodOptions } from '../pod/index.js'
import type { PodSpec } from '../spec/index.js'
import { ensureRoot, podDir, processIdentity, withLock, writeRecord } from '../state/index.js'
import { admitPod } from './admit.js'
import { RecordKeeper } from './recorder.js'

/** Pod.start with a record under `root` from before anything exists; the pod's directory goes when it ends. */
export async function startForeground(spec: PodSpec, root: string, opts: PodOptions = {}): Promise<Pod> {
  ensureRoot(root)
  const dir = podDir(root, spec.uid)
  const warn = opts.onWarning ?? ((m: string) => process.stderr.write(`warning: ${m}\n`))
  const keeper = new RecordKeeper(
    root,
    {
      id: spec.uid,
      name: spec.name,
      namespace: spec.namespace,
      createdAt: new Date().toISOString(),
      supervisor: processIdentity(process.pid),
      foreground: true,
      phase: 'Pending',
      spec,
      podIP: '',
      initContainerStatuses: [],
      containerStatuses: [],
    },
    warn,
  )
  // Checked and recorded under the root's lock: a second start sees this pod's ports.
  await withLock(join(root, '.lock'), () => {
    admitPod(root, spec, dir, false)
    try {
      writeRecord(root, keeper.record)
    } catch (e) {
      rmSync(dir, { recursive: true, force: true })
      throw e
    }
  })
  let pod: Pod
  try {
    pod = await Pod.start(spec, {
      ...opts,
      stateRoot: root,
      keepState: false,
      onIntent: keeper.onIntent,
      onEvent: e => {
        keeper.onEvent(e)
        opts.onEvent?.(e)
      },
    })
  } catch (e) {
    rmSync(dir, { recursive: true, force: true }) // a failed start leaves nothing (the engine undid the rest)
    throw e
  }
  keeper.attach(pod)
  keeper.save()
  crashPoint('running')
  keeper.coalesce()
  return pod
}
