// Integration helpers: unique pods, collected output, and a record of every
// namespace our pods made so the final test can prove nothing was left.
import { EventEmitter } from 'node:events'
import { appendFileSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bootTicks } from './procs.js'
import { namespaceInodes, startPod, type OutputLine, type Pod, type PodOptions, type PodResult } from '../../src/index.js'

/** The part of a tap Test these helpers use. */
export interface Teardown {
  teardown(fn: () => unknown): void
}

export const TRACK_FILE = join(process.env.POD_LAUNCH_TEST_TRACK ?? join(tmpdir(), 'pod-launch-tests'), 'namespaces.jsonl')

let counter = 0
export function uniqueName(prefix: string): string {
  return `plt-${prefix}-${process.pid}-${++counter}`
}

/** A unique cgroup parent for the test's pods, removed from every hierarchy at teardown (pod-launch leaves a parent it did not make to its owner). */
export function ownCgroupParent(t: Teardown, prefix: string): string {
  const parent = uniqueName(prefix)
  t.teardown(() => {
    for (const h of readdirSync('/sys/fs/cgroup'))
      try {
        rmdirSync(join('/sys/fs/cgroup', h, parent))
      } catch {
        // not made in that hierarchy
      }
  })
  return parent
}

export type ContainerInput = { name: string; command: string[]; args?: string[]; env?: { name: string; value: string }[]; workingDir?: string }

/** The fixture scripts, mounted read-only at the same path in every container of `manifest()`. */
export const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url))

export function manifest(name: string, containers: ContainerInput[], spec: Record<string, unknown> = {}) {
  const fixtures = { name: 'fixtures', mountPath: FIXTURES, readOnly: true }
  // The CLI is strict as kubectl: a container names its image; these run on the host's filesystem.
  const host = <C extends object>(c: C): C => ('image' in c ? c : { image: 'host', ...c })
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 2,
      ...spec,
      ...(Array.isArray(spec.initContainers) ? { initContainers: (spec.initContainers as object[]).map(host) } : {}),
      volumes: [{ name: 'fixtures', hostPath: { path: FIXTURES, type: 'Directory' } }, ...((spec.volumes as object[] | undefined) ?? [])],
      containers: containers.map(c => ({ ...host(c), volumeMounts: [...((c as { volumeMounts?: object[] }).volumeMounts ?? []), fixtures] })),
    },
  }
}

/** Record the pod's namespaces (pause's uts, each container's pid) for the final leftover check. */
export function track(pod: Pod): void {
  mkdirSync(join(TRACK_FILE, '..'), { recursive: true })
  // Only namespaces the pod made: pause's pid ns is the host's unless shared.
  const host = namespaceInodes('self')
  const pid = [pod.sandbox.namespaces.pid, ...pod.runners.map(r => r.namespaces?.pid ?? 0)].filter(ino => ino && ino !== host.pid)
  const uts = pod.sandbox.namespaces.uts === host.uts ? 0 : pod.sandbox.namespaces.uts // hostNetwork: the host's
  const entry = { pod: pod.name, uid: pod.spec.uid, pause: pod.sandbox.pid, uts, pid: [...new Set(pid)] }
  appendFileSync(TRACK_FILE, JSON.stringify(entry) + '\n')
  // When it has ended: the final check counts only processes born before this (inodes are reused).
  void pod.wait().then(
    () => appendFileSync(TRACK_FILE, JSON.stringify({ uid: entry.uid, end: bootTicks() }) + '\n'),
    () => appendFileSync(TRACK_FILE, JSON.stringify({ uid: entry.uid, end: bootTicks() }) + '\n'),
  )
}

export interface Collected {
  pod: Pod
  lines: (container: string) => string[]
  stderr: (container: string) => string[]
  /** Resolves with the first stdout line of `container` matching `re` (rejects when the pod ends first). */
  waitFor: (container: string, re: RegExp) => Promise<string>
}

/** Start a pod, tracked, collecting its output; stops it at teardown of `t`. */
export async function start(t: Teardown, m: object, opts: PodOptions = {}): Promise<Collected> {
  const out: OutputLine[] = []
  const events = new EventEmitter()
  const onOutput = (l: OutputLine) => {
    out.push(l)
    events.emit('line', l)
  }
  const pod = await startPod(m as Record<string, unknown>, { onOutput, onManifestWarning: () => {}, onWarning: () => {}, ...opts })
  track(pod)
  t.teardown(() => pod.stop({ force: true }))
  const lines = (name: string) => out.filter(l => l.container === name && l.stream === 'stdout').map(l => l.line)
  const waitFor = (name: string, re: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const seen = lines(name).find(l => re.test(l))
      if (seen !== undefined) return resolve(seen)
      const onLine = (l: OutputLine) => {
        if (l.container !== name || l.stream !== 'stdout' || !re.test(l.line)) return
        events.off('line', onLine)
        resolve(l.line)
      }
      events.on('line', onLine)
      pod.wait().then(() => reject(new Error(`pod ended before ${name} printed ${re}`)), reject)
    })
  return {
    pod,
    lines,
    stderr: name => out.filter(l => l.container === name && l.stream === 'stderr').map(l => l.line),
    waitFor,
  }
}

/** Run a pod to completion and return its result with the output. */
export async function run(t: Teardown, m: object, opts: PodOptions = {}): Promise<Collected & { result: PodResult }> {
  const c = await start(t, m, opts)
  return { ...c, result: await c.pod.wait() }
}

/** Exit code of each container's last termination, in spec order. */
export function exitCodes(result: PodResult): (number | undefined)[] {
  return result.containerStatuses.map(s => ('terminated' in s.state ? s.state.terminated.exitCode : undefined))
}

/** The last termination of a container by name. */
export function terminated(result: PodResult, name: string) {
  const s = [...result.initContainerStatuses, ...result.containerStatuses].find(c => c.name === name)
  return s && 'terminated' in s.state ? s.state.terminated : undefined
}
