// Decode the child's failure record (native/report.h) into a PodError.
import { PodError } from '../errors.js'
import type { NativePlan } from './native.js'

export const RECORD_BYTES = 12

export interface StepReport {
  step: number
  errno: number
  arg: number
}

export function parseReport(buf: Buffer): StepReport | 'truncated' | undefined {
  if (buf.length === 0) return undefined
  if (buf.length < RECORD_BYTES) return 'truncated'
  return { step: buf.readInt32LE(0), errno: buf.readInt32LE(4), arg: buf.readInt32LE(8) }
}

/** What child.tty was doing, by the record's arg (native/spawn.c). */
const TTY_SUBSTEPS = [
  '/dev/ptmx',
  'unlockpt on /dev/ptmx',
  'the pty slave',
  'the pty window size (TIOCSWINSZ)',
  'the pty master to the parent (SCM_RIGHTS)',
  'the pty slave as controlling terminal (TIOCSCTTY)',
  'the pty slave on /dev/console',
  'the pty slave to the container user (fchown)',
]

/** The object a failed step worked on, from the plan the parent built. */
export function reportObject(stepName: string, arg: number, plan: NativePlan, paths: PlanPaths = {}): string {
  switch (stepName) {
    case 'child.exec':
      return plan.file ?? plan.argv[0]
    case 'child.setns':
      return paths.join?.[arg] ?? `${plan.join?.[arg]?.type ?? '?'} namespace`
    case 'child.unshare':
      return (plan.unshare ?? []).join(',')
    case 'child.hostname':
      return plan.hostname ?? '?'
    case 'child.loopback':
      return 'lo'
    case 'child.mount': {
      const m = plan.mounts?.[arg]
      if (!m) return '?'
      if (m.kind === 'write') return `write ${JSON.stringify(m.source)} to ${m.target}`
      return m.kind && m.kind !== 'mount' ? `${m.kind} ${m.target}` : `${m.source ?? m.fstype ?? 'remount'} on ${m.target}`
    }
    case 'child.cgroup':
      return paths.cgroupTasks?.[arg] ?? `cgroup tasks file #${arg}`
    case 'child.root':
      return paths.root ?? 'root directory'
    case 'child.chdir':
      return plan.cwd ?? '?'
    case 'child.tty':
      return TTY_SUBSTEPS[arg] ?? 'pseudo-terminal'
    case 'child.stdio':
      return `fd ${arg}`
    case 'child.seccomp':
      return `seccomp filter (${(plan.seccomp?.length ?? 0) / 8} BPF instructions${plan.noNewPrivs ? ', with no_new_privs' : ''})`
    case 'child.signals':
      return arg > 0 ? `signal ${arg}` : 'signal mask'
    default:
      return arg >= 0 ? `#${arg}` : '-'
  }
}

/** Paths behind the fds of a plan (for messages): join[i] -> /proc/<pid>/ns/<type>. */
export interface PlanPaths {
  join?: string[]
  /** The `tasks` file behind each fd of cgroupTasks. */
  cgroupTasks?: string[]
  /** The directory behind rootFd. */
  root?: string
}

export function reportError(report: StepReport, steps: Record<string, number>, plan: NativePlan, paths?: PlanPaths): PodError {
  const stepName = Object.keys(steps).find(k => steps[k] === report.step) ?? `child.step-${report.step}`
  const object = reportObject(stepName, report.arg, plan, paths)
  return PodError.fromErrno(stepName, report.errno, object, report.arg >= 0 ? { planIndex: report.arg } : {})
}
