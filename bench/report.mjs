// report.mjs - the tables of one bench run, from loop.sh's files.
//
//   node bench/report.mjs OUT_DIR    (reads samples.tsv and rss.tsv there)
//
// Prints Markdown: per N and runtime the median / p90 / min of the whole pod
// cycle (wall time, timed from outside), then the ratios of medians
// (pod-launch / crun, / runc, / floor) with the median of the per-repetition
// ratios beside them (each repetition runs every runtime back to back, so
// that ratio shares the machine's mood of the moment), then where
// pod-launch's time goes, then peak RSS. Warm-up repetitions (rep <= 0) are
// left out.
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'

const out = process.argv[2]
if (!out) {
  process.stderr.write('usage: report.mjs OUT_DIR\n')
  process.exit(2)
}

const kv = s => Object.fromEntries((s.match(/\w+=[^\s]+/g) ?? []).map(p => p.split('=')))
const rows = readFileSync(join(out, 'samples.tsv'), 'utf8').trim().split('\n').slice(1)
  .map(l => l.split('\t'))
  .map(([n, rep, rt, wall, own]) => ({ n: Number(n), rep: Number(rep), rt, wall: Number(wall), own: kv(own ?? '') }))
  .filter(r => r.rep > 0 && r.rt !== 'mem')

