// `pod-launch ps`: its own module, loading only the state records, the
// selectors, the summaries and the Pod object builder (leaf modules, not the
// pod, image or network code), so a call costs little more than Node's
// start-up (main.ts loads it when ps runs).
import { hostname } from 'node:os'
import { kubePod } from '../manage/kube-pod.js'
import { selectPods } from '../manage/select.js'
import { podSummary, type PodSummary } from '../manage/summary.js'
import { listPods } from '../state/resolve.js'
import { kubeList, printData, shortAge, type Format } from './format.js'
import type { Io } from './output.js'
import { table } from './table.js'

export interface PsOptions {
  format: Format
  /** -o json|yaml: the pods as Kubernetes objects (kubectl get pods); --json: podman's summaries. */
  kube?: boolean
  selector?: string
  filters?: string[]
}

// STATUS as kubectl get pods prints it (ImagePullBackOff, CrashLoopBackOff, Completed, Init:0/1...); --json has the phase too.
export const PS_HEAD = ['POD', 'ID', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP']
export const PS_WIDE = ['NODE', 'OWNER', 'CONTAINERS', 'IMAGES']

/** One pod's ps line; `wide` adds the node, the owner, each container's state and the images. */
export function psRow(p: PodSummary, wide: boolean): string[] {
  const row = [p.pod, wide ? p.id : p.id.slice(0, 12), p.ready, p.status, String(p.restarts), shortAge(p.startTime ?? p.createdAt), p.ip || '-']
  if (!wide) return row
  const owner = p.owner ? `${p.owner.foreground ? 'run' : 'run -d'} ${p.owner.pid}${p.owner.alive ? '' : ' (gone)'}` : '-'
  const containers = p.containers.filter(c => !c.init || c.sidecar).map(c => `${c.name}:${c.reason || c.state}`)
  const images = [...new Set(p.containers.map(c => c.image))]
  return [...row, hostname(), owner, containers.join(',') || '-', images.join(',') || '-']
}

/** `ps`: the table; `--json` the summaries; `-o json|yaml` the pods as Kubernetes objects (a List); `-o name` pod/NAME. */
export function psCommand(root: string, opts: PsOptions, io: Io): number {
  const pods = selectPods(listPods(root), opts)
  switch (opts.format) {
    case 'json':
    case 'yaml':
      printData(io, opts.format, opts.kube ? kubeList(pods.flatMap(p => (p.record ? [kubePod(root, p.record)] : []))) : pods.map(podSummary))
      return 0
    case 'name':
      io.out(pods.map(p => `pod/${p.record?.name ?? p.id}\n`).join(''))
      return 0
    default: {
      const wide = opts.format === 'wide'
      io.out(
        table(
          wide ? [...PS_HEAD, ...PS_WIDE] : PS_HEAD,
          pods.map(p => psRow(podSummary(p), wide)),
        ),
      )
      return 0
    }
  }
}
