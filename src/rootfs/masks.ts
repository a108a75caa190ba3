// runc's default masked and read-only paths (libcontainer/specconv): masked
// files get /dev/null bound over them, masked directories an empty read-only
// tmpfs; read-only paths are bound onto themselves read-only. Missing ones are
// skipped, as runc does.
import { existsSync, statSync } from 'node:fs'
import type { NativeMount } from '../spawn/index.js'
import type { Flags } from './paths.js'

export const MASKED_PATHS = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
]
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']

export function maskMounts(f: Flags, root: string): NativeMount[] {
  const m: NativeMount[] = []
  for (const p of MASKED_PATHS) {
    // The container's /proc and /sys have the host's shape: look there to tell files from directories.
    if (!existsSync(p)) continue
    const isDir = statSync(p).isDirectory()
    m.push(
      isDir
        ? { source: 'tmpfs', target: `${root}${p}`, fstype: 'tmpfs', flags: f.MS_RDONLY, data: 'size=0', optional: true }
        : { source: '/dev/null', target: `${root}${p}`, flags: f.MS_BIND, optional: true },
    )
  }
  for (const p of READONLY_PATHS) {
    m.push({ source: `${root}${p}`, target: `${root}${p}`, flags: f.MS_BIND | f.MS_REC, optional: true })
    m.push({ target: `${root}${p}`, flags: f.MS_BIND | f.MS_REMOUNT | f.MS_RDONLY | f.MS_REC, optional: true })
  }
  return m
}
