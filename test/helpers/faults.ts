// Fault tests: a state root and a cgroup parent of the test's own, the CLI
// with an environment (the crash hook), and the leak check: no process, pod
// cgroup, mount, pod directory or log left of anything under them.
import { execFile, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { detectCgroups } from '../../src/cgroups/index.js'
import { BIN, type Out } from './cli.js'
import { spawnDaemon } from './daemon.js'

export interface T {
  teardown(fn: () => unknown): void
  testdir(): string
}

let counter = 0
const UUID = /^[0-9a-f-]{36}$/

/** A state root of the test's own; every pod left in it is removed at teardown. */
export function newRoot(t: T): string {
  const root = mkdtempSync(join(tmpdir(), 'pl-fault-'))
  t.teardown(async () => {
    for (const id of existsSync(root) ? readdirSync(root).filter(d => UUID.test(d)) : []) await cliEnv(root, {}, 'rm', '--force', id)
    rmSync(root, { recursive: true, force: true })
  })
  return root
}

/** Every pod cgroup directory under `parent`, in every hierarchy. */
export function podCgroups(parent: string): string[] {
  return detectCgroups().hierarchies.flatMap(h => {
    const base = join(h.path, parent)
    return existsSync(base)
      ? readdirSync(base)
          .filter(d => d.startsWith('pod-'))
          .map(d => join(base, d))
      : []
  })
}

/** Pids whose cgroup (any hierarchy) is below `/<parent>/`. */
export function processesUnder(parent: string): number[] {
  const out: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (
        readFileSync(`/proc/${name}/cgroup`, 'utf8')
          .split('\n')
          .some(l => l.slice(l.indexOf(':', l.indexOf(':') + 1) + 1).startsWith(`/${parent}/`))
      )
        out.push(Number(name))
    } catch {
      // gone meanwhile
    }
  }
  return out
}

function killAndRemove(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) killAndRemove(join(dir, e.name))
  for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL')
    } catch {}
  }
  for (let i = 0; i < 200; i++) {
    try {
      return rmdirSync(dir)
    } catch {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
    }
  }
}

/** A cgroup parent no one else uses; at teardown whatever a failed test left below it goes, then the parent. */
export function uniqueParent(t: T, prefix: string): string {
  const parent = `plt-${prefix}-${process.pid}-${++counter}`
  t.teardown(() => {
    for (const h of detectCgroups().hierarchies) {
      const base = join(h.path, parent)
      if (existsSync(base)) killAndRemove(base)
    }
  })
  return parent
}

export interface Leaks {
  processes: number[]
  cgroups: string[]
  mounts: string[]
  podDirs: string[]
  logs: string[]
}

/** What is left of the pods under `root` and `parent`: every list empty when nothing leaked. */
export function leaks(root: string, parent: string): Leaks {
  const entries = existsSync(root) ? readdirSync(root) : []
  return {
    processes: processesUnder(parent),
    cgroups: podCgroups(parent),
    mounts: readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map(l => l.split(' ')[4])
      .filter(p => p?.startsWith(`${root}/`)),
    podDirs: entries.filter(d => UUID.test(d)),
    logs: entries.filter(d => d.endsWith('.log')),
  }
}

/** The leak check, once processes being killed had their moment to go (bounded by count); names what is left. */
export async function settledLeaks(root: string, parent: string): Promise<Leaks> {
  let l = leaks(root, parent)
  for (let i = 0; i < 100 && JSON.stringify(l) !== JSON.stringify(NO_LEAKS); i++) {
    await new Promise(r => setTimeout(r, 50))
    l = leaks(root, parent)
  }
  const described = l.processes.map(pid => {
    try {
      return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')} ${readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].slice(0, 1)}`
    } catch {
      return `${pid}`
    }
  })
  return { ...l, processes: described as never }
}

export const NO_LEAKS: Leaks = { processes: [], cgroups: [], mounts: [], podDirs: [], logs: [] }

/** `pod-launch --root ROOT ARGS...` with extra environment; never rejects. */
/** A CLI call that has not returned by then is killed (signal SIGKILL in the result): a hang fails its own assertion, not the file. */
export const CLI_BOUND_MS = 150_000

export function cliEnv(root: string, env: Record<string, string>, ...args: string[]): Promise<Out & { signal: NodeJS.Signals | null }> {
  const options = { maxBuffer: 1 << 24, env: { ...process.env, ...env }, timeout: CLI_BOUND_MS, killSignal: 'SIGKILL' as const }
  return new Promise(resolve =>
    execFile(process.execPath, [BIN, '--root', root, ...args], options, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, signal: err?.signal ?? null, stdout, stderr }),
    ),
  )
}

/** A foreground `pod-launch run` as a child we can signal. */
export function runForeground(
  root: string,
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawnDaemon(
    process.execPath,
    [BIN, '--root', root, 'run', ...args],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
    'TERM',
  )
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(resolve =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  )
  return { child, exited }
}

export function writeManifest(t: T, m: object, name = 'pod.json'): string {
  const file = join(t.testdir(), name)
  writeFileSync(file, JSON.stringify(m))
  return file
}

/** Poll `cond` every 50 ms up to `tries` times (a bound on count, not an assertion on time). */
export async function waitUntil(cond: () => boolean | Promise<boolean>, tries = 400): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return true
    await new Promise(r => setTimeout(r, 50))
  }
  return false
}

/** The one pod directory's record under `root`, if it is there and readable. */
export function onlyRecord(root: string): { id: string; phase: string; supervisor: { pid: number } | null; pause?: { pid: number } } | undefined {
  const ids = existsSync(root) ? readdirSync(root).filter(d => UUID.test(d)) : []
  if (ids.length !== 1) return undefined
  try {
    return JSON.parse(readFileSync(join(root, ids[0], 'pod.json'), 'utf8'))
  } catch {
    return undefined
  }
}
