// Masked and read-only paths, applied after pivot_root in the container's
// own view (as runc applies them: a symlink in the image resolves inside the
// container). A masked path gets /dev/null bound over it, or an empty
// read-only tmpfs when it is a directory; a read-only path is bound onto
// itself read-only. Missing ones are skipped, as runc does. The defaults are
// runc's (libcontainer/specconv), which kubelet also sends over the CRI.
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

/** The mounts of `masked` and `readOnly` (container paths), for the plan's steps after pivot_root. */
export function maskMounts(f: Flags, masked: readonly string[] = MASKED_PATHS, readOnly: readonly string[] = READONLY_PATHS): NativeMount[] {
  const m: NativeMount[] = masked.map(p => ({ kind: 'mask', target: p }))
  for (const p of readOnly) {
    m.push({ source: p, target: p, flags: f.MS_BIND | f.MS_REC, optional: true })
    m.push({ target: p, flags: f.MS_BIND | f.MS_REMOUNT | f.MS_RDONLY | f.MS_REC, optional: true })
  }
  return m
}
