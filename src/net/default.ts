// The default network, written on first use when the conf dir has none:
// bridge `pl0` (gateway, masquerade) with host-local IPAM on a private /16
// that no host route overlaps (10.88.0.0/16 like podman, else the next
// candidate), then portmap for hostPort and firewall.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PodError } from '../errors.js'

export const DEFAULT_CONF_DIR = '/etc/pod-launch/net.d'
export const DEFAULT_BIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin']
export const DEFAULT_BRIDGE = 'pl0'
export const DEFAULT_NETWORK_NAME = 'pod-launch'
export const DEFAULT_CONF_FILE = '87-pod-launch.conflist'

/** Candidate /16s, in order. */
export const SUBNET_CANDIDATES = [88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99].map(n => `10.${n}.0.0/16`)

export interface Route {
  iface: string
  /** `a.b.c.d/len` */
  cidr: string
}

const toInt = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0)

/** IPv4 routes of /proc/net/route (hex, host byte order of a little-endian machine). */
export function parseProcRoutes(text: string): Route[] {
  const out: Route[] = []
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 8) continue
    const le = (hex: string) => {
      const n = parseInt(hex, 16)
      return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.')
    }
    const mask = parseInt(f[7], 16)
    const len = mask
      .toString(2)
      .split('')
      .filter(b => b === '1').length
    out.push({ iface: f[0], cidr: `${le(f[1])}/${len}` })
  }
  return out
}

export function overlaps(a: string, b: string): boolean {
  const [ia, la] = a.split('/')
  const [ib, lb] = b.split('/')
  const len = Math.min(Number(la), Number(lb))
  if (len === 0) return false // the default route overlaps everything and clashes with nothing
  const mask = len === 32 ? 0xffffffff : ~((1 << (32 - len)) - 1) >>> 0
  return (toInt(ia) & mask) >>> 0 === (toInt(ib) & mask) >>> 0
}

/** The first candidate no route overlaps (routes through our own bridge do not count). Throws PodError `cni.default`. */
export function pickSubnet(routes: Route[], bridge = DEFAULT_BRIDGE): string {
  const others = routes.filter(r => r.iface !== bridge)
  const free = SUBNET_CANDIDATES.find(c => !others.some(r => overlaps(c, r.cidr)))
  if (!free) {
    throw new PodError(`cni.default: every candidate subnet (${SUBNET_CANDIDATES[0]} .. ${SUBNET_CANDIDATES.at(-1)}) overlaps a route of this host`, {
      step: 'cni.default',
      hint: `write a conflist of your own into ${DEFAULT_CONF_DIR} (or --cni-conf-dir)`,
    })
  }
  return free
}

export function defaultConfList(subnet: string): object {
  const [net] = subnet.split('/')
  const gateway = net.replace(/\.0$/, '.1')
  return {
    cniVersion: '1.0.0',
    name: DEFAULT_NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge: DEFAULT_BRIDGE,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: { type: 'host-local', routes: [{ dst: '0.0.0.0/0' }], ranges: [[{ subnet, gateway }]] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
      { type: 'firewall' },
    ],
  }
}

/** Write the default conflist into `dir`; returns its path. Throws PodError `cni.default`. */
export function writeDefaultConfList(dir: string, routesText = readFileSync('/proc/net/route', 'utf8')): string {
  const file = join(dir, DEFAULT_CONF_FILE)
  const conf = defaultConfList(pickSubnet(parseProcRoutes(routesText)))
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 })
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(conf, null, 2) + '\n', { mode: 0o644 })
    renameSync(tmp, file) // pods starting at once all write the same content: the rename keeps one whole file
  } catch (e) {
    throw PodError.system('cni.default', e, file)
  }
  return file
}
