#!/usr/bin/env bash
# lib-floor.sh - the library pod cycle against the C floor, this checkout and
# optionally another one (BASE=<checkout>), interleaved in ONE run: wall time
# and CPU time (user + system of the process and the children it reaped) per pod.
#
#   sudo bench/lib-floor.sh                          # N = 2 and 10, 3 warm-up + 15 counted rounds
#   sudo BASE=/path/to/older/checkout RUNS=20 bench/lib-floor.sh
#
# Each round runs, in an order rotated by one per round: one pod in this
# checkout's lib-driver.mjs (`await runPod()`, N containers of /bin/true, as
# run.sh's pl-lib), one in BASE's (when given; both drivers are this
# checkout's lib-driver.mjs, POD_LAUNCH_LIB picks the library), and one
# reference podfloor (`-n N -r ROOTFS -l`). CPU time of a lib pod: the
# driver's utime+stime+cutime+cstime (/proc/PID/stat) after minus before
# (10 ms ticks: read the medians of many pods); of the floor: bash's `times`
# for its child. Pods go under the cgroup parent pod-launch-bench-lib and a
# temporary state root, both removed at the end. Needs root, the reference
# bench's setup.sh (REF, default /work/shared/reference-bench) and a built checkout.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PLROOT=$(cd "$HERE/.." && pwd)
REF=${REF:-/work/shared/reference-bench}
NS=${NS:-2 10} RUNS=${RUNS:-15} WARMUP=${WARMUP:-3}
export BENCH_WORK=${BENCH_WORK:-${TMPDIR:-/tmp}/plbench-lib}
export POD_LAUNCH_NETWORK=none
CG=pod-launch-bench-lib
[[ $(id -u) == 0 ]] || { echo "lib-floor.sh: needs root" >&2; exit 1; }
"$REF/setup.sh" >/dev/null
STATE=$(mktemp -d /tmp/pl-lib-floor.XXXXXX)
TCK=$(getconf CLK_TCK)
names=(now) libs=("$PLROOT/dist/index.js")
[[ -n ${BASE:-} ]] && { names+=(base); libs+=("$(cd "$BASE" && pwd)/dist/index.js"); }
declare -A IN OUT PID
cleanup() {
  local d
  # EOF ends a driver; kill (ours, by pid) whatever still holds a copy of its stdin.
  for n in "${!IN[@]}"; do eval "exec ${IN[$n]}>&-" 2>/dev/null || true; done
  for n in "${!PID[@]}"; do kill "${PID[$n]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for d in /sys/fs/cgroup/*/$CG/ /sys/fs/cgroup/*/$CG; do rmdir "$d" 2>/dev/null || true; done
  rm -rf "$STATE" "$BENCH_WORK"
}
trap cleanup EXIT
for i in "${!names[@]}"; do
  n=${names[$i]}
  coproc D { POD_LAUNCH_LIB=${libs[$i]} exec node "$HERE/lib-driver.mjs" "$STATE" "$CG"; } 2>/dev/null
  exec {fi}>&"${D[1]}" {fo}<&"${D[0]}"
  IN[$n]=$fi OUT[$n]=$fo PID[$n]=$D_PID
  eval "exec ${D[1]}>&- ${D[0]}<&-"
done
for n in $NS; do
  jq -n --argjson n "$n" '{apiVersion: "v1", kind: "Pod", metadata: {name: "bench-n\($n)"}, spec: {restartPolicy: "Never",
    containers: [range(1; $n + 1) | {name: "c\(.)", image: "host", command: ["/bin/true"]}]}}' >"$STATE/pod-n$n.json"
done
# CPU of a driver in microseconds: its threads' time on CPU (schedstat, ns) + its reaped children's (ticks).
cpu() {
  local t ns=0 a
  for t in /proc/$1/task/*/schedstat; do read -r a _ <"$t" && ns=$((ns + a)); done
  echo $((ns / 1000 + $(awk '{print $16 + $17}' "/proc/$1/stat") * 1000000 / TCK))
}
ms() { local a=${1/./} b=${2/./} us; us=$((10#$b - 10#$a)); printf '%d.%03d' $((us / 1000)) $((us % 1000)); }
lib() { # NAME N
  local c0 c1 t0 t1 line
  c0=$(cpu "${PID[$1]}"); t0=$EPOCHREALTIME
  echo "run $STATE/pod-n$2.json" >&"${IN[$1]}"; IFS= read -r line <&"${OUT[$1]}"
  t1=$EPOCHREALTIME; c1=$(cpu "${PID[$1]}")
  [[ $line == *phase=Succeeded* ]] || { echo "lib-floor.sh: $1: $line" >&2; exit 1; }
  echo "$2 $1 $(ms "$t0" "$t1") $(((c1 - c0) / 1000))"
}
# The floor's CPU: the `times` builtin's children line (run in this shell, no subshell) after minus before.
floor() { # N
  local t0 t1 a b
  times >"$STATE/times"; a=$(tail -n 1 "$STATE/times")
  t0=$EPOCHREALTIME; "$BENCH_WORK/bin/podfloor" -n "$1" -r "$BENCH_WORK/rootfs" -l >/dev/null; t1=$EPOCHREALTIME
  times >"$STATE/times"; b=$(tail -n 1 "$STATE/times")
  echo "$1 floor $(ms "$t0" "$t1") $(awk -v a="$a" -v b="$b" 'function c(s, x) { split(s, x, /[ ms]+/); return (x[1] + x[3]) * 60000 + (x[2] + x[4]) * 1000 } BEGIN { printf "%d", c(b) - c(a) }')"
}
echo "lib-floor.sh: $(node --version), kernel $(uname -r), $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg), RUNS=$RUNS NS=\"$NS\"${BASE:+ BASE=$BASE}" >&2
runners=("${names[@]}" floor)
samples=$(
  for n in $NS; do
    for ((r = 1 - WARMUP; r <= RUNS; r++)); do
      for ((k = 0; k < ${#runners[@]}; k++)); do
        x=${runners[$(((k + r + WARMUP) % ${#runners[@]}))]}
        if [[ $x == floor ]]; then line=$(floor "$n"); else line=$(lib "$x" "$n"); fi
        ((r > 0)) && echo "$line"
      done
    done
  done
)
echo "lib-floor.sh: load after $(cut -d' ' -f1-3 /proc/loadavg)" >&2
node -e '
const rows = require("fs").readFileSync(0, "utf8").trim().split("\n").map(l => l.split(" "))
const med = a => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 }
const mean = a => a.reduce((x, y) => x + y, 0) / a.length
console.log("| N | runner | wall median ms | CPU mean ms | wall / floor | CPU / floor |\n|---|---|---:|---:|---:|---:|")
for (const n of [...new Set(rows.map(r => r[0]))]) {
  const of = who => rows.filter(r => r[0] === n && r[1] === who)
  const f = of("floor"), fw = med(f.map(r => +r[2])), fc = mean(f.map(r => +r[3]))
  for (const who of [...new Set(rows.map(r => r[1]))]) {
    const s = of(who), w = med(s.map(r => +r[2])), c = mean(s.map(r => +r[3]))
    console.log(`| ${n} | ${who} (${s.length}) | ${w.toFixed(1)} | ${c.toFixed(1)} | ${(w / fw).toFixed(2)} | ${(c / fc).toFixed(2)} |`)
  }
}' <<<"$samples"
