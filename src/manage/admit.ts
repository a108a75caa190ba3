// What a new pod may not share with the live pods of its root, checked under
// the root's lock before anything of it is made: its name, and its host
// ports (the scheduler's NodePorts check: one hostPort, protocol and host IP
// per node; a hostNetwork pod's container ports are host ports).
import { mkdirSync } from 'node:fs'
import { PodError } from '../errors.js'
import type { PodSpec } from '../spec/index.js'
import { isAlive, listPods, podsNamed, type PodRecord } from '../state/index.js'

const isLive = (r: PodRecord) => isAlive(r.supervisor) || (r.phase !== 'Succeeded' && r.phase !== 'Failed')

/**
 * Names must be unique among live pods (not yet ended, or with a live owner).
 * Checked at every `run -d` under the root's lock: podsNamed parses only the
 * records that hold the name, so a start does not cost a parse of every pod's.
 */
export function assertNameFree(root: string, name: string): void {
  for (const { record: r } of podsNamed(root, name)) {
    if (!isLive(r)) continue
    throw new PodError(`pod.create: ${name}: a pod of this name exists (${r.id.slice(0, 12)})`, {
      step: 'pod.create',
      code: 'EEXIST',
      exitCode: 1,
      hint: `remove it first: pod-launch rm --force ${name}`,
    })
  }
}

interface HostPort {
  path: string
  port: number
  protocol: string
  hostIP: string
}

/** The host ports a pod takes, by field path. */
function hostPorts(spec: PodSpec): HostPort[] {
  const out: HostPort[] = []
  const each = (list: PodSpec['containers'], field: string) =>
    list.forEach((c, i) =>
      c.ports.forEach((p, j) => {
        const port = p.hostPort ?? (spec.hostNetwork ? p.containerPort : undefined)
        if (port) out.push({ path: `spec.${field}[${i}].ports[${j}].hostPort`, port, protocol: p.protocol, hostIP: p.hostIP ?? '' })
      }),
    )
  each(spec.initContainers, 'initContainers')
  each(spec.containers, 'containers')
  return out
}

const anyIP = (ip: string) => ip === '' || ip === '0.0.0.0' || ip === '::'
const overlap = (a: HostPort, b: HostPort) => a.port === b.port && a.protocol === b.protocol && (anyIP(a.hostIP) || anyIP(b.hostIP) || a.hostIP === b.hostIP)

/** A hostPort (protocol, host IP) another live pod of this root holds is refused, naming the field and the pod. */
export function assertHostPortsFree(root: string, spec: PodSpec): void {
  const mine = hostPorts(spec)
  if (mine.length === 0) return
  const clashes: string[] = []
  for (const p of listPods(root)) {
    const r = p.record
    if (!r || r.id === spec.uid || !isLive(r)) continue
    for (const theirs of hostPorts(r.spec))
      for (const m of mine.filter(m => overlap(m, theirs)))
        clashes.push(`${m.path}: ${m.port}/${m.protocol} is taken by the live pod ${r.name} (${r.id.slice(0, 12)})`)
  }
  if (clashes.length === 0) return
  throw new PodError(`pod.create: ${spec.name}: ${clashes.join('; ')}`, {
    step: 'pod.create',
    code: 'EADDRINUSE',
    exitCode: 1,
    hint: 'choose another hostPort, or stop that pod first (pod-launch stop NAME)',
  })
}

/** Under the root's lock: admit a new pod (its name too when `uniqueName`, its host ports), then make its directory. */
export function admitPod(root: string, spec: PodSpec, dir: string, uniqueName: boolean): void {
  if (uniqueName) assertNameFree(root, spec.name)
  assertHostPortsFree(root, spec)
  try {
    mkdirSync(dir, { mode: 0o711 })
  } catch (e) {
    throw PodError.system('state.mkdir', e, dir)
  }
}
