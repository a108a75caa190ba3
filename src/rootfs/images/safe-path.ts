// Paths of tar entries, checked so that extraction cannot leave the layer
// directory: no absolute paths, no `..`, and never through a symlink that an
// earlier entry of the same layer made (each parent component is lstat'ed;
// only this process writes into the private tmp dir, so the check holds).
import { lstatSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'

export class UnsafeEntry extends Error {}

/** The components of an entry path (`./a/b/` -> ['a', 'b']); throws UnsafeEntry. */
export function entryComponents(path: string, what = 'path'): string[] {
  if (path.startsWith('/')) throw new UnsafeEntry(`absolute ${what} "${path}"`)
  if (path.includes('\0')) throw new UnsafeEntry(`${what} with a NUL byte`)
  const parts = path.split('/').filter(p => p !== '' && p !== '.')
  if (parts.includes('..')) throw new UnsafeEntry(`${what} "${path}" has a ".." component`)
  return parts
}

/**
 * Make sure every parent of `parts` under `root` is a real directory (made
 * 0755 when missing); a symlink or a file on the way is refused. Returns the
 * full path of `parts`. `known`: directories already checked (or made) by
 * this writer, not lstat'ed again; the caller empties it whenever it removes
 * anything (the only way one of them could stop being a directory).
 */
export function ensureParents(root: string, parts: string[], entry: string, known?: Set<string>): string {
  let dir = root
  for (let i = 0; i < parts.length - 1; i++) {
    dir = `${dir}/${parts[i]}`
    if (known?.has(dir)) continue
    const st = lstatOrNull(dir)
    if (st === null) mkdirSync(dir, { mode: 0o755 })
    else if (st.isSymbolicLink()) throw new UnsafeEntry(`"${entry}" would be written through the symlink "${dir.slice(root.length + 1)}"`)
    else if (!st.isDirectory()) throw new UnsafeEntry(`"${entry}": "${dir.slice(root.length + 1)}" is not a directory`)
    known?.add(dir)
  }
  return join(root, ...parts)
}

/** Check, without creating anything, that `parts` names an existing non-directory reached without symlinks. */
export function existingTarget(root: string, parts: string[], entry: string): string {
  let dir = root
  for (const p of parts.slice(0, -1)) {
    dir = join(dir, p)
    const st = lstatOrNull(dir)
    if (st === null || !st.isDirectory())
      throw new UnsafeEntry(
        `hardlink "${entry}": its target's parent "${dir.slice(root.length + 1)}" is ` +
          (st === null ? 'missing' : st.isSymbolicLink() ? 'a symlink' : 'not a directory'),
      )
  }
  const target = join(root, ...parts)
  const st = lstatOrNull(target)
  if (st === null) throw new UnsafeEntry(`hardlink "${entry}": target "${parts.join('/')}" is not in this layer`)
  if (st.isDirectory()) throw new UnsafeEntry(`hardlink "${entry}": target "${parts.join('/')}" is a directory`)
  return target
}

export function lstatOrNull(path: string) {
  return lstatSync(path, { throwIfNoEntry: false }) ?? null
}
