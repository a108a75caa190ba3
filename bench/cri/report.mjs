#!/usr/bin/env node
// Tables of one bench/cri/run.sh run (its results directory): critest
// totals per runtime, the benchmark's median step latencies with the ratio
// pod-launch / containerd, and the memory with N sandboxes.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

const dir = process.argv[2]
if (!dir) throw new Error('usage: report.mjs RESULTS_DIR')
const lines = []
const say = s => lines.push(s)

say(`# critest: containerd vs pod-launch (${dir})\n`)
const runs = ['critest.txt', 'benchmark.txt'].filter(f => existsSync(join(dir, f)))
if (runs.length) {
  say('| run | passed | failed | skipped | specs |')
  say('|---|---:|---:|---:|---:|')
  for (const l of runs.flatMap(f => readFileSync(join(dir, f), 'utf8').trim().split('\n'))) {
    const m = /^(\S+): (\d+) passed, (\d+) failed, (\d+) skipped \(of (\d+)\)/.exec(l)
    if (m) say(`| ${m[1]} | ${m[2]} | ${m[3]} | ${m[4]} | ${m[5]} |`)
  }
  say('')
}

// Specs containerd passes here that pod-launch does not (the goal).
const states = f =>
  existsSync(f)
    ? new Map(
        readFileSync(f, 'utf8')
          .trim()
          .split('\n')
          .map(l => l.split('\t').reverse()),
      )
    : new Map()
const ctrd = states(join(dir, 'containerd.states'))
const ours = states(join(dir, 'pod-launch.states'))
if (ctrd.size && ours.size) {
  const gap = [...ctrd].filter(([spec, s]) => s === 'passed' && ours.get(spec) !== 'passed')
  say(`Specs containerd passes and pod-launch does not: ${gap.length}`)
  for (const [spec] of gap) say(`- ${spec} (${ours.get(spec) ?? 'absent'})`)
  say('')
}

const median = xs => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN
}
const bench = {}
for (const f of readdirSync(dir).filter(f => /_benchmark_data-.*\.json$/.test(f))) {
  const [, kind, rt] = /^(.*)_benchmark_data-(.*)\.json$/.exec(f)
  const data = JSON.parse(readFileSync(join(dir, f), 'utf8'))
  for (const [i, op] of data.operationsNames.entries()) {
    const ms = median(data.datapoints.map(d => d.operationsDurationsNs[i] / 1e6))
    ;(bench[`${kind} ${op}`] ??= {})[rt] = ms
  }
}
// "start a container from scratch" (RunPodSandbox, CreateContainer, StartContainer, StopPodSandbox,
// RemovePodSandbox) is one gmeasure duration in the ginkgo report, not a data file.
for (const f of readdirSync(dir).filter(f => /-benchmark\.json$/.test(f))) {
  const rt = f.replace(/-benchmark\.json$/, '')
  for (const spec of JSON.parse(readFileSync(join(dir, f), 'utf8')).flatMap(s => s.SpecReports ?? [])) {
    for (const e of spec.ReportEntries ?? []) {
      const exp = e.Value?.AsJSON ? JSON.parse(e.Value.AsJSON) : undefined
      for (const m of exp?.Measurements ?? []) {
        if (m.Durations?.length) (bench[`pod+container ${m.Name}`] ??= {})[rt] = median(m.Durations.map(d => d / 1e6))
      }
    }
  }
}
if (Object.keys(bench).length) {
  say('critest --benchmark, median ms per step (ratio < 1: pod-launch faster)\n')
  say('| step | containerd | pod-launch | ratio |')
  say('|---|---:|---:|---:|')
  for (const [step, v] of Object.entries(bench)) {
    const r = v.containerd && v['pod-launch'] ? (v['pod-launch'] / v.containerd).toFixed(2) : ''
    say(`| ${step} | ${v.containerd?.toFixed(1) ?? ''} | ${v['pod-launch']?.toFixed(1) ?? ''} | ${r} |`)
  }
  say('')
}

if (existsSync(join(dir, 'memory.txt'))) {
  say("Memory of the runtime's own processes (never pause nor a container), MB: PSS, and in")
  say('brackets Pss_Anon (heaps and stacks; PSS also splits executable pages with every other')
  say('process mapping them). Per sandbox: the Pss_Anon growth over idle, divided by N.\n')
  say('| runtime | sandboxes | processes | idle | with the sandboxes | after removal | per sandbox (anon) |')
  say('|---|---:|---:|---:|---:|---:|---:|')
  const mb = kb => (Number(kb) / 1024).toFixed(1)
  for (const l of readFileSync(join(dir, 'memory.txt'), 'utf8').trim().split('\n')) {
    const [rt, n, procs, idle, idleAnon, busy, busyAnon, after, afterAnon] = l.split(' ')
    const perPod = ((busyAnon - idleAnon) / 1024 / n).toFixed(2)
    say(`| ${rt} | ${n} | ${procs} | ${mb(idle)} (${mb(idleAnon)}) | ${mb(busy)} (${mb(busyAnon)}) | ${mb(after)} (${mb(afterAnon)}) | ${perPod} |`)
  }
}
console.log(lines.join('\n'))
