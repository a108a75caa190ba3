// seccomp.mjs - what seccomp adds to a pod's start, in ONE Node process (the
// library, as bench/lib-driver.mjs drives it). Needs root and a build.
//
//   sudo node bench/seccomp.mjs                       # N = 1 5 10, 2 warm-up + 15 counted
//   sudo RUNS=30 NS="1 10" node bench/seccomp.mjs
//
// Per pod size N (containers running /bin/true, restartPolicy Never) and per
// mode, one whole pod cycle (`await runPod(...)`: sandbox, N containers,
// their exit, teardown) is timed; modes run interleaved, rotated by one per
// repetition, so noise hits all of them:
//
//   unconfined   no profile (the Kubernetes default): no filter
//   rd-pod       every container RuntimeDefault with the same caps: ONE
//                compilation per pod (what pod-launch does), N loads
//   rd-each      every container RuntimeDefault, container i adding a
//                different capability the profile looks at (SYS_ADMIN,
//                SYS_PTRACE, ...), so no two filters are equal: N
//                compilations per pod, i.e. the cost of compiling per
//                container start
//
// Also: one libseccomp compilation of RuntimeDefault on its own (fresh cache
// each time), and its size in BPF instructions. Prints a table (median, p90,
// min in ms) and the differences to `unconfined`. Nothing asserts a time.
import { mkdtempSync, rmSync, rmdirSync, readdirSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

// Loopback only, as in bench/run.sh: the cost measured is seccomp's, not a CNI call's.
process.env.POD_LAUNCH_NETWORK ??= 'none'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { runPod } = await import(join(root, 'dist', 'index.js'))
const { RUNTIME_DEFAULT, SeccompCache, resolveRules } = await import(join(root, 'dist', 'seccomp', 'index.js'))
const { DEFAULT_CAPABILITIES } = await import(join(root, 'dist', 'spec', 'index.js'))

if (process.getuid() !== 0) {
  process.stderr.write('seccomp.mjs: needs root (namespaces, cgroups)\n')
  process.exit(1)
}
const NS = (process.env.NS ?? '1 5 10').split(/\s+/).filter(Boolean).map(Number)
const RUNS = Number(process.env.RUNS ?? 15)
const WARMUP = Number(process.env.WARMUP ?? 2)
const CG = process.env.PLCG ?? 'pod-launch-bench-seccomp'
// Capabilities RUNTIME_DEFAULT's rules look at: each changes the filter.
const DISTINCT = ['SYS_ADMIN', 'SYS_PTRACE', 'SYS_MODULE', 'SYS_BOOT', 'SYS_PACCT', 'SYS_RAWIO', 'SYS_TIME', 'SYS_TTY_CONFIG', 'SYS_NICE', 'SYSLOG', 'BPF', 'PERFMON', 'DAC_READ_SEARCH']
const MODES = ['unconfined', 'rd-pod', 'rd-each']
const state = mkdtempSync(join(tmpdir(), 'plbench-seccomp-'))

function manifest(mode, n, rep) {
  const containers = Array.from({ length: n }, (_, i) => {
    const securityContext = mode === 'unconfined' ? {} : { seccompProfile: { type: 'RuntimeDefault' }, ...(mode === 'rd-each' ? { capabilities: { add: [DISTINCT[i]] } } : {}) }
    return { name: `c${i}`, image: 'host', command: ['/bin/true'], securityContext }
  })
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: `sc-${mode}-${n}-${rep}` }, spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers } }
}

async function cycle(mode, n, rep) {
  const m = manifest(mode, n, rep)
  const t0 = performance.now()
  const r = await runPod(m, { stateRoot: state, cgroupParent: CG, onOutput: () => {}, onManifestWarning: () => {}, onWarning: () => {} })
  const ms = performance.now() - t0
  if (r.phase !== 'Succeeded') throw new Error(`${m.metadata.name}: ${r.phase} ${JSON.stringify(r.containerStatuses.map(s => s.state))}`)
  return ms
}

const stats = xs => {
  const s = [...xs].sort((a, b) => a - b)
  return { median: s[Math.floor((s.length - 1) / 2)], p90: s[Math.ceil(0.9 * s.length) - 1], min: s[0] }
}
const f = x => x.toFixed(2)

try {
  // 1. One compilation on its own.
  const caps = DEFAULT_CAPABILITIES.map(c => `CAP_${c}`)
  const compiles = []
  let insns = 0
  for (let i = 0; i < WARMUP + 30; i++) {
    const t0 = performance.now()
    const filter = new SeccompCache().get(resolveRules(RUNTIME_DEFAULT, caps))
    if (i >= WARMUP) compiles.push(performance.now() - t0)
    insns = filter.bpf.length / 8
  }
  const c = stats(compiles)
  console.log(`RuntimeDefault: ${insns} BPF instructions; one compilation (resolve + libseccomp + export): median ${f(c.median)} ms, p90 ${f(c.p90)}, min ${f(c.min)} (${compiles.length} runs)`)
  console.log()

  // 2. Pod cycles.
  console.log(`pod cycles (runPod to completion, /bin/true containers), ${RUNS} counted + ${WARMUP} warm-up, interleaved; ms`)
  console.log(['N', 'mode', 'median', 'p90', 'min', 'vs unconfined (median)', 'per container'].join('\t'))
  for (const n of NS) {
    if (n > DISTINCT.length) throw new Error(`N=${n}: rd-each needs at most ${DISTINCT.length} containers`)
    const samples = Object.fromEntries(MODES.map(m => [m, []]))
    for (let rep = 0; rep < WARMUP + RUNS; rep++) {
      for (let k = 0; k < MODES.length; k++) {
        const mode = MODES[(k + rep) % MODES.length]
        const ms = await cycle(mode, n, rep)
        if (rep >= WARMUP) samples[mode].push(ms)
      }
    }
    const base = stats(samples.unconfined).median
    for (const mode of MODES) {
      const s = stats(samples[mode])
      const d = s.median - base
      console.log([n, mode, f(s.median), f(s.p90), f(s.min), mode === 'unconfined' ? '' : `${d >= 0 ? '+' : ''}${f(d)}`, mode === 'unconfined' ? '' : `${d >= 0 ? '+' : ''}${f(d / n)}`].join('\t'))
    }
  }
} finally {
  rmSync(state, { recursive: true, force: true })
  for (const d of readdirSync('/sys/fs/cgroup')) {
    const p = join('/sys/fs/cgroup', d, CG)
    if (existsSync(p)) {
      try {
        rmdirSync(p)
      } catch (e) {
        process.stderr.write(`seccomp.mjs: ${p}: ${e.message}\n`)
        process.exitCode = 1
      }
    }
  }
}
