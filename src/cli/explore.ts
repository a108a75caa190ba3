// explain, ns, tree, check: show how a pod is (or would be) built.
import {
  checkHost,
  checkPodConfig,
  explainPod,
  loadManifestFile,
  NS_COLUMNS,
  objectRefs,
  originLabel,
  podNamespaces,
  podTree,
  podWarnings,
  type DocumentOrigin,
  type ManifestPods,
  type PodPlan,
} from '../index.js'
import type { Io } from './output.js'
import { table } from './table.js'

export interface ExplainOptions extends NonNullable<Parameters<typeof explainPod>[1]> {
  strict?: boolean
  configMaps?: string[]
  secrets?: string[]
}

/** explain FILE: what each document would become, then what `run` would do for each pod. */
export function explainCommand(manifest: string, json: boolean, opts: ExplainOptions, io: Io): number {
  const m = loadManifestFile(manifest, { strict: opts.strict ?? true, configMaps: opts.configMaps, secrets: opts.secrets, check: false })
  for (const w of [...m.warnings, ...m.pods.flatMap(p => podWarnings(m, p))]) io.err(`warning: ${w}\n`)
  const pods = m.pods.map(p => {
    let failure: string | undefined
    try {
      checkPodConfig(p.parsed.spec, m.objects)
    } catch (e) {
      failure = (e as Error).message
    }
    return { doc: p, plan: explainPod(p.parsed.spec, { ...opts, objects: m.objects }), failure }
  })
  const documents = documentLines(m)
  // One document, one pod: the plan alone, as it always was.
  const single = documents.length === 1 && pods.length === 1
  if (json) {
    const withFailure = (p: (typeof pods)[number]) => ({ ...p.plan, ...(p.failure ? { runWouldFail: p.failure } : {}) })
    io.out(JSON.stringify(single ? withFailure(pods[0]) : { documents, pods: pods.map(withFailure) }, null, 2) + '\n')
    return 0
  }
  const out: string[] = []
  if (!single)
    out.push(`${m.source}: ${documents.length} document${documents.length === 1 ? '' : 's'}; nothing is created.`, ...documents.map(d => `  ${d}`), '')
  pods.forEach((p, i) => out.push(...(i > 0 ? [''] : []), ...(p.failure ? [`pod ${p.plan.pod}: run would fail: ${p.failure}`, ''] : []), ...planLines(p.plan)))
  io.out(out.join('\n') + (out.length ? '\n' : ''))
  return 0
}

/** One line per document, in file order: what it becomes. */
function documentLines(m: ManifestPods): string[] {
  const readers = (kind: string, o: { namespace: string; name: string }) =>
    m.pods
      .filter(p => p.parsed.spec.namespace === o.namespace && objectRefs(p.parsed.spec).some(r => r.kind === kind && r.name === o.name))
      .map(p => p.parsed.spec.name)
  const objects = [...m.objects.configMaps, ...m.objects.secrets]
  const lines: { origin: DocumentOrigin; text: string }[] = [
    ...m.pods.map(p => ({
      origin: p.origin,
      text: `${p.origin.kind} ${p.origin.name} -> pod ${p.parsed.spec.name}${p.origin.kind === 'Pod' ? '' : ' (its template, run once)'}`,
    })),
    ...m.notRun.map(n => ({ origin: n.origin, text: `${n.origin.kind} ${n.origin.name}: not run: ${n.reason}` })),
    ...m.objectOrigins.map(origin => {
      const o = objects.find(x => x.kind === origin.kind && x.name === origin.name && x.namespace === origin.namespace)!
      const keys = Object.keys(o.data)
        .concat(o.kind === 'ConfigMap' ? Object.keys(o.binaryData) : [])
        .sort()
      const by = readers(o.kind, o)
      const secret = o.kind === 'Secret' ? ` (${o.type}; values not shown)` : ''
      return {
        origin,
        text:
          `${o.kind} ${o.name}: ${keys.length} key${keys.length === 1 ? '' : 's'} (${keys.join(', ')})${secret}` +
          `${by.length ? `, read by pod ${by.join(', ')}` : ', read by no pod'}`,
      }
    }),
  ]
  const order = (o: DocumentOrigin) => o.document * 1e6 + (o.item ?? 0)
  return lines.sort((a, b) => order(a.origin) - order(b.origin)).map(l => `document ${originLabel(l.origin)}: ${l.text}`)
}

