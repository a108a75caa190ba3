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
#   RUNTIMES="containerd pod-launch"  BENCH_PODS=20  MEM_PODS=50  BENCHMARK=1  VALIDATE=1
# Writes bench/cri/results/<UTC time>/ (git-ignored) and prints the tables.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNTIMES="${RUNTIMES:-containerd pod-launch}"
BENCH_PODS="${BENCH_PODS:-20}"
MEM_PODS="${MEM_PODS:-50}"
BENCHMARK="${BENCHMARK:-1}"
VALIDATE="${VALIDATE:-1}"
eval "$(bash scripts/go-lane.sh --prepare)"
# shellcheck source=bench/cri/env.sh
. bench/cri/env.sh
out="bench/cri/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
W="$(mktemp -d -t pl-cri-bench.XXXXXX)"
trap 'set +e; cri_cleanup; rm -rf "$W"' EXIT
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
# critest's defaults are public.ecr.aws images: these come from the local mirror instead.
imagePullingBenchmarkImage: gcr.io/k8s-staging-cri-tools/test-image-tags:1
imageListingBenchmarkImages:
  - gcr.io/k8s-staging-cri-tools/test-image-tags:1
  - gcr.io/k8s-staging-cri-tools/test-image-tags:2
  - gcr.io/k8s-staging-cri-tools/test-image-tags:3
podContainerStartBenchmarkTimeoutSeconds: 600
EOF

# shellcheck source=bench/lib.sh
. bench/lib.sh # pss_of

runtime_pids() { # RUNTIME: the runtime's own processes (never pause nor a container)
  case "$1" in
    containerd) cat "$W/containerd/pid"; pgrep -f "containerd-shim-runc-v2 .*-address $W/containerd/containerd.sock" || true ;;
    pod-launch) cat "$W/pod-launch/pid"; pgrep -f "pod-launch-shim .*$W/pod-launch/root" || true ;;
  esac
}

mem_pods() { # FIRST COUNT: run sandboxes mem-FIRST.. (ids appended to $W/mem-ids)
  local i
  for ((i = $1; i < $1 + $2; i++)); do
    printf '{"metadata":{"name":"mem-%d","uid":"mem-uid-%d","namespace":"bench","attempt":1},"linux":{"cgroup_parent":"/%s"},"log_directory":"%s/logs/mem-%d"}\n' \
      "$i" "$i" "$MEM_CGROUP_PARENT" "$W" "$i" >"$W/mem-pod.json"
    "$POD_LAUNCH_CRICTL" -t 120s -r "$ENDPOINT" runp "$W/mem-pod.json" >>"$W/mem-ids"
  done
}

mem_rmp() { # every sandbox of $W/mem-ids removed
  # shellcheck disable=SC2046
  "$POD_LAUNCH_CRICTL" -t 600s -r "$ENDPOINT" rmp -f $(cat "$W/mem-ids") >/dev/null
  rm -f "$W/mem-ids"
}

# memory_run RUNTIME: PSS and Pss_Anon idle (after a warm-up of 5 sandboxes made and removed:
# the first sandbox loads code and pages either runtime keeps), with MEM_PODS sandboxes, and
# after they are removed; a line "RUNTIME N PROCESSES IDLE BUSY AFTER" in memory.txt, each of
# IDLE, BUSY, AFTER as "PSS_KB PSS_ANON_KB".
memory_run() {
  local rt="$1" idle busy after pids
  mem_pods 0 5
  mem_rmp
  sleep 3
  idle=$(pss_of $(runtime_pids "$rt"))
  mem_pods 0 "$MEM_PODS"
  sleep 3
  pids=$(runtime_pids "$rt")
  busy=$(pss_of $pids)
  mem_rmp
  sleep 3
  after=$(pss_of $(runtime_pids "$rt"))
  echo "$rt $MEM_PODS $(echo "$pids" | wc -l) $idle $busy $after" >>"$out/memory.txt"
}

for rt in $RUNTIMES; do
  case "$rt" in
    containerd) containerd_start ;;
    pod-launch) podlaunch_start ;;
    *) echo "unknown runtime $rt" >&2; exit 2 ;;
  esac
  if [ "$VALIDATE" = 1 ]; then
    if [ "$rt" = containerd ]; then critest_run "$rt" "$ENDPOINT" | tee -a "$out/critest.txt"; else critest_run "$rt" "$ENDPOINT" "${skips[@]}" | tee -a "$out/critest.txt"; fi
  fi
  if [ "$BENCHMARK" = 1 ]; then
    mkdir -p "$W/bench-$rt"
    critest_run "$rt-benchmark" "$ENDPOINT" -benchmark -benchmarking-params-file "$W/bench-params.yaml" -benchmarking-output-dir "$W/bench-$rt" | tee -a "$out/benchmark.txt" || true
    cp "$W"/bench-"$rt"/*.json "$out/" 2>/dev/null && for f in "$out"/*_benchmark_data.json; do [ -e "$f" ] && mv "$f" "${f%.json}-$rt.json"; done
  fi
  [ "$MEM_PODS" -gt 0 ] && memory_run "$rt"
  for n in "$rt" "$rt-benchmark"; do
    [ -f "$W/$n.json" ] && cp "$W/$n.json" "$W/$n.log" "$out/" && critest_states "$n" >"$out/$n.states"
  done
  case "$rt" in containerd) containerd_stop ;; pod-launch) podlaunch_stop ;; esac
done

node bench/cri/report.mjs "$out" | tee "$out/README.md"
