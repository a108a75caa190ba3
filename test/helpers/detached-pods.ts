// Detached pods (run -d) in a state root of the test's own: the root is
// removed at teardown with every pod left in it (rm --force), and `leftovers`
// lists what a removed pod still holds (state dir, live pause, cgroup dirs).
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cli } from './cli.js'
import { waitUntil } from './faults.js'

interface T {
  teardown(fn: () => unknown): void
  testdir(): string
}

/**
 * A fresh state root, removed at teardown; or `dir`, made (and removed, perhaps a mount point) by the caller.
 * Every pod in it is removed at teardown, before `dir`'s own teardown.
 */
export function newRoot(t: T, given?: string): string {
  const dir = given ?? mkdtempSync(join(tmpdir(), 'pl-state-'))
  t.teardown(async () => {
    for (const id of existsSync(dir) ? readdirSync(dir).filter(d => /^[0-9a-f-]{36}$/.test(d)) : []) await cli(dir, 'rm', '--force', id)
    if (!given) rmSync(dir, { recursive: true, force: true })
  })
  return dir
}

export function writeManifest(t: T, m: object): string {
  const file = join(t.testdir(), 'pod.json')
  writeFileSync(file, JSON.stringify(m))
  return file
}

/** `run -d` of manifest `m`; the pod's id, or throws with run's stderr. */
export async function runDetached(t: T, root: string, m: object): Promise<string> {
  const run = await cli(root, 'run', '-d', writeManifest(t, m))
  if (run.code !== 0) throw new Error(`run -d: ${run.stderr}`)
  return run.stdout.trim()
}

export interface PodRecordLite {
  id: string
  phase: string
  pause?: { pid: number; startTicks: string }
  supervisor: { pid: number }
  cgroups?: { paths: { pod: string[] } }
}

export const readPodRecord = (root: string, id: string): PodRecordLite => JSON.parse(readFileSync(join(root, id, 'pod.json'), 'utf8'))

const startTicks = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return f[0] === 'Z' ? undefined : f[19]
  } catch {
    return undefined
  }
}

/** What the pod of `r` (read before it was removed) still holds on the host: [] when nothing. */
export function leftovers(root: string, r: PodRecordLite): string[] {
  const left: string[] = []
  if (existsSync(join(root, r.id))) left.push(`state dir ${join(root, r.id)}`)
  if (r.pause && startTicks(r.pause.pid) === r.pause.startTicks) left.push(`pause ${r.pause.pid}`)
  for (const d of r.cgroups?.paths.pod ?? []) if (existsSync(d)) left.push(`cgroup ${d}`)
  return left
}

/** Poll `fn` until it is true (or throw after `timeoutMs`, naming `what`). */
export async function until(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(r => setTimeout(r, 50))
  }
}

/**
 * What a reboot does to the pods under `root`, without one: every process of
 * theirs (supervisor, pause, containers, anything in their cgroups) SIGKILLed,
 * their cgroups gone, every mount below the root (tmpfs) gone, and the state
 * root emptied, as /run is at boot. Nothing of pod-launch is used for it.
 */
export async function simulateReboot(root: string): Promise<void> {
  const ids = existsSync(root) ? readdirSync(root).filter(d => /^[0-9a-f-]{36}$/.test(d)) : []
  const records = ids.flatMap(id => {
    try {
      return [JSON.parse(readFileSync(join(root, id, 'pod.json'), 'utf8')) as PodRecordLite & { cgroups?: { paths?: { pod: string[] } } }]
    } catch {
      return []
    }
  })
  const cgroupDirs = (dir: string): string[] =>
    existsSync(dir)
      ? [
          dir,
          ...readdirSync(dir, { withFileTypes: true })
            .filter(d => d.isDirectory())
            .flatMap(d => cgroupDirs(join(dir, d.name))),
        ]
      : []
  const procsIn = (dirs: string[]) =>
    dirs.flatMap(d => {
      try {
        return readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number)
      } catch {
        return []
      }
    })
  const kill = (pid: number) => {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone already
    }
  }
  // The root's engine too: after a boot none runs.
  const engine = enginePid(root)
  if (engine) kill(engine)
  for (const r of records) if (r.supervisor) kill(r.supervisor.pid)
  const dirs = records.flatMap(r => (r.cgroups?.paths?.pod ?? []).flatMap(cgroupDirs))
  await until('every process of the pods gone', () => {
    const pids = procsIn(dirs)
    pids.forEach(kill)
    return pids.length === 0
  })
  // Deepest first; a cgroup whose last process is still being reaped is EBUSY for a moment.
  for (const d of [...dirs].sort((a, b) => b.length - a.length))
    await until(`rmdir ${d}`, () => {
      try {
        if (existsSync(d)) rmdirSync(d)
        return true
      } catch {
        return false
      }
    })
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map(l => l.split(' ')[4])
    .filter(p => p && p.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length)
  for (const m of mounts) execFileSync('umount', ['-l', m])
  for (const entry of existsSync(root) ? readdirSync(root) : []) rmSync(join(root, entry), { recursive: true, force: true })
}

/** The pid of the root's engine (`pod-launch --root ROOT __engine`), if one runs. */
export function enginePid(root: string): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0')
      if (argv.includes('__engine') && argv[argv.indexOf('--root') + 1] === root && startTicks(Number(name)) !== undefined) return Number(name)
    } catch {
      // gone meanwhile
    }
  }
  return undefined
}

/**
 * Wait until the root's engine has exited (it goes about a second after the last pod or request):
 * false when one still runs after 20 s. Before unmounting a root, or when "nothing is left" must
 * include the engine.
 */
export function engineExited(root: string): Promise<boolean> {
  return waitUntil(() => enginePid(root) === undefined) // 400 x 50 ms
}

/** SIGKILL `pid` and wait until it is gone (or a zombie). */
export async function killAndWait(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL')
  while (startTicks(pid) !== undefined) await new Promise(r => setTimeout(r, 20))
}
