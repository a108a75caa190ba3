#!/usr/bin/env bash
# start.sh - the CLI's fixed cost: `pod-launch --version` and `pod-launch ps`
# (no pods) against `node -e 0`, in ONE run, interleaved (every command once
# per repetition, order rotated). With BASE=<another checkout>, its CLI runs in
# the same repetitions (before/after). Per command: median wall ms, median CPU
# ms (user + system of the child, from wait4: steadier than wall time on a busy
# machine), CPU above `node -e 0`, and peak RSS. Nothing is made: ps reads an
# empty state root. Run it as root (ps checks for root) under the shared lock.
#
#   sudo bench/start.sh
#   sudo RUNS=40 BASE=/work/main bench/start.sh
#
# Environment: RUNS=30 WARMUP=3, BASE (a built checkout to compare), OUT
# (default bench/results/start-<UTC time>/: samples.json and report.txt).
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
PLROOT=${PLROOT:-$(cd "$BENCH/.." && pwd)}
OUT=${OUT:-$BENCH/results/start-$(date -u +%Y%m%dT%H%M%SZ)}
[[ -f $PLROOT/dist/cli/main.js ]] || { echo "start.sh: pod-launch is not built in $PLROOT (npm ci)" >&2; exit 1; }
empty=$(mktemp -d /tmp/pl-start-XXXXXX)
trap 'rm -rf "$empty"' EXIT
mkdir -p "$OUT"
RUNS=${RUNS:-30} WARMUP=${WARMUP:-3} python3 - "$PLROOT" "${BASE:-}" "$empty" "$OUT" <<'EOF' | tee "$OUT/report.txt"
import json, os, statistics, subprocess, sys, time
root, base, empty, out = sys.argv[1:5]
runs, warmup = int(os.environ['RUNS']), int(os.environ['WARMUP'])
node = 'node'
cmds = [('node -e 0', [node, '-e', '0'])]
for label, r in [('', root)] + ([('base ', base)] if base else []):
    bin_ = os.path.join(r, 'bin', 'pod-launch')
    cmds += [(f'{label}pod-launch --version', [node, bin_, '--version']),
             (f'{label}pod-launch ps', [node, bin_, '--root', empty, 'ps'])]
for name, argv in cmds:
    print('+', ' '.join(argv), file=sys.stderr)
samples = {name: [] for name, _ in cmds}
devnull = os.open(os.devnull, os.O_WRONLY)
for rep in range(warmup + runs):
    n = len(cmds)
    for k in range(n):
        name, argv = cmds[(k + rep) % n]
        t0 = time.perf_counter()
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)])
        _, status, ru = os.wait4(pid, 0)
        wall = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f'start.sh: {" ".join(argv)} failed ({status})')
        if rep >= warmup:
            samples[name].append({'wall': wall * 1000, 'cpu': (ru.ru_utime + ru.ru_stime) * 1000, 'rss': ru.ru_maxrss / 1024})
json.dump(samples, open(os.path.join(out, 'samples.json'), 'w'), indent=1)
med = lambda xs: statistics.median(xs)
cpu0 = med([s['cpu'] for s in samples['node -e 0']])
print(f'{runs} runs each, interleaved; {os.uname().release}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}')
print('| command | wall median ms | CPU median ms | CPU above node -e 0 | peak RSS MB |')
print('|---|---:|---:|---:|---:|')
for name, _ in cmds:
    s = samples[name]
    c = med([x['cpu'] for x in s])
    above = '-' if name == 'node -e 0' else f'{c - cpu0:+.1f}'
    print(f"| {name} | {med([x['wall'] for x in s]):.1f} | {c:.1f} | {above} | {med([x['rss'] for x in s]):.0f} |")
EOF
echo "start.sh: results in $OUT" >&2
