// What this host is to the downward API, as a kubelet's node: its name, its
// IP (status.hostIP) and its allocatable resources (what a resourceFieldRef to
// an unset limit reports; no system reservation here, so allocatable is the
// capacity: online cpus, MemTotal, the root filesystem's size).
import { readFileSync, statfsSync } from 'node:fs'
import { cpus, hostname, networkInterfaces, totalmem } from 'node:os'
import type { NodeAllocatable } from '../spec/index.js'

/** The IPv4 address of the interface holding the default route, else the first non-loopback one ('' when none). */
export function hostIP(): string {
  const ifaces = networkInterfaces()
  const v4 = (name: string) => ifaces[name]?.find(a => a.family === 'IPv4' && !a.internal)?.address
  try {
    // /proc/net/route: Iface Destination Gateway ...; destination 00000000 is the default route.
    const lines = readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)
    for (const l of lines) {
      const [iface, dest] = l.trim().split(/\s+/)
      if (dest === '00000000' && v4(iface)) return v4(iface)!
    }
  } catch {
    // no /proc/net/route: fall through
  }
  for (const name of Object.keys(ifaces)) if (v4(name)) return v4(name)!
  return ''
}

export function nodeAllocatable(): NodeAllocatable {
  let ephemeralStorageBytes = 0
  try {
    const s = statfsSync('/')
    ephemeralStorageBytes = s.blocks * s.bsize
  } catch {
    // unknown: reported as 0
  }
  return { cpuMilli: onlineCpus() * 1000, memoryBytes: totalmem(), ephemeralStorageBytes }
}

/**
 * os.cpus().length, counted as libuv counts it (the cpuN lines of
 * /proc/stat) without what cpus() reads besides for every pod: /proc/cpuinfo's
 * models and each cpu's cpufreq file (~0.3 ms).
 */
function onlineCpus(): number {
  try {
    const n = readFileSync('/proc/stat', 'utf8').match(/^cpu\d+ /gm)?.length ?? 0
    if (n > 0) return n
  } catch {
    // no /proc/stat: ask libuv
  }
  return cpus().length
}

/** The node's part of the runtime facts (the pod IP comes from the network). */
export type NodeFacts = { hostIP: string; nodeName: string; allocatable: NodeAllocatable }

export function nodeFacts(): NodeFacts {
  return { hostIP: hostIP(), nodeName: hostname(), allocatable: nodeAllocatable() }
}
