// lib-driver.mjs - pod-launch as a library in ONE long-lived Node process.
//
//   node bench/lib-driver.mjs STATE_ROOT CGROUP_PARENT
//
// Reads one request per line on stdin: "run PATH" or "hold PATH", PATH a pod
// manifest (JSON). "run": the pod runs to completion with
// `await runPod(manifest, ...)`, and one line goes to stdout:
//
//   lib n=N total_ms=.. sandbox_ms=.. spawn_ms=.. run_ms=.. down_ms=.. phase=.. rss_kb=.. hwm_kb=..
//
//   total_ms    runPod() called -> PodResult resolved (the whole cycle: parse,
//               state dir, cgroups, pause, N containers, their exit, teardown)
//   sandbox_ms  runPod() called -> 'sandbox-started' (state dir, cgroups, pause)
//   spawn_ms    'sandbox-started' -> last 'container-started' (N containers,
//               started in order, each after the previous one's exec)
//   run_ms      last 'container-started' -> pod phase Succeeded/Failed
//               (the /bin/true processes exit, their statuses are recorded)
//   down_ms     terminal phase -> 'pod-removed' (pause killed, cgroups
//               killed + removed, state dir removed)
//   rss_kb      this process's RSS after the pod; hwm_kb: peak RSS (VmHWM) so far
//
// "hold" (the reference pod.sh's shape: members that keep running and are
// killed): `await startPod(...)` (resolves once every container is Running),
// then `await pod.stop({ force: true })` (SIGKILL at once, then teardown):
//
//   hold n=N total_ms=.. up_ms=.. down_ms=.. phase=.. rss_kb=.. hwm_kb=..
//
// "mem": run a full GC when Node was started with --expose-gc, then print
//   mem heap_kb=.. external_kb=.. rss_kb=.. hwm_kb=.. fds=.. pods=..   (pods run so far)
//
// The manifest file is read and JSON-parsed once per request (outside the
// timed part; the CLI reads its file inside its own run). runPod() parses and
// validates the object inside the timed part, as the CLI does.
// Exits on EOF. Nothing else is printed on stdout.
import { readFileSync, readdirSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const here = dirname(fileURLToPath(import.meta.url))
const lib = process.env.POD_LAUNCH_LIB ?? join(here, '..', 'dist', 'index.js')
const { runPod, startPod } = await import(lib)

const [stateRoot, cgroupParent] = process.argv.slice(2)
if (!stateRoot || !cgroupParent) {
  process.stderr.write('usage: lib-driver.mjs STATE_ROOT CGROUP_PARENT\n')
  process.exit(2)
}

function vmHwmKb() {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
  return m ? Number(m[1]) : -1
}

const f = ms => ms.toFixed(1)

async function one(path) {
  const manifest = JSON.parse(readFileSync(path, 'utf8'))
  const n = manifest.spec.containers.length
  let tSandbox = NaN, tLastStart = NaN, tPhase = NaN, tRemoved = NaN
  const t0 = performance.now()
  const result = await runPod(manifest, {
    onOutput: () => {},
    onManifestWarning: () => {},
    stateRoot,
    cgroupParent,
    onEvent: e => {
      const t = performance.now()
      if (e.type === 'sandbox-started') tSandbox = t
      else if (e.type === 'container-started') tLastStart = t
      else if (e.type === 'pod-phase' && (e.phase === 'Succeeded' || e.phase === 'Failed')) tPhase = t
      else if (e.type === 'pod-removed') tRemoved = t
    },
  })
  const t1 = performance.now()
  if (result.phase !== 'Succeeded') throw new Error(`pod ${result.name} ended ${result.phase} (exit ${result.exitCode})`)
  return `lib n=${n} total_ms=${f(t1 - t0)} sandbox_ms=${f(tSandbox - t0)} spawn_ms=${f(tLastStart - tSandbox)} ` +
    `run_ms=${f(tPhase - tLastStart)} down_ms=${f(tRemoved - tPhase)} phase=${result.phase} ` +
    `rss_kb=${Math.round(process.memoryUsage().rss / 1024)} hwm_kb=${vmHwmKb()}`
}

async function hold(path) {
  const manifest = JSON.parse(readFileSync(path, 'utf8'))
  const n = manifest.spec.containers.length
  const t0 = performance.now()
  const pod = await startPod(manifest, { onOutput: () => {}, onManifestWarning: () => {}, stateRoot, cgroupParent })
  const t1 = performance.now()
  const running = pod.statuses.containers.filter(s => 'running' in s.state).length
  const t2 = performance.now()
  const result = await pod.stop({ force: true })
  const t3 = performance.now()
  if (running !== n) throw new Error(`pod ${pod.name}: ${running} of ${n} containers running after startPod`)
  return `hold n=${n} total_ms=${f(t1 - t0 + (t3 - t2))} up_ms=${f(t1 - t0)} down_ms=${f(t3 - t2)} phase=${result.phase} ` +
    `rss_kb=${Math.round(process.memoryUsage().rss / 1024)} hwm_kb=${vmHwmKb()}`
}

let pods = 0
function mem() {
  globalThis.gc?.()
  const m = process.memoryUsage()
  const kb = b => Math.round(b / 1024)
  return `mem heap_kb=${kb(m.heapUsed)} external_kb=${kb(m.external)} rss_kb=${kb(m.rss)} hwm_kb=${vmHwmKb()} ` +
    `fds=${readdirSync('/proc/self/fd').length} pods=${pods} gc=${globalThis.gc ? 'yes' : 'no'}`
}

const rl = createInterface({ input: process.stdin, terminal: false })
for await (const line of rl) {
  const [mode, path] = line.trim().split(/\s+/)
  if (!mode) continue
  try {
    if (mode === 'mem') {
      process.stdout.write(`${mem()}\n`)
      continue
    }
    if (mode !== 'run' && mode !== 'hold') throw new Error(`unknown request ${mode} (run PATH | hold PATH | mem)`)
    const line = mode === 'run' ? await one(path) : await hold(path)
    pods++
    process.stdout.write(`${line}\n`)
  } catch (e) {
    // One line either way, so the caller never waits forever.
    process.stdout.write(`lib error=${JSON.stringify(String(e?.message ?? e))}\n`)
  }
}
