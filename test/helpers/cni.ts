// Test networks for the CNI tests: a conflist of the test's own in a temp
// --cni-conf-dir, on a bridge and subnet in 198.18.0.0/15 (RFC 2544, set
// aside for network tests), never the default network. Teardown deletes the
// bridge (the bridge plugin never does), every iptables rule and chain that
// was not there before, and restores net.ipv4.ip_forward (the bridge plugin
// sets it for isGateway).
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { release, tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TestNetwork {
  confDir: string
  binDir: string
  ipamDir: string
  bridge: string
  /** host-local's reservations (one file per address), e.g. ['198.18.0.2']. */
  reserved: () => string[]
  /** Interfaces enslaved to the bridge (the pods' veths). */
  ports: () => string[]
}

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

/** `iptables-save` (`ip6tables-save` for family 6) lines (counters dropped) by table: chains (`:NAME`) and rules (`-A ...`). */
export function iptablesState(family: 4 | 6 = 4): Map<string, string[]> {
  const out = new Map<string, string[]>()
  let table = ''
  for (const line of run(family === 6 ? 'ip6tables-save' : 'iptables-save', []).split('\n')) {
    if (line.startsWith('*')) out.set((table = line.slice(1)), [])
    else if (line.startsWith(':') && line.split(' ')[1] === '-')
      out.get(table)!.push(line.split(' ')[0]) // user chains only
    else if (line.startsWith('-A')) out.get(table)!.push(line)
  }
  return out
}

/** Lines of `after` missing from `before`, as `table line`. */
export function iptablesAdded(before: Map<string, string[]>, after: Map<string, string[]>): string[] {
  const added: string[] = []
  for (const [table, lines] of after) {
    const old = new Set(before.get(table) ?? [])
    for (const l of lines) if (!old.has(l)) added.push(`${table} ${l}`)
  }
  return added
}

/** Split an iptables-save rule into argv (double quotes group, as iptables-save writes them). */
function ruleArgs(line: string): string[] {
  const args: string[] = []
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g
  for (let m = re.exec(line); m; m = re.exec(line)) args.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2])
  return args
}

/** Remove the rules, then the chains, that `after` has and `before` had not. */
export function iptablesRestore(before: Map<string, string[]>, family: 4 | 6 = 4): void {
  const iptables = family === 6 ? 'ip6tables' : 'iptables'
  const after = iptablesState(family)
  for (const [table, lines] of after) {
    const old = new Set(before.get(table) ?? [])
    for (const l of lines.filter(l => l.startsWith('-A') && !old.has(l))) {
      const [, ...rest] = ruleArgs(l)
      try {
        run(iptables, ['-w', '-t', table, '-D', ...rest])
      } catch {
        // removed meanwhile
      }
    }
    const chains = lines.filter(l => l.startsWith(':') && !old.has(l)).map(l => l.slice(1))
    for (const c of chains) run(iptables, ['-w', '-t', table, '-F', c])
    for (const c of chains) run(iptables, ['-w', '-t', table, '-X', c])
  }
}

/**
 * Why this kernel cannot carry a CNI bridge network, or false when it can.
 * Probed in a throwaway net namespace (nothing on the host changes): a bridge,
 * a veth pair and `iptables-save`. Only a kernel that lacks these and has no
 * /lib/modules/<release> to load them from is named; any other failure is left
 * for the test to report. The cgroup v2 VM (in-cgroup2-vm) is such a kernel:
 * Debian builds bridge, veth and nf_tables as modules, its initramfs loads
 * only virtio, 9p, overlay and loop, and the guest has no /lib/modules.
 */
