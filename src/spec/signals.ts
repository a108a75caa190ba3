// Stop signals: the names Kubernetes' lifecycle.stopSignal takes on Linux (the
// API server's supportedStopSignalsLinux, 1.33+), the image config's
// StopSignal as containerd parses it (moby/sys/signal ParseSignal: a number,
// or a name with or without SIG, any case), and the number kill(2) takes.
// Real-time signals are numbered as glibc does (SIGRTMIN is 34: glibc keeps
// 32 and 33), which is what a container's libc and Go's syscall table use.
import { constants } from 'node:os'

/** The stop signal when neither the manifest nor the image names one (containerd, CRI-O). */
export const DEFAULT_STOP_SIGNAL = 'SIGTERM'

const SIGRTMIN = 34
const SIGRTMAX = 64

/** Names that are other names of a standard signal (not in Node's table). */
const ALIASES: Record<string, string> = { SIGCLD: 'SIGCHLD', SIGPOLL: 'SIGIO', SIGIOT: 'SIGABRT' }

const STANDARD = [
  'SIGABRT',
  'SIGALRM',
  'SIGBUS',
  'SIGCHLD',
  'SIGCLD',
  'SIGCONT',
  'SIGFPE',
  'SIGHUP',
  'SIGILL',
  'SIGINT',
  'SIGIO',
  'SIGIOT',
  'SIGKILL',
  'SIGPIPE',
  'SIGPOLL',
  'SIGPROF',
  'SIGPWR',
  'SIGQUIT',
  'SIGSEGV',
  'SIGSTKFLT',
  'SIGSTOP',
  'SIGSYS',
  'SIGTERM',
  'SIGTRAP',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGURG',
  'SIGUSR1',
  'SIGUSR2',
  'SIGVTALRM',
  'SIGWINCH',
  'SIGXCPU',
  'SIGXFSZ',
]

/** Every value lifecycle.stopSignal may take on a Linux pod, in the API server's order. */
export const LINUX_STOP_SIGNALS: readonly string[] = [
  ...STANDARD,
  'SIGRTMIN',
  ...Array.from({ length: 15 }, (_, i) => `SIGRTMIN+${i + 1}`),
  ...Array.from({ length: 14 }, (_, i) => `SIGRTMAX-${14 - i}`),
  'SIGRTMAX',
]

/** The signal number of a canonical name (one of LINUX_STOP_SIGNALS); undefined for any other text. */
export function signalNumber(name: string): number | undefined {
  if (!LINUX_STOP_SIGNALS.includes(name)) return undefined
  const rt = /^SIGRT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name)
  if (rt) return (rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX) + (rt[2] === '-' ? -1 : 1) * Number(rt[3] ?? 0)
  return (constants.signals as Record<string, number>)[ALIASES[name] ?? name]
}

/** The canonical name of a signal number (SIGRTMIN+n / SIGRTMAX-n above 33), undefined outside 1..64. */
function signalName(n: number): string | undefined {
  if (n >= SIGRTMIN && n <= SIGRTMAX)
    return n - SIGRTMIN <= 15 ? (n === SIGRTMIN ? 'SIGRTMIN' : `SIGRTMIN+${n - SIGRTMIN}`) : n === SIGRTMAX ? 'SIGRTMAX' : `SIGRTMAX-${SIGRTMAX - n}`
  return STANDARD.find(s => !(s in ALIASES) && signalNumber(s) === n)
}

/**
 * An image config's StopSignal as containerd reads it: `SIGQUIT`, `quit`,
 * `3`, `RTMIN+3`; the canonical name, or undefined when it names no signal.
 */
export function parseStopSignal(text: string): string | undefined {
  const t = text.trim()
  if (/^\d+$/.test(t)) return signalName(Number(t))
  const name = `SIG${t.toUpperCase().replace(/^SIG/, '')}`
  return signalNumber(name) === undefined ? undefined : name
}
