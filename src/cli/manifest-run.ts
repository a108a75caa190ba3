// `run FILE` with every document of the file, `run -d [--persist] FILE`,
// `down FILE` and `boot`: several pods from one file, started in file order,
// each its own pod; a pod that cannot start removes the ones this run
// started (nothing half-made), and `down` removes exactly what `run` made.
// Leaf modules only (`run -d` never loads the pod runner: startForeground is imported when a foreground pod starts).
import { PodError } from '../errors.js'
import { crashPoint } from '../crash-point.js'
import { KUBELET_BACKOFF } from '../pod/backoff.js'
import { printLine } from '../pod/pod-options.js'
import { DEFAULT_PERSIST_ROOT, DEFAULT_STATE_ROOT } from '../state/layout.js'
import { listPods } from '../state/resolve.js'
import { notRunLine, originLabel } from '../spec/documents.js'
import { referencedObjects } from '../spec/config-refs.js'
import { DOCUMENT_ANNOTATION, MANIFEST_ANNOTATION, loadManifestFile, manifestKey, podWarnings, type ManifestPods } from '../manage/manifest-file.js'
import type { DetachedStart } from '../manage/detach.js'
import type { Pod, PodResult } from '../index.js'
import type { Io } from './output.js'
import { pullProgress } from './pull-progress.js'
import { processIo } from './output.js'
import { foregroundTarget } from './attach.js'
import { describe, podOptions, runOne, summary, waitingNote, type RunArgs } from './run.js'

/** The file and its --configmap / --secret files, every warning printed once. */
export function loadForRun(args: RunArgs, io: Io): ManifestPods {
  const m = loadManifestFile(args.manifest, { strict: args.strict ?? true, configMaps: args.configMaps, secrets: args.secrets })
  for (const w of [...m.notRun.map(notRunLine), ...m.warnings, ...m.pods.flatMap(p => podWarnings(m, p))]) io.err(`warning: ${w}\n`)
  return m
}

/** `run FILE` in the foreground: one pod as before; several side by side. */
export async function runCommand(args: RunArgs, io: Io): Promise<number> {
  podOptions(args) // a bad --backoff before the file is read
  if (args.persist) throw new PodError('cli.args: --persist: only with -d (a foreground run ends with this command)', { step: 'cli.args', exitCode: 2 })
  const m = loadForRun(args, io)
  if (m.pods.length === 1) return runOne(m.pods[0].parsed.spec, m.objects, args, io)
  return runManyForeground(m, args, io)
}

/**
 * Several pods in the foreground, as `podman kube play --wait`: started in
 * file order, their lines prefixed `[pod/container]`, no terminal attached;
 * Ctrl-C stops them all (gracefully, again to kill); the exit code is the
 * first pod to fail's (its first failing container's), else 0.
 */
