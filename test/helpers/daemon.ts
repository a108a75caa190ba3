// Long-lived processes a test starts (a registry, a token issuer, a proxy,
// `pod-launch cri`, kubelet, a foreground run, port-forward) die with the test
// file: tap SIGKILLs a file that passed its timeout, and what it had started
// would otherwise live on under pid 1 (a registry holding a port and a lock,
// a cri server holding its pods). util-linux `setpriv --pdeathsig SIG` sets
// PR_SET_PDEATHSIG and execs the command (same pid; the setting survives
// execve). It fires when the thread that forked the child exits: Node forks
// from its main thread, whose end is the process's. scripts/critest-registry.sh
// does the same for the shell lanes.
import {
  spawn,
  type ChildProcess,
  type ChildProcessByStdio,
  type SpawnOptions,
  type SpawnOptionsWithStdioTuple,
  type StdioNull,
  type StdioPipe,
} from 'node:child_process'
import type { Readable } from 'node:stream'

type Signal = 'KILL' | 'TERM'

/**
 * spawn(file, args, options), with `signal` (SIGKILL unless told) sent to the
 * child when this process dies. SIGTERM for a foreground `pod-launch run`: it
 * then stops its pod and removes what it made, as on Ctrl-C.
 */
export function spawnDaemon(
  file: string,
  args: readonly string[],
  options: SpawnOptionsWithStdioTuple<StdioNull, StdioPipe, StdioPipe>,
  signal?: Signal,
): ChildProcessByStdio<null, Readable, Readable>
export function spawnDaemon(
  file: string,
  args: readonly string[],
  options: SpawnOptionsWithStdioTuple<StdioNull, StdioNull, StdioPipe>,
  signal?: Signal,
): ChildProcessByStdio<null, null, Readable>
export function spawnDaemon(file: string, args: readonly string[], options?: SpawnOptions, signal?: Signal): ChildProcess
export function spawnDaemon(file: string, args: readonly string[], options: SpawnOptions = {}, signal: Signal = 'KILL'): ChildProcess {
  return spawn('setpriv', ['--pdeathsig', signal, '--', file, ...args], options)
}
