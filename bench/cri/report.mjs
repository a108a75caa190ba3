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
if (existsSync(join(dir, 'critest.txt'))) {
  say('| run | passed | failed | skipped | specs |')
  say('|---|---:|---:|---:|---:|')
  for (const l of readFileSync(join(dir, 'critest.txt'), 'utf8').trim().split('\n')) {
    const m = /^(\S+): (\d+) passed, (\d+) failed, (\d+) skipped \(of (\d+)\)/.exec(l)
    if (m) say(`| ${m[1]} | ${m[2]} | ${m[3]} | ${m[4]} | ${m[5]} |`)
  }
  say('')
}

// Specs containerd passes here that pod-launch does not (the goal).
const states = f => (existsSync(f) ? new Map(readFileSync(f, 'utf8').trim().split('\n').map(l => l.split('\t').reverse())) : new Map())
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
    ;((bench[`${kind} ${op}`] ??= {})[rt] = ms)
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
  say('Memory: PSS of the runtime\'s own processes (never pause nor a container)\n')
  say('| runtime | sandboxes | idle MB | with sandboxes MB | per sandbox MB | processes |')
  say('|---|---:|---:|---:|---:|---:|')
  for (const l of readFileSync(join(dir, 'memory.txt'), 'utf8').trim().split('\n')) {
    const [rt, n, idle, busy, procs] = l.split(' ')
    say(`| ${rt} | ${n} | ${(idle / 1024).toFixed(1)} | ${(busy / 1024).toFixed(1)} | ${((busy - idle) / 1024 / n).toFixed(2)} | ${procs} |`)
  }
}
console.log(lines.join('\n'))
