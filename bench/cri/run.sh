#!/usr/bin/env bash
# critest on this machine against Debian's containerd (1.6, its CRI plugin,
# runc) and against `pod-launch cri`, driven the same way in one run:
#   - validation: passed / failed / skipped per runtime: pod-launch with the
#     Go lane's skip list (test/go-lane/critest-skips.txt), containerd without
#     it (every spec containerd passes here is pod-launch's goal);
#   - `critest --benchmark`: median latency of each pod and container
#     lifecycle step, and the ratio pod-launch / containerd;
#   - memory: PSS of the runtime's own processes (containerd + its shims;
#     pod-launch cri + its shims: never pause nor a container) with 50
#     sandboxes running.
# As root, under the shared lock: flock /work/.itest.lock bench/cri/run.sh
#   RUNTIMES="containerd pod-launch"  BENCH_PODS=20  MEM_PODS=50  BENCHMARK=1
# Writes bench/cri/results/<UTC time>/ (git-ignored) and prints the tables.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNTIMES="${RUNTIMES:-containerd pod-launch}"
BENCH_PODS="${BENCH_PODS:-20}"
MEM_PODS="${MEM_PODS:-50}"
BENCHMARK="${BENCHMARK:-1}"
eval "$(bash scripts/go-lane.sh --prepare)"
# shellcheck source=bench/cri/env.sh
. bench/cri/env.sh
out="bench/cri/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
W="$(mktemp -d -t pl-cri-bench.XXXXXX)"
trap 'cri_cleanup; rm -rf "$W"' EXIT
registry_start

skips=()
while read -r line; do
  re="${line%%#*}"
  re="$(echo "$re" | sed 's/[[:space:]]*$//')"
  [ -n "$re" ] && skips+=(-ginkgo.skip "$re")
done <test/go-lane/critest-skips.txt

cat >"$W/bench-params.yaml" <<EOF
podsNumber: $BENCH_PODS
podsNumberParallel: 1
podBenchmarkTimeoutSeconds: 600
containersNumber: $BENCH_PODS
containersNumberParallel: 1
containerBenchmarkTimeoutSeconds: 600
imagesNumber: 5
imagesNumberParallel: 1
imageBenchmarkTimeoutSeconds: 600
podContainerStartBenchmarkTimeoutSeconds: 600
EOF

pss_of() { # PIDS...: summed Pss in kB
  local sum=0 p v
  for p in "$@"; do
    v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    sum=$((sum + ${v:-0}))
  done
  echo "$sum"
}

runtime_pids() { # RUNTIME: the runtime's own processes (never pause nor a container)
  case "$1" in
    containerd) cat "$W/containerd/pid"; pgrep -f "containerd-shim-runc-v2 .*-address $W/containerd/containerd.sock" || true ;;
    pod-launch) cat "$W/pod-launch/pid"; pgrep -f "pod-launch-shim .*$W/pod-launch/root" || true ;;
  esac
}

memory_run() { # RUNTIME
  local rt="$1" i ids=() idle
  idle=$(pss_of $(runtime_pids "$rt"))
  for ((i = 0; i < MEM_PODS; i++)); do
    printf '{"metadata":{"name":"mem-%d","uid":"mem-uid-%d","namespace":"bench","attempt":1},"linux":{},"log_directory":"%s/logs/mem-%d"}\n' \
      "$i" "$i" "$W" "$i" >"$W/mem-pod.json"
    ids+=("$("$POD_LAUNCH_CRICTL" -r "$ENDPOINT" runp "$W/mem-pod.json")")
  done
  sleep 2
  local pids
  pids=$(runtime_pids "$rt")
  echo "$rt $MEM_PODS $idle $(pss_of $pids) $(echo "$pids" | wc -l)" >>"$out/memory.txt"
  "$POD_LAUNCH_CRICTL" -r "$ENDPOINT" rmp -f "${ids[@]}" >/dev/null
}

for rt in $RUNTIMES; do
  case "$rt" in
    containerd) containerd_start ;;
    pod-launch) podlaunch_start ;;
    *) echo "unknown runtime $rt" >&2; exit 2 ;;
  esac
  if [ "$rt" = containerd ]; then critest_run "$rt" "$ENDPOINT" | tee -a "$out/critest.txt"; else critest_run "$rt" "$ENDPOINT" "${skips[@]}" | tee -a "$out/critest.txt"; fi
  if [ "$BENCHMARK" = 1 ]; then
    mkdir -p "$W/bench-$rt"
    critest_run "$rt-benchmark" "$ENDPOINT" -benchmark -benchmarking-params-file "$W/bench-params.yaml" -benchmarking-output-dir "$W/bench-$rt" >/dev/null || true
    cp "$W"/bench-"$rt"/*.json "$out/" 2>/dev/null && for f in "$out"/*_benchmark_data.json; do [ -e "$f" ] && mv "$f" "${f%.json}-$rt.json"; done
  fi
  [ "$MEM_PODS" -gt 0 ] && memory_run "$rt"
  for n in "$rt" "$rt-benchmark"; do
    [ -f "$W/$n.json" ] && cp "$W/$n.json" "$W/$n.log" "$out/" && critest_states "$n" >"$out/$n.states"
  done
  case "$rt" in containerd) containerd_stop ;; pod-launch) podlaunch_stop ;; esac
done

node bench/cri/report.mjs "$out" | tee "$out/README.md"
