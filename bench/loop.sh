#!/usr/bin/env bash
# loop.sh - the measuring loop of bench/run.sh. Do not call it directly: run.sh
# starts it through the reference with-view.sh (under the reference subreaper
# and, on this hybrid host, in the private mount namespace where crun accepts
# the cgroup layout), so every runtime, pod-launch included, runs in the same
# view, like bench-pod.sh's timer.
#
# For each N in $NS, $WARMUP + $RUNS repetitions; in each repetition every
# runtime runs one whole pod cycle, in an order rotated by one per repetition
# (no runtime always goes first or right after another one). Each cycle is
# timed from outside with bash's $EPOCHREALTIME (no fork for the clock), and
# its own figures (pod.sh / podfloor / lib-driver line) are kept beside it.
#
# Output: $OUT/samples.tsv  n rep runtime wall_ms own-line
#         $OUT/rss.tsv      runtime n try maxrss_kb   (peak RSS, N = $RSS_N)
#         $OUT/commands.txt every command run, in order
set -euo pipefail
: "${OUT:?}" "${BENCH_WORK:?}" "${REF:?}" "${PLROOT:?}" "${PLSTATE:?}" "${PLCG:?}" "${PLWORK:?}"
NS=${NS:-2 10} RUNS=${RUNS:-15} WARMUP=${WARMUP:-2} RSS_N=${RSS_N:-10} RSS_TRIES=${RSS_TRIES:-3}
LEAK_PODS=${LEAK_PODS:-100}
RUNTIMES=${RUNTIMES:-crun runc floor harness pl-cli pl-lib pl-hold node0 pl-libload pl-load}
HERE=$(cd "$(dirname "$0")" && pwd)
PODFLOOR=$BENCH_WORK/bin/podfloor
tmp=$OUT/last.log
: >"$OUT/samples.tsv"
: >"$OUT/commands.txt"
printf 'n\trep\truntime\twall_ms\town\n' >>"$OUT/samples.tsv"

# The library driver: one Node process for the whole run, one request per pod.
coproc LIB { exec node --expose-gc "$HERE/lib-driver.mjs" "$PLSTATE" "$PLCG" 2>>"$OUT/lib-driver.stderr"; }
lib_in=${LIB[1]} lib_out=${LIB[0]} lib_pid=$LIB_PID
stop_lib() { exec {lib_in}>&- 2>/dev/null || true; wait "$lib_pid" 2>/dev/null || true; }
trap stop_lib EXIT

# cmd_of RUNTIME N: the command of one pod cycle, into the array CMD.
cmd_of() {
  case $1 in
    crun | runc) CMD=("$REF/pod.sh" "$1" "$2") ;;
    floor) CMD=("$PODFLOOR" -n "$2" -r "$BENCH_WORK/rootfs" -l) ;;
    # pod.sh with the reference's do-nothing runtime: what bash and pod.sh add to crun/runc
    harness) CMD=("$REF/pod.sh" "$BENCH_WORK/bin/stubrt" "$2") ;;
    pl-cli) CMD=(node "$PLROOT/bin/pod-launch" run --root "$PLSTATE" --cgroup-parent "$PLCG" "$PLWORK/pod-n$2.json") ;;
    pl-lib) CMD=(lib-driver run "$PLWORK/pod-n$2.json") ;;
    # pod.sh's shape: members keep running (sleep) until the pod is stopped (SIGKILL)
    pl-hold) CMD=(lib-driver hold "$PLWORK/pod-n$2-sleep.json") ;;
    node0) CMD=(node -e 0) ;;   # Node's own start-up, nothing loaded
    # Node start-up + loading the library (dist/index.js, the addon not yet), no pod
    pl-libload) CMD=(node --input-type=module -e "await import('$PLROOT/dist/index.js')") ;;
    # the CLI as users run it (bin/pod-launch: the bundle from its code cache, yargs), no pod: its fixed cost
    pl-load) CMD=(node "$PLROOT/bin/pod-launch" --version) ;;
    *) echo "loop.sh: unknown runtime $1" >&2; exit 2 ;;
  esac
}

# ms T0 T1: milliseconds (3 decimals) between two $EPOCHREALTIME stamps.
ms() { local a=${1/./} b=${2/./} us; us=$((10#$b - 10#$a)); printf '%d.%03d' $((us / 1000)) $((us % 1000)); }

# measure RUNTIME N REP: one timed cycle; appends a line to samples.tsv.
measure() {
  local rt=$1 n=$2 rep=$3 t0 t1 own rc=0
  cmd_of "$rt" "$n"
  echo "+ ${CMD[*]}" >>"$OUT/commands.txt"
  ((rep > 1 - WARMUP)) || echo "+ ${CMD[*]}" >&2      # show each command once per N
  if [[ ${CMD[0]} == lib-driver ]]; then
    t0=$EPOCHREALTIME
    echo "${CMD[1]} ${CMD[2]}" >&"$lib_in"
    IFS= read -r own <&"$lib_out" || { echo "loop.sh: lib-driver died" >&2; cat "$OUT/lib-driver.stderr" >&2; exit 1; }
    t1=$EPOCHREALTIME
    [[ $own != *error=* ]] || { echo "loop.sh: $own" >&2; exit 1; }
  else
    t0=$EPOCHREALTIME
    "${CMD[@]}" </dev/null >"$tmp" 2>&1 || rc=$?
    t1=$EPOCHREALTIME
    if ((rc != 0)); then
      echo "loop.sh: $rt n=$n failed (exit $rc):" >&2; cat "$tmp" >&2; exit 1
    fi
    case $rt in
      pl-cli) grep -q "Succeeded" "$tmp" || { echo "loop.sh: pod-launch did not succeed:" >&2; cat "$tmp" >&2; exit 1; }
              own='-' ;;
      crun | runc | floor | harness) own=$(grep -E '^(pod|podfloor) ' "$tmp" | tail -n 1) ;;
      *) own='-' ;;
    esac
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$n" "$rep" "$rt" "$(ms "$t0" "$t1")" "$own" >>"$OUT/samples.tsv"
}

