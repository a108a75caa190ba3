// image pull REF [--platform os/arch[/variant]] [--quiet]; image login HOST
// [-u USER --password-stdin]; image logout HOST. Passwords come from stdin
// only (never argv, where ps shows them) and are never printed.
// Leaf modules, never the ../index.js barrel: the image command's chunk would load the whole library
// (the pod, spec, cgroup and network code: ~170 modules) before the pull's first byte (issue 16).
import { parseDurationMs } from '../pod/backoff.js'
import type { SizeLimits } from '../rootfs/images/limits.js'
import { normalizeImageName } from '../rootfs/images/names.js'
import { removeCredentials, saveCredentials } from '../rootfs/images/registry/credentials.js'
import { parsePlatform } from '../rootfs/images/registry/platform.js'
import { checkLogin, pullImage } from '../rootfs/images/registry/pull.js'
import type { Io } from './output.js'
import { processIo } from './output.js'
import { pullProgress } from './pull-progress.js'

export interface RegistryFlags {
  platform?: string
  quiet?: boolean
  username?: string
  passwordStdin?: boolean
  limits?: Partial<SizeLimits>
  /** --timeout: a duration (30s, 500ms). */
  timeout?: string
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
}

/** Ctrl-C / SIGTERM abort the pull (its tmp dir is removed), then exit 130. */
function abortOnSignals(): { signal: AbortSignal; release: () => void } {
  const ac = new AbortController()
  const onSig = () => ac.abort()
  process.on('SIGINT', onSig)
  process.on('SIGTERM', onSig)
  return { signal: ac.signal, release: () => (process.off('SIGINT', onSig), process.off('SIGTERM', onSig)) }
}

export async function registryCommand(
  root: string,
  action: 'pull' | 'login' | 'logout',
  args: string[],
  f: RegistryFlags,
  io: Io,
  usage: (m: string) => Error,
): Promise<number> {
  if (action === 'pull') {
    if (args.length !== 1) throw usage('image pull: one image reference expected (e.g. busybox:1.36 or HOST:PORT/repo:tag)')
    const platform = f.platform ? parsePlatform(f.platform) : undefined
    const timeoutMs = f.timeout === undefined ? undefined : parseDurationMs(f.timeout)
    if (timeoutMs === 0 || (f.timeout !== undefined && timeoutMs === undefined))
      throw usage(`image pull: --timeout ${f.timeout}: not a duration (e.g. 30s, 500ms, 2m)`)
    const tty = io === processIo && !!process.stderr.isTTY
    const onEvent = f.quiet ? undefined : pullProgress({ write: io.err, isTTY: tty })
    const { signal, release } = abortOnSignals()
    try {
      await pullImage(args[0], { root, platform, onEvent, signal, timeoutMs, limits: f.limits, onWarning: m => io.err(`warning: ${m}\n`) })
      io.out(`${normalizeImageName(args[0])}\n`)
    } finally {
      release()
    }
    return 0
  }
  if (args.length !== 1) throw usage(`image ${action}: one registry host expected (e.g. registry.example:5000 or docker.io)`)
  const host = args[0]
  if (action === 'logout') {
    const files = removeCredentials(host)
    io.out(files.length ? `removed the credentials for ${host} from ${files.join(', ')}\n` : `no credentials stored for ${host}\n`)
    return 0
  }
  if (!f.username) throw usage('image login: --username (-u) is required')
  if (!f.passwordStdin) throw usage('image login: give the password on stdin with --password-stdin (never on the command line)')
  const password = await readStdin()
  if (password === '') throw usage('image login: the password read from stdin is empty')
  const creds = { username: f.username, password }
  await checkLogin(host, creds)
  const file = saveCredentials(host, creds)
  io.out(`login succeeded for ${host} (credentials in ${file}, mode 0600)\n`)
  return 0
}