async function runManyForeground(m: ManifestPods, args: RunArgs, io: Io): Promise<number> {
  const options = podOptions(args)
  const root = args.root ?? DEFAULT_STATE_ROOT
  const names = m.pods.map(p => p.parsed.spec.name)
  const wanting = m.pods.flatMap(p => {
    const t = foregroundTarget(p.parsed.spec)
    return t ? [t.container.name, ...t.others].map(c => `${p.parsed.spec.name}/${c}`) : []
  })
  io.err(`pod-launch: ${names.length} pods from ${m.source}: ${names.join(', ')} (lines as [pod/container]; Ctrl-C stops them all)\n`)
  if (wanting.length > 0)
    io.err(`pod-launch: no terminal is attached with several pods; not attached: ${wanting.join(', ')} (run -d, then pod-launch attach)\n`)
  const pods: Pod[] = []
  const retried = new Set<string>()
  // Ctrl-C while the pods start ends a wait for images and removes the ones started.
  const starting = new AbortController()
  const onStartSignal = (sig: NodeJS.Signals) => {
    io.err(`pod-launch: ${sig}: stopping ${m.pods.length} pods while they start\n`)
    starting.abort()
  }
  process.on('SIGINT', onStartSignal)
  process.on('SIGTERM', onStartSignal)
  try {
    const { startForeground } = await import('../manage/foreground.js')
    for (const p of m.pods) {
      const spec = p.parsed.spec
      if (starting.signal.aborted) throw new PodError(`run: ${spec.name}: not started (interrupted)`, { step: 'run', code: 'EINTR' })
      pods.push(
        await startForeground(spec, root, {
          ...options,
          imagePullBackoff: options.backoff ?? KUBELET_BACKOFF,
          signal: starting.signal,
          objects: m.objects,
          onPull: pullProgress({ write: io.err, isTTY: io === processIo && !!process.stderr.isTTY }),
          onOutput: l => printLine({ ...l, container: `${spec.name}/${l.container}` }),
          onEvent: e => {
            const line = describe(e, retried)
            if (line) io.err(`pod-launch: pod ${spec.name}: ${line}\n`)
          },
        }),
      )
    }
    // Interrupted while the last one started (it returns as soon as it exists): it goes with the others.
    if (starting.signal.aborted) throw new PodError(`run: ${m.pods.at(-1)!.parsed.spec.name}: interrupted while it started`, { step: 'run', code: 'EINTR' })
  } catch (e) {
    process.off('SIGINT', onStartSignal)
    process.off('SIGTERM', onStartSignal)
    // Nothing half-made: the pods this run started go too, at once.
    if (pods.length > 0) io.err(`pod-launch: removing the ${pods.length} pod(s) already started: ${pods.map(p => p.name).join(', ')}\n`)
    await Promise.all(pods.map(p => p.stop({ force: true }).catch(() => undefined)))
    throw e
  }
  process.off('SIGINT', onStartSignal)
  process.off('SIGTERM', onStartSignal)
  let interrupts = 0
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++
    crashPoint('stop-requested')
    const force = args.force || interrupts > 1
    io.err(`pod-launch: ${sig}: stopping ${pods.length} pods${force ? ' now' : interrupts === 1 ? ' (again to kill now)' : ''}\n`)
    for (const pod of pods) {
      const grace = force ? 0 : (args.gracePeriod ?? pod.spec.terminationGracePeriodSeconds)
      void pod.stop({ gracePeriodSeconds: grace, force })
    }
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const ended: PodResult[] = []
  try {
    await Promise.all(pods.map(p => p.wait().then(r => void ended.push(r))))
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  const results = names.map(n => ended.find(r => r.name === n)!)
  io.err(results.map(r => summary(r, pods.find(p => p.spec.name === r.name)?.spec)).join('\n'))
  return ended.find(r => r.phase === 'Failed')?.exitCode ?? ended.find(r => r.exitCode !== 0)?.exitCode ?? 0
}

/** `run -d FILE`: every pod started detached, in file order; one id per line once all are Running. */
export async function runDetachedCommand(args: RunArgs, io: Io): Promise<number> {
  const options = podOptions(args)
  const m = loadForRun(args, io)
  if (args.persist && !m.file)
    throw new PodError(`cli.args: --persist: ${m.source} is not a regular file (boot reads its Secrets there again)`, { step: 'cli.args', exitCode: 2 })
  const root = args.root ?? DEFAULT_STATE_ROOT
  // Loaded here, not at start: a foreground run needs none of them.
  const [{ runDetached }, { persistPod, unpersistPod }, { removePod }] = await Promise.all([
    import('../manage/detach.js'),
    import('../manage/persist.js'),
    import('../manage/ops.js'),
  ])
  const started: DetachedStart[] = []
  const warn = (w: string) => io.err(`warning: ${w}\n`)
  const entries: string[] = []
  try {
    for (const p of m.pods) started.push(await runDetached(p.parsed.spec, root, options, warn, m.objects))
    if (args.persist) {
      for (const p of m.pods) {
        const spec = p.parsed.spec
        const mine = referencedObjects(spec, m.objects)
        entries.push(
          persistPod(args.persistRoot ?? DEFAULT_PERSIST_ROOT, {
            version: 1,
            name: spec.name,
            namespace: spec.namespace,
            root,
            uid: spec.uid,
            manifest: m.file,
            document: originLabel(p.origin),
            pod: p.object,
            configMaps: mine.configMaps,
            secrets: mine.secrets.map(s => ({ namespace: s.namespace, name: s.name, from: m.secretFiles.get(`${s.namespace}/${s.name}`)! })),
            options,
          }),
        )
      }
    }
  } catch (e) {
    if (started.length > 0) io.err(`pod-launch: removing the ${started.length} pod(s) already started: ${started.map(s => s.name).join(', ')}\n`)
    for (const s of started) {
      await removePod(root, s.id, { force: true, onWarning: warn }).catch(() => undefined)
      unpersistPod(args.persistRoot ?? DEFAULT_PERSIST_ROOT, s.id)
    }
    throw e
  }
  for (const s of started) {
    io.err(waitingNote(s))
    io.out(`${s.id}\n`)
  }
  if (entries.length > 0) io.err(`pod-launch: kept for boot (pod-launch boot starts them again): ${started.map(s => s.name).join(', ')}\n`)
  return 0
}

/** The pods under `root` that `run FILE` made (by their annotations), in document order. */
export function podsOfFile(root: string, file: string): { id: string; name: string }[] {
  const key = manifestKey(file)
  const doc = (a: Record<string, string>) => (a[DOCUMENT_ANNOTATION] ?? '').split('.').map(Number)
  return listPods(root)
    .filter(p => p.record?.spec.annotations?.[MANIFEST_ANNOTATION] === key)
    .sort((a, b) => {
      const [x, y] = [doc(a.record!.spec.annotations), doc(b.record!.spec.annotations)]
      return x[0] - y[0] || (x[1] ?? 0) - (y[1] ?? 0)
    })
    .map(p => ({ id: p.id, name: p.record!.name }))
}

/**
 * `down FILE`: stop (gracefully, as kubectl delete: preStop, SIGTERM, the
 * pod's grace period) and remove what `run FILE` made, all pods at once, and
 * forget its pods kept for boot.
 */
export async function downCommand(
  root: string,
  persistRoot: string,
  file: string,
  stop: { gracePeriodSeconds?: number; force?: boolean },
  io: Io,
): Promise<number> {
  const pods = podsOfFile(root, file)
  const [{ removePod, stopPod }, { unpersistManifest, unpersistPod }] = await Promise.all([import('../manage/ops.js'), import('../manage/persist.js')])
  const onWarning = (w: string) => io.err(`warning: ${w}\n`)
  await Promise.all(pods.map(p => stopPod(root, p.id, { ...stop, onWarning })))
  for (const p of pods) {
    await removePod(root, p.id, { force: true, onWarning })
    unpersistPod(persistRoot, p.id)
    io.out(`${p.name}\n`)
  }
  const forgotten = unpersistManifest(persistRoot, manifestKey(file))
  if (forgotten.length > 0) io.err(`pod-launch: no longer kept for boot: ${forgotten.join(', ')}\n`)
  if (pods.length === 0 && forgotten.length === 0) io.err(`pod-launch: down: no pod of ${manifestKey(file)} under ${root}\n`)
  return 0
}

/** `boot`: start every pod kept with run -d --persist (pod-launch-boot.service runs it at boot). */
export async function bootCommand(persistRoot: string, io: Io): Promise<number> {
  const { bootPods } = await import('../manage/persist.js')
  const results = await bootPods(persistRoot, w => io.err(`warning: ${w}\n`))
  for (const r of results) {
    if (r.outcome === 'failed') io.err(`pod-launch: boot: ${r.name}: ${r.error!.message}${r.error!.hint ? `\nhint: ${r.error!.hint}` : ''}\n`)
    else io.out(`${r.name} ${r.outcome === 'started' ? 'started' : 'running already'} ${r.id}\n`)
  }
  if (results.length === 0) io.err(`pod-launch: boot: no pod kept under ${persistRoot}\n`)
  return results.some(r => r.outcome === 'failed') ? 1 : 0
}