read -ra rts <<<"$RUNTIMES"
k=${#rts[@]}
for n in $NS; do
  echo "== N=$n: $WARMUP warm-up + $RUNS counted repetitions of: ${rts[*]}" >&2
  for ((rep = 1 - WARMUP; rep <= RUNS; rep++)); do
    order=()
    for ((j = 0; j < k; j++)); do order+=("${rts[(j + rep + WARMUP + k * 4) % k]}"); done
    for rt in "${order[@]}"; do measure "$rt" "$n" "$rep"; done
    tag=$rep; ((rep > 0)) || tag="warm-up"
    printf '   rep %s: %s\n' "$tag" \
      "$(awk -F'\t' -v n="$n" -v r="$rep" '$1 == n && $2 == r { printf "%s=%.0f ", $3, $4 }' "$OUT/samples.tsv")" >&2
  done
done

# The library process over many pods: heap and RSS after a full GC, before and
# after LEAK_PODS more pods of N = RSS_N (not timed).
if ((LEAK_PODS > 0)); then
  echo "== library memory: $LEAK_PODS more pods (N=$RSS_N) in the same process, heap after GC before/after" >&2
  mem() { echo "mem" >&"$lib_in"; IFS= read -r own <&"$lib_out"; printf '%s\t%s\tmem\t-\t%s\n' "$RSS_N" "$1" "$own" >>"$OUT/samples.tsv"; echo "   $own" >&2; }
  mem 0
  for ((i = 1; i <= LEAK_PODS; i++)); do
    echo "run $PLWORK/pod-n$RSS_N.json" >&"$lib_in"; IFS= read -r own <&"$lib_out"
    [[ $own != *error=* ]] || { echo "loop.sh: $own" >&2; exit 1; }
  done
  mem "$LEAK_PODS"
fi

# Peak RSS for N = RSS_N, from the kernel's accounting of reaped children
# (GNU time's %M = ru_maxrss: the largest single process, in KB).
#   pl-cli: the node process (its pause and /bin/true children are tiny)
#   crun/runc: the largest of pod.sh's processes: bash or one runtime
#              invocation (the containers are orphaned to the subreaper and
#              not counted)
#   floor: podfloor (its busybox children are tiny)
# The library process's own peak (VmHWM) is in its lines of samples.tsv.
printf 'runtime\tn\ttry\tmaxrss_kb\n' >"$OUT/rss.tsv"
if [[ -x /usr/bin/time ]]; then
  echo "== peak RSS, N=$RSS_N, $RSS_TRIES tries each (/usr/bin/time -f %M)" >&2
  for ((try = 1; try <= RSS_TRIES; try++)); do
    for rt in crun runc floor pl-cli node0; do
      cmd_of "$rt" "$RSS_N"
      ((try > 1)) || echo "+ /usr/bin/time -f %M ${CMD[*]}" >&2
      echo "+ /usr/bin/time -f %M ${CMD[*]}" >>"$OUT/commands.txt"
      /usr/bin/time -o "$OUT/time.out" -f '%M' "${CMD[@]}" </dev/null >"$tmp" 2>&1 ||
        { echo "loop.sh: $rt failed under /usr/bin/time:" >&2; cat "$tmp" >&2; exit 1; }
      printf '%s\t%s\t%s\t%s\n' "$rt" "$RSS_N" "$try" "$(tail -n 1 "$OUT/time.out")" >>"$OUT/rss.tsv"
    done
  done
  # runc and crun alone: "RUNTIME --version" and one "RUNTIME run -d" are in
  # pod.sh; bash's own peak for comparison (pod.sh with the do-nothing runtime).
  for ((try = 1; try <= RSS_TRIES; try++)); do
    cmd_of crun "$RSS_N"; CMD[1]=$BENCH_WORK/bin/stubrt
    ((try > 1)) || echo "+ /usr/bin/time -f %M ${CMD[*]}" >&2
    /usr/bin/time -o "$OUT/time.out" -f '%M' "${CMD[@]}" </dev/null >"$tmp" 2>&1
    printf '%s\t%s\t%s\t%s\n' "harness" "$RSS_N" "$try" "$(tail -n 1 "$OUT/time.out")" >>"$OUT/rss.tsv"
  done
else
  echo "loop.sh: no /usr/bin/time (Debian package 'time'): peak RSS not measured" >&2
fi
rm -f "$tmp" "$OUT/time.out"
echo "loop.sh: done" >&2
