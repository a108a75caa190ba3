// Which live pods use an image, proved two ways: (1) a pod record under the
// same root whose owner (supervisor or pause, by pid + start time) is alive
// and whose containers name the image; (2) an overlay mounted in any mount
// namespace of the host whose lowerdir is exactly the image's layers (a
// foreground pod, or a pod whose image name has since moved to a newer image).
// Mount namespaces are read once each, from the first process seen in them.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { isAlive } from '../../state/proc.js'
import { listPods } from '../../state/resolve.js'
import { findStored, type StoredImage } from './store.js'

/** Overlay lowerdir chains (top first) mounted anywhere, with one process of each namespace that has them. */
export function mountedLowerdirs(): { lower: string[]; pid: number }[] {
  const seen = new Set<string>()
  const out: { lower: string[]; pid: number }[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    let text: string
    try {
      const ns = readlinkSync(`/proc/${name}/ns/mnt`)
      if (seen.has(ns)) continue
      seen.add(ns)
      text = readFileSync(`/proc/${name}/mountinfo`, 'utf8')
    } catch {
      continue // gone meanwhile, or a kernel thread
    }
    for (const line of text.split('\n')) {
      const sep = line.indexOf(' - ')
      if (sep < 0) continue
      const [fstype, , opts] = line.slice(sep + 3).split(' ')
      if (fstype !== 'overlay') continue
      const lower = /(?:^|,)lowerdir=((?:[^,\\]|\\.)*)/.exec(opts ?? '')?.[1]
      if (lower) out.push({ lower: lower.split(/(?<!\\):/).map(p => p.replace(/\\040/g, ' ').replace(/\\:/g, ':')), pid: Number(name) })
    }
  }
  return out
}

/** Every layer directory some overlay has as a lower layer. */
export function mountedLayers(): Set<string> {
  return new Set(mountedLowerdirs().flatMap(m => m.lower))
}

function podOfPid(pid: number, names: Map<string, string>): string {
  try {
    const uid = /pod-([0-9a-f-]{36})/.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1]
    if (uid) return names.get(uid) ?? `pod ${uid}`
  } catch {}
  return `pid ${pid}`
}

/** Names of the live pods (or processes) using `target`: empty when none. */
export function imageUsers(root: string, target: StoredImage, all: StoredImage[], layers: string[]): string[] {
  const users = new Set<string>()
  const names = new Map<string, string>()
  for (const p of listPods(root)) {
    const r = p.record
    if (!r) continue
    names.set(p.id, r.name)
    if (!isAlive(r.supervisor) && !isAlive(r.pause)) continue
    const images = [...r.spec.initContainers, ...r.spec.containers].map(c => c.image)
    if (images.some(i => safeFind(all, i)?.id === target.id)) users.add(r.name)
  }
  const chain = [...layers].reverse().join(':')
  for (const m of mountedLowerdirs()) if (m.lower.join(':') === chain) users.add(podOfPid(m.pid, names))
  return [...users]
}

function safeFind(all: StoredImage[], name: string): StoredImage | undefined {
  try {
    return findStored(all, name)
  } catch {
    return undefined // host, a directory, or a name that is not an image reference
  }
}
