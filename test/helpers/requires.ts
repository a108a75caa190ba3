// Gate integration tests: returns a skip reason, or false when they can run.
import { existsSync, readFileSync, statfsSync } from 'node:fs'
import { release } from 'node:os'

type Need = 'root' | 'cgroup2' | 'built'

// Every integration test imports this: pods get loopback only unless a test
// asks for a CNI network of its own (network: 'cni' with a temp conf dir), so
// no test ever creates the default network (bridge pl0, 10.88.0.0/16) on the host.
process.env.POD_LAUNCH_NETWORK ??= 'none'

const CGROUP2_SUPER_MAGIC = 0x63677270

export function requires(...needs: Need[]): string | false {
  for (const need of needs) {
    if (need === 'root' && process.getuid?.() !== 0) return 'needs root (sudo npm run test:integration)'
    if (need === 'cgroup2' && statfsSync('/sys/fs/cgroup').type !== CGROUP2_SUPER_MAGIC) return 'needs a cgroup v2 host'
    for (const file of ['build/Release/pod_launch.node', 'build/Release/pause', 'dist/cli/main.js']) {
      if (need === 'built' && !existsSync(new URL(`../../${file}`, import.meta.url))) return `needs ${file}: npm run build`
    }
  }
  return false
}

/** Facts to print when an integration test fails. */
export function envReport(): string {
  const cgroup = statfsSync('/sys/fs/cgroup').type === CGROUP2_SUPER_MAGIC ? 'v2' : existsSync('/sys/fs/cgroup/unified') ? 'hybrid' : 'v1'
  let self = ''
  try {
    self = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n').join(' ')
  } catch {}
  return `uid=${process.getuid?.()} kernel=${release()} cgroup=${cgroup} node=${process.version} self-cgroup=${self}`
}