function planLines(plan: PodPlan): string[] {
  const lines: string[] = [`pod ${plan.pod}: nothing is created; this is what \`run\` would do, in order.`, '']
  lines.push(`1. cgroups (${plan.cgroupMode}):`, ...plan.cgroupWrites.map(w => `   ${w}`), '')
  plan.processes.forEach((p, i) => {
    lines.push(`${i + 2}. ${p.who}:`)
    lines.push(`   clone3(${p.clone.join(' | ')}) into cgroup ${p.cgroup}`)
    if (p.pidNamespaceOf)
      lines.push(`   parent: setns(/proc/<pause>/ns/pid, CLONE_NEWPID) around the clone (pid_for_children), so it lands in pause's pid namespace`)
    for (const s of p.setns) lines.push(`   child:  ${s}`)
    if (p.unshare.length) lines.push(`   child:  unshare(${p.unshare.join(' | ')})`)
    if (p.hostname) lines.push(`   child:  sethostname("${p.hostname}"), loopback up`)
    for (const m of p.mounts) lines.push(`   child:  ${m}`)
    lines.push(`   child:  chdir ${p.workingDir}; signals reset; only fds 0-2; execve ${JSON.stringify(p.argv)}`)
    if (p.stdio) lines.push(`   stdio:  ${p.stdio}`)
    if (p.stop) lines.push(`   stop:   ${p.stop}`)
    if (p.env.length) lines.push(`   env:    ${p.env.join(' ')}`)
    if (p.plan?.sealed)
      lines.push(
        `   sealed: values from Secrets are not in the plan: the real ${p.plan.sealed.argv ? 'env and argv are' : 'env is'} ` +
          `read at spawn from ${p.plan.sealed.file} (a tmpfs)`,
      )
    for (const probe of p.probes ?? []) lines.push(`   probe:  ${probe}`)
    lines.push(`   capabilities: ${p.capabilities}`, `   seccomp: ${p.seccomp}`, '')
  })
  for (const v of plan.volumes) lines.push(`volume ${v}`)
  if (plan.hostNamespaces.length) lines.push(`shared with the host: ${plan.hostNamespaces.join(', ')}`)
  lines.push(`network: ${plan.network}`)
  return lines
}

export function nsCommand(root: string, ref: string, json: boolean, io: Io): number {
  const rows = podNamespaces(root, ref)
  if (json) {
    io.out(JSON.stringify(rows, null, 2) + '\n')
    return 0
  }
  const mark = { pause: '=', host: 'H', own: '*', 'pause+host': 'H' } as const
  io.out(
    table(
      ['PID', 'ROLE', ...NS_COLUMNS.map(c => c.toUpperCase()), 'COMMAND'],
      rows.map(r => [String(r.pid), r.role, ...NS_COLUMNS.map(c => `${r.ns[c].inode}${mark[r.ns[c].shared]}`), r.command]),
    ),
  )
  io.out("= shared with pause   H the host's   * its own\n")
  return 0
}

export function treeCommand(root: string, ref: string, io: Io): number {
  const nodes = podTree(root, ref)
  const [pod, ...children] = nodes
  const limits = (l: Record<string, string>) =>
    Object.entries(l)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')
  io.out(`${pod.path}  ${limits(pod.limits)}\n`)
  children.forEach((n, i) => {
    const last = i === children.length - 1
    io.out(`${last ? '└─' : '├─'} ${n.who}  ${limits(n.limits)}\n`)
    for (const p of n.processes) io.out(`${last ? '   ' : '│  '} ${p.pid} ${p.command}\n`)
  })
  return 0
}

export async function checkCommand(json: boolean, io: Io, opts: Parameters<typeof checkHost>[0] = {}): Promise<number> {
  const lines = await checkHost(opts)
  if (json) io.out(JSON.stringify(lines, null, 2) + '\n')
  else for (const l of lines) io.out(`${l.status.padEnd(4)}  ${l.feature}: ${l.detail}${l.hint ? `\n      hint: ${l.hint}` : ''}\n`)
  return lines.some(l => l.status === 'fail') ? 1 : 0
}
