// `cp POD:PATH LOCAL` and `cp LOCAL POD:PATH`, as kubectl cp: a tar stream
// through an exec of the container's own `tar` (so every path is resolved
// inside the container, as its user, never through the host's view of its
// root), packed and unpacked here by node-tar, which refuses absolute paths,
// `..` and writes through symbolic links.
import { existsSync, statSync } from 'node:fs'
import { basename, dirname, resolve as resolvePath } from 'node:path'
import { posix } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { create as tarCreate, extract as tarExtract } from 'tar'
import { PodError } from '../errors.js'
import { execPipes, type PipedExec } from './exec.js'

/** A cp argument: `POD:PATH` (a pod's file), or a local path (`./a:b` for a local name with a colon). */
export function parseCpArg(s: string): { pod?: string; path: string } {
  const i = s.indexOf(':')
  if (i > 0 && !s.startsWith('/') && !s.startsWith('.')) return { pod: s.slice(0, i), path: s.slice(i + 1) }
  return { path: s }
}

const cpError = (message: string, hint?: string) => new PodError(`cp: ${message}`, { step: 'cp', code: 'EINVAL', exitCode: 1, ...(hint && { hint }) })

/** Collect a stream's text (bounded). */
async function text(s: NodeJS.ReadableStream, max = 4096): Promise<string> {
  let out = ''
  for await (const chunk of s) if (out.length < max) out += String(chunk)
  return out.slice(0, max).trim()
}

/** Run `argv` in the container; its stdin from `feed`, its stdout to `drain`; throws naming the command's stderr. */
async function runTar(
  p: PipedExec,
  what: string,
  feed?: (stdin: NodeJS.WritableStream) => Promise<void>,
  drain?: (stdout: NodeJS.ReadableStream) => Promise<void>,
) {
  const err = text(p.stderr)
  const [fed, drained, status] = await Promise.allSettled([
    feed ? feed(p.stdin) : Promise.resolve(p.stdin.end()),
    drain ? drain(p.stdout) : text(p.stdout),
    p.exited,
  ])
  const stderr = await err
  const exit = status.status === 'fulfilled' ? status.value : undefined
  if (exit && exit.exitCode !== 0) {
    const missing = exit.exitCode === 127 && !stderr
    throw cpError(
      `${what}: tar in the container exited ${exit.exitCode}${stderr ? `: ${stderr.split('\n').slice(-2).join('; ')}` : ''}`,
      missing ? 'cp runs tar inside the container (as kubectl cp does): the image needs a tar binary' : undefined,
    )
  }
  for (const r of [fed, drained, status]) if (r.status === 'rejected') throw cpError(`${what}: ${(r.reason as Error).message}`)
}

/** Copy a local file or directory to PATH in the container (into it when PATH is a directory there, as kubectl cp). */
export async function copyToPod(root: string, ref: string, container: string | undefined, local: string, remote: string): Promise<void> {
  const src = resolvePath(local)
  if (!existsSync(src)) throw cpError(`${local}: no such file or directory`)
  if (!remote.startsWith('/')) remote = `/${remote}`
  let dest = remote
  if (remote.endsWith('/')) dest = posix.join(remote, basename(src))
  else {
    const isDir = await execPipes(root, ref, container, ['test', '-d', remote])
    isDir.stdin.end()
    if ((await isDir.exited).exitCode === 0) dest = posix.join(remote, basename(src))
  }
  const name = posix.basename(dest)
  const from = basename(src)
  const p = await execPipes(root, ref, container, ['tar', '-xmf', '-', '-C', posix.dirname(dest)])
  await runTar(p, `${local} -> ${ref}:${dest}`, stdin =>
    pipeline(
      tarCreate(
        {
          cwd: dirname(src),
          portable: true,
          // The top entry takes the destination's name: `a/x` -> `NAME/x`.
          onWriteEntry: e => void (e.path = e.path === from || e.path.startsWith(`${from}/`) ? name + e.path.slice(from.length) : e.path),
        },
        [from],
      ),
      stdin,
    ),
  )
}

/** Copy PATH from the container to a local path (into it when that is an existing directory). */
export async function copyFromPod(root: string, ref: string, container: string | undefined, remote: string, local: string): Promise<void> {
  if (!remote.startsWith('/')) remote = `/${remote}`
  const src = posix.normalize(remote).replace(/\/$/, '') || '/'
  if (src === '/') throw cpError(`${ref}:/: copy a directory below /, not the container's whole root`)
  let dest = resolvePath(local)
  if (existsSync(dest) && statSync(dest).isDirectory()) dest = resolvePath(dest, posix.basename(src))
  if (!existsSync(dirname(dest))) throw cpError(`${local}: ${dirname(dest)}: no such directory`)
  const from = posix.basename(src)
  const name = basename(dest)
  const p = await execPipes(root, ref, container, ['tar', 'cf', '-', '-C', posix.dirname(src), from])
  await runTar(p, `${ref}:${src} -> ${local}`, undefined, stdout =>
    pipeline(
      stdout,
      tarExtract({
        cwd: dirname(dest),
        // Only what lies under the source, renamed to the destination's name.
        filter: (path, entry) => {
          const clean = path.replace(/^\.\//, '')
          if (clean !== from && !clean.startsWith(`${from}/`)) return false
          ;(entry as { path: string }).path = name + clean.slice(from.length)
          return true
        },
      }),
    ),
  )
}