export function cniKernelMissing(): string | false {
  const probe = 'ip link add plprobe0 type bridge && ip link add plprobe1 type veth peer name plprobe2 && iptables-save >/dev/null'
  try {
    execFileSync('unshare', ['--net', 'sh', '-c', probe], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    return false
  } catch (e) {
    const said =
      String((e as { stderr?: string }).stderr ?? '')
        .trim()
        .split('\n')[0] ?? ''
    const missing = /Unknown device type|Protocol not supported|Table does not exist/.test(said)
    if (!missing || existsSync(`/lib/modules/${release()}`)) return false
    return `kernel ${release()} cannot make a bridge, a veth or an nf_tables table (${said}) and has no /lib/modules/${release()} to load them from`
  }
}

export function linkExists(name: string): boolean {
  try {
    run('ip', ['link', 'show', name])
    return true
  } catch {
    return false
  }
}

interface T {
  teardown(fn: () => unknown): void
}

/** A temp dir of its own (tap's t.testdir() empties the one dir on every call), removed at teardown. */
export function tempDir(t: T, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * A conflist (bridge + host-local + portmap + firewall) in a temp conf dir.
 * `range` limits host-local to some addresses of 198.18.0.0/24.
 */
export function testNetwork(
  t: T,
  opts: {
    name: string
    bridge: string
    rangeStart?: string
    rangeEnd?: string
    extraPlugins?: object[]
    binDir?: string
    portmap?: boolean
    /** A /24 of 198.18.0.0/15 other than 198.18.0.0/24 (its gateway is .1): a file whose bridge may run beside network.test.ts. */
    subnet?: string
  },
): TestNetwork {
  const dir = tempDir(t, 'pl-cni-net-')
  const confDir = join(dir, 'net.d')
  const ipamDir = join(dir, 'ipam')
  mkdirSync(confDir, { recursive: true })
  const subnet = opts.subnet ?? '198.18.0.0/24'
  const range: Record<string, string> = { subnet, gateway: subnet.replace(/0\/24$/, '1') }
  if (opts.rangeStart) range.rangeStart = opts.rangeStart
  if (opts.rangeEnd) range.rangeEnd = opts.rangeEnd
  const conf = {
    cniVersion: '1.0.0',
    name: opts.name,
    plugins: [
      {
        type: 'bridge',
        bridge: opts.bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: { type: 'host-local', dataDir: ipamDir, ranges: [[range]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      ...(opts.portmap === false ? [] : [{ type: 'portmap', capabilities: { portMappings: true } }]),
      { type: 'firewall' },
      ...(opts.extraPlugins ?? []),
    ],
  }
  writeFileSync(join(confDir, '10-test.conflist'), JSON.stringify(conf, null, 2))
  const net = join(ipamDir, opts.name)
  return {
    confDir,
    binDir: opts.binDir ?? '/usr/lib/cni',
    ipamDir,
    bridge: opts.bridge,
    reserved: () => {
      try {
        return readdirSync(net).filter(f => /^\d+\.\d+\.\d+\.\d+$/.test(f))
      } catch {
        return []
      }
    },
    ports: () =>
      run('ip', ['-o', 'link', 'show', 'master', opts.bridge])
        .split('\n')
        .filter(Boolean)
        .map(l => l.split(': ')[1].split('@')[0]),
  }
}

/** A bin dir with the real plugins linked in plus a fake plugin script `name`. */
export function fakePluginDir(t: T, name: string, script: string): string {
  const dir = tempDir(t, 'pl-cni-bin-')
  for (const p of ['bridge', 'host-local', 'portmap', 'firewall', 'loopback']) symlinkSync(`/usr/lib/cni/${p}`, join(dir, p))
  writeFileSync(join(dir, name), script)
  chmodSync(join(dir, name), 0o755)
  return dir
}

/** Host state the tests change and must give back: call once per test file, at the top. */
export function guardHost(t: { teardown(fn: () => unknown): void }, bridges: string[]): void {
  const before = iptablesState()
  const forward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()
  t.teardown(() => {
    for (const b of bridges) if (linkExists(b)) run('ip', ['link', 'del', b])
    iptablesRestore(before)
    writeFileSync('/proc/sys/net/ipv4/ip_forward', forward)
  })
}
