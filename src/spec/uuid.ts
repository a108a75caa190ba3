// A pod's uid: a version 4 UUID (RFC 9562) from the kernel's random source.
// Every `run` makes one: reading 16 bytes of /dev/urandom costs a few system
// calls, where loading node:crypto for randomUUID cost ~3.5 ms of each CLI
// start. Without /dev/urandom (a chroot without /dev) it is node:crypto's.
import { closeSync, openSync, readSync } from 'node:fs'
import { nodeCrypto } from '../node-crypto.js'

const cryptoUuid = (): string => nodeCrypto().randomUUID()

export function randomUuid(): string {
  const b = Buffer.alloc(16)
  try {
    const fd = openSync('/dev/urandom', 'r')
    try {
      if (readSync(fd, b, 0, 16, null) !== 16) return cryptoUuid()
    } finally {
      closeSync(fd)
    }
  } catch {
    return cryptoUuid()
  }
  b[6] = (b[6] & 0x0f) | 0x40 // version 4
  b[8] = (b[8] & 0x3f) | 0x80 // variant 10
  const h = b.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
