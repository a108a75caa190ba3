// explain, ns, tree, check: show how a pod is (or would be) built.
import { checkHost, explainPod, loadManifest, NS_COLUMNS, podNamespaces, podTree } from '../index.js'
import type { Io } from './output.js'
import { table } from './table.js'

export function explainCommand(manifest: string, json: boolean, opts: Parameters<typeof explainPod>[1] & { strict?: boolean }, io: Io): number {
  const spec = loadManifest(manifest, m => io.err(`warning: ${m}\n`), { strict: opts?.strict ?? true })
  const plan = explainPod(spec, opts)
  if (json) {
    io.out(JSON.stringify(plan, null, 2) + '\n')
    return 0
  }
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
    if (p.env.length) lines.push(`   env:    ${p.env.join(' ')}`)
    for (const probe of p.probes ?? []) lines.push(`   probe:  ${probe}`)
    lines.push(`   capabilities: ${p.capabilities}`, `   seccomp: ${p.seccomp}`, '')
  })
  if (plan.hostNamespaces.length) lines.push(`shared with the host: ${plan.hostNamespaces.join(', ')}`)
  lines.push(`network: ${plan.network}`)
  io.out(lines.join('\n') + '\n')
  return 0
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
