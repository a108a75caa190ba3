// What the image config contributes to a container's start, by the rules
// kubelet and the CRI runtimes apply (Kubernetes "Define a command and
// arguments for a container": command replaces Entrypoint, args replace Cmd).
import { lstatSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PodError } from '../../errors.js'
import { native } from '../../spawn/native.js'
import type { ImageConfig } from './manifest.js'

/** overlayfs' opaque-directory mark (what a layer's `.wh..wh..opq` becomes when unpacked). */
export const OPAQUE_XATTR = 'trusted.overlay.opaque'

/**
 * argv before $(VAR) expansion: no command and no args -> Entrypoint + Cmd;
 * command only -> command (the image's Cmd is ignored too); args only ->
 * Entrypoint + args; both -> command + args.
 */
export function imageArgv(config: ImageConfig, command?: readonly string[], args?: readonly string[]): string[] {
  if (command !== undefined) return [...command, ...(args ?? [])]
  return [...(config.entrypoint ?? []), ...(args ?? config.cmd ?? [])]
}

/** The image's Env as name -> value, then the container's on top (the container wins). */
export function imageEnv(config: ImageConfig, containerEnv: ReadonlyMap<string, string> = new Map()): Map<string, string> {
  const env = new Map<string, string>()
  for (const kv of config.env ?? []) {
    const eq = kv.indexOf('=')
    if (eq > 0) env.set(kv.slice(0, eq), kv.slice(eq + 1))
    else if (eq < 0 && kv !== '') env.set(kv, '')
  }
  for (const [k, v] of containerEnv) env.set(k, v)
  return env
}

/** The container's workingDir when the manifest sets one, else the image's, else `/`. */
export function imageWorkingDir(config: ImageConfig, containerWorkingDir?: string): string {
  return containerWorkingDir || config.workingDir || '/'
}

/**
 * A file as the merged overlay would show it: the topmost layer that has it,
 * stopping at a whiteout or at an opaque parent directory. Only for files
 * directly under one directory (etc/passwd, etc/group).
 */
function isOpaque(dir: string): boolean {
  try {
    return native().lgetxattr(dir, OPAQUE_XATTR) === 'y'
  } catch (e) {
    throw PodError.system('image.config', e, `${dir} (${OPAQUE_XATTR})`)
  }
}

export function readMergedFile(layers: readonly string[], rel: string): string | undefined {
  const dir = rel.split('/').slice(0, -1).join('/')
  for (const layer of [...layers].reverse()) {
    const st = lstatSync(join(layer, rel), { throwIfNoEntry: false })
    if (st?.isCharacterDevice() && st.rdev === 0) return undefined
    if (st?.isFile()) return readFileSync(join(layer, rel), 'utf8')
    const parent = join(layer, dir)
    if (lstatSync(parent, { throwIfNoEntry: false })?.isDirectory() && isOpaque(parent)) return undefined
  }
  return undefined
}

function lookup(file: string | undefined, name: string): string[] | undefined {
  return file
    ?.split('\n')
    .map(l => l.split(':'))
    .find(f => f[0] === name)
}

/**
 * The image's User (`uid`, `uid:gid`, `name`, `name:group`) as numbers, names
 * looked up in the image's /etc/passwd and /etc/group. Empty means root.
 * Throws `image.user` (IMAGE_USER_UNKNOWN) for a name the image lacks.
 */
export function resolveImageUser(layers: readonly string[], user: string | undefined): { uid: number; gid: number } {
  if (!user) return { uid: 0, gid: 0 }
  const [u, g] = user.split(':', 2)
  const fail = (what: string) =>
    new PodError(`image.user: ${user}: ${what} is not in the image's /etc/${what.startsWith('group') ? 'group' : 'passwd'}`, {
      step: 'image.user',
      code: 'IMAGE_USER_UNKNOWN',
      hint: 'use a numeric uid:gid in the image, or set securityContext.runAsUser',
    })
  let uid: number
  let gid: number | undefined
  if (/^\d+$/.test(u)) {
    uid = Number(u)
    const byUid = readMergedFile(layers, 'etc/passwd')
      ?.split('\n')
      .map(l => l.split(':'))
      .find(f => f[2] === u)
    if (byUid) gid = Number(byUid[3])
  } else {
    const entry = lookup(readMergedFile(layers, 'etc/passwd'), u)
    if (!entry) throw fail(`user "${u}"`)
    uid = Number(entry[2])
    gid = Number(entry[3])
  }
  if (g !== undefined && g !== '') {
    if (/^\d+$/.test(g)) gid = Number(g)
    else {
      const entry = lookup(readMergedFile(layers, 'etc/group'), g)
      if (!entry) throw fail(`group "${g}"`)
      gid = Number(entry[2])
    }
  }
  return { uid, gid: gid ?? 0 }
}

/**
 * The groups the image's /etc/group lists `uid`'s user name in (its own
 * group excluded), which containerd adds to a container's supplementary
 * groups. None when the image's /etc/passwd has no such uid.
 */
export function imageAdditionalGids(layers: readonly string[], uid: number): number[] {
  const user = readMergedFile(layers, 'etc/passwd')
    ?.split('\n')
    .map(l => l.split(':'))
    .find(f => f[2] === String(uid))?.[0]
  if (!user) return []
  return (readMergedFile(layers, 'etc/group') ?? '')
    .split('\n')
    .map(l => l.split(':'))
    .filter(f => f.length >= 4 && f[0] !== user && f[3].split(',').includes(user) && /^\d+$/.test(f[2]))
    .map(f => Number(f[2]))
}