const sorted = xs => [...xs].sort((a, b) => a - b)
const median = xs => {
  const s = sorted(xs)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const p90 = xs => sorted(xs)[Math.max(0, Math.ceil(0.9 * xs.length) - 1)] // nearest rank
const f1 = x => (Number.isFinite(x) ? x.toFixed(1) : '-')
const f2 = x => (Number.isFinite(x) ? x.toFixed(2) : '-')

const ns = [...new Set(rows.map(r => r.n))]
const of = (n, rt) => rows.filter(r => r.n === n && r.rt === rt)
const walls = (n, rt) => of(n, rt).map(r => r.wall)
const owns = (n, rt, key) => of(n, rt).map(r => Number(r.own[key])).filter(Number.isFinite)

const LABEL = {
  'pl-cli': 'pod-launch CLI (`node bin/pod-launch run`, one process per pod)',
  'pl-lib': 'pod-launch library (`await runPod()` in one Node process)',
  'pl-hold': 'pod-launch library, pod.sh\'s shape (sleep members: `startPod()`, then `stop({force: true})`)',
  crun: 'crun 1.8.1 (reference pod.sh)',
  runc: 'runc 1.1.5 (reference pod.sh)',
  floor: 'C floor (podfloor -r ROOTFS -l)',
  harness: 'pod.sh with a do-nothing runtime (bash harness alone)',
  'pl-libload': 'Node start-up + import of dist/index.js (no pod)',
  node0: '`node -e 0` (Node start-up alone)',
  'pl-load': '`pod-launch --version`: the CLI loaded, no pod',
}
const order = ['pl-cli', 'pl-lib', 'pl-hold', 'crun', 'runc', 'floor', 'harness', 'node0', 'pl-libload', 'pl-load']
const lines = []
const p = s => lines.push(s)

const reps = Math.max(...ns.map(n => walls(n, 'crun').length))
p(`Repetitions counted per runtime and N: ${reps} (warm-up left out). Times in ms, wall clock of one whole pod cycle (up + down) timed from outside the process; "own" = the runtime's own up+down figure where it prints one (pod.sh total_ms excludes bash start-up; lib-driver total_ms is the runPod() call).`)
p('')
p('| N | runtime | median | p90 | min | own median |')
p('|---|---|---:|---:|---:|---:|')
for (const n of ns) {
  for (const rt of order) {
    const w = walls(n, rt)
    if (w.length === 0) continue
    const own = owns(n, rt, 'total_ms')
    p(`| ${n} | ${LABEL[rt] ?? rt} | ${f1(median(w))} | ${f1(p90(w))} | ${f1(Math.min(...w))} | ${own.length ? f1(median(own)) : '-'} |`)
  }
}
p('')
p('Ratios (ratio of the medians; in brackets the median of the per-repetition ratios; the last two columns take the median of pod.sh with the do-nothing runtime off crun\'s and runc\'s medians, i.e. the runtime binaries alone, without what bash costs):')
p('')
p('| N | pod-launch driven as | / crun | / runc | / floor | / (crun - bash harness) | / (runc - bash harness) |')
p('|---|---|---:|---:|---:|---:|---:|')
const paired = (n, a, b) => {
  const A = of(n, a), B = of(n, b)
  const rs = A.map(x => B.find(y => y.rep === x.rep)).map((y, i) => (y ? A[i].wall / y.wall : NaN)).filter(Number.isFinite)
  return rs.length ? median(rs) : NaN
}
for (const n of ns) {
  for (const pl of ['pl-cli', 'pl-lib', 'pl-hold']) {
    if (!walls(n, pl).length) continue
    const cells = ['crun', 'runc', 'floor'].map(d => (walls(n, d).length ? `${f2(median(walls(n, pl)) / median(walls(n, d)))} (${f2(paired(n, pl, d))})` : '-'))
    const how = { 'pl-cli': 'CLI, one process per pod', 'pl-lib': 'library, one long-lived process', 'pl-hold': 'library, sleep members killed (pod.sh\'s shape)' }[pl]
    const h = median(walls(n, 'harness'))
    const net = ['crun', 'runc'].map(d => (walls(n, d).length && Number.isFinite(h) ? f2(median(walls(n, pl)) / (median(walls(n, d)) - h)) : '-'))
    p(`| ${n} | ${how} | ${cells.join(' | ')} | ${net.join(' | ')} |`)
  }
}
p('')

// Where pod-launch's time goes.
p('Where pod-launch\'s time goes (medians, ms):')
p('')
p('| N | CLI wall | node -e 0 | + CLI fixed cost (`--version`) | library runPod() | = sandbox (state dir, cgroups, pause) | + N container starts (per container) | + /bin/true exit, statuses | + teardown | CLI - library | CLI - library - node -e 0 |')
p('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
for (const n of ns) {
  const cli = median(walls(n, 'pl-cli')), node0 = median(walls(n, 'node0')), load = median(walls(n, 'pl-load'))
  const lib = median(owns(n, 'pl-lib', 'total_ms'))
  const sb = median(owns(n, 'pl-lib', 'sandbox_ms')), sp = median(owns(n, 'pl-lib', 'spawn_ms'))
  const run = median(owns(n, 'pl-lib', 'run_ms')), down = median(owns(n, 'pl-lib', 'down_ms'))
  p(`| ${n} | ${f1(cli)} | ${f1(node0)} | ${f1(load - node0)} | ${f1(lib)} | ${f1(sb)} | ${f1(sp)} (${f1(sp / n)}) | ${f1(run)} | ${f1(down)} | ${f1(cli - lib)} | ${f1(cli - lib - node0)} |`)
}
p('')
p('Up / down split where the same shape is measured: members that keep running until the pod is killed (medians, ms; pod.sh, podfloor and lib-driver\'s hold mode print it):')
p('')
p('| N | runtime | up | down | per member (up / (N+1)) |')
p('|---|---|---:|---:|---:|')
for (const n of ns) {
  for (const rt of ['crun', 'runc', 'floor', 'pl-hold']) {
    const up = median(owns(n, rt, 'up_ms')), down = median(owns(n, rt, 'down_ms'))
    if (Number.isFinite(up)) p(`| ${n} | ${rt} | ${f1(up)} | ${f1(down)} | ${f1(up / (n + 1))} |`)
  }
}
p('')

// Peak RSS.
const rssFile = join(out, 'rss.tsv')
if (existsSync(rssFile)) {
  const rss = readFileSync(rssFile, 'utf8').trim().split('\n').slice(1).map(l => l.split('\t'))
  const by = rt => rss.filter(r => r[0] === rt).map(r => Number(r[3]))
  const libRows = rows.filter(r => r.rt === 'pl-lib')
  const allLib = readFileSync(join(out, 'samples.tsv'), 'utf8').trim().split('\n').slice(1).map(l => l.split('\t')).filter(r => r[2] === 'pl-lib' || r[2] === 'pl-hold').map(r => kv(r[4]))
  if (rss.length) {
    const rn = rss[0][1]
    p(`Peak RSS (KB, median of ${by('crun').length} runs at N=${rn}; ru_maxrss of the largest single process):`)
    p('')
    p('| process | peak RSS KB |')
    p('|---|---:|')
    const row = (label, rt) => by(rt).length && p(`| ${label} | ${Math.round(median(by(rt)))} |`)
    row('pod-launch CLI: the node process (pause and containers are its children)', 'pl-cli')
    row('crun pod via pod.sh: largest of bash and the crun invocations', 'crun')
    row('runc pod via pod.sh: largest of bash and the runc invocations', 'runc')
    row('pod.sh with the do-nothing stub runtime (bash alone)', 'harness')
    row('C floor: podfloor', 'floor')
    row('`node -e 0`', 'node0')
    if (allLib.length) {
      const first = allLib[0], last = allLib[allLib.length - 1]
      p(`| pod-launch library: the long-lived process, VmHWM after all ${allLib.length} pods (both N) | ${last.hwm_kb} |`)
      p(`| pod-launch library: RSS after its first pod / after its last pod | ${first.rss_kb} / ${last.rss_kb} |`)
    }
    void libRows
  }
}
const memRows = readFileSync(join(out, 'samples.tsv'), 'utf8').trim().split('\n').slice(1).map(l => l.split('\t')).filter(r => r[2] === 'mem')
if (memRows.length === 2) {
  const [a, b] = memRows.map(r => kv(r[4]))
  p('')
  p(`Library process over many pods (N=${memRows[0][0]}, after a full GC${a.gc === 'yes' ? '' : ' - not available'}): heap ${a.heap_kb} KB, external ${a.external_kb} KB, RSS ${a.rss_kb} KB, ${a.fds} open fds after ${a.pods} pods; heap ${b.heap_kb} KB, external ${b.external_kb} KB, RSS ${b.rss_kb} KB, ${b.fds} open fds after ${b.pods} pods (${Number(b.pods) - Number(a.pods)} more: RSS ${Math.round((Number(b.rss_kb) - Number(a.rss_kb)) / (Number(b.pods) - Number(a.pods)))} KB per pod).`)
}
process.stdout.write(lines.join('\n') + '\n')
