#!/usr/bin/env bash
# run.sh - pod-launch against runc, crun and the C floor, one pod cycle at a
# time, all in ONE run; prints medians, p90 and the ratios. See README.md.
#
#   sudo bench/run.sh                 # N = 2 and 10, 2 warm-up + 15 counted repetitions
#   sudo RUNS=30 NS="2 5 10" bench/run.sh
#
# Environment (all optional):
#   RUNS=15  WARMUP=2   counted / warm-up repetitions per N (every runtime each time;
#                       the reference common.sh's defaults)
#   NS="2 10"           pod sizes (containers besides pause / the sandbox)
#   RUNTIMES            default "crun runc floor harness pl-cli pl-lib pl-hold node0 pl-libload pl-load"
#                       (see loop.sh's cmd_of for what each one runs)
#   RSS_N=10 RSS_TRIES=3  peak-RSS runs (after the timing loop)
#   LEAK_PODS=100       library process: heap after GC before / after this many more pods
#   REF                 the reference bench (default /work/shared/reference-bench)
#   BENCH_WORK          its scratch folder (default $TMPDIR/plbench, /tmp/plbench;
#                       removed at the end by the reference cleanup.sh unless KEEP_WORK=1)
#   PLCG                pod-launch's --cgroup-parent (default pod-launch-bench: its
#                       own parent, so the test suite's checks on the default
#                       "pod-launch" parent never see the bench's pods; removed at the end)
#   OUT                 where the results go (default bench/results/<UTC time>)
#   SKIP_INSTALL=1      do not apt-get install missing tools
# Needs root. Echoes every command it runs (the timed cycles are listed in
# $OUT/commands.txt and shown once per N).
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
export PLROOT=${PLROOT:-$(cd "$BENCH/.." && pwd)}
export REF=${REF:-/work/shared/reference-bench}
export BENCH_WORK=${BENCH_WORK:-${TMPDIR:-/tmp}/plbench}
export PLCG=${PLCG:-pod-launch-bench}
# runc's and crun's sandboxes have loopback only: so do ours (no CNI call), for a like-for-like cycle.
export POD_LAUNCH_NETWORK=${POD_LAUNCH_NETWORK:-none}
export PLWORK=$BENCH_WORK/pl
export PLSTATE=$PLWORK/state
export NS=${NS:-2 10} RUNS=${RUNS:-15} WARMUP=${WARMUP:-2} RSS_N=${RSS_N:-10} RSS_TRIES=${RSS_TRIES:-3} LEAK_PODS=${LEAK_PODS:-100}
export OUT=${OUT:-$BENCH/results/$(date -u +%Y%m%dT%H%M%SZ)}
CGROOT=${CGROOT:-/sys/fs/cgroup}

run() { echo "+ $*" >&2; "$@"; }
die() { echo "run.sh: $*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || die "needs root (namespaces, cgroups)"
[[ -x $REF/setup.sh && -x $REF/with-view.sh && -x $REF/pod.sh ]] || die "no reference bench at $REF"

# --- 1. tools ---------------------------------------------------------------------
missing=()
for t in runc:runc crun:crun jq:jq gcc:gcc busybox:busybox-static hyperfine:hyperfine; do
  command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}")
done
[[ -x /usr/bin/time ]] || missing+=(time)
if ((${#missing[@]})); then
  [[ ${SKIP_INSTALL:-0} == 1 ]] && die "missing: ${missing[*]} (SKIP_INSTALL=1)"
  run apt-get install -y "${missing[@]}"
fi
[[ -f $PLROOT/dist/index.js && -f $PLROOT/dist/cli/main.js && -x $PLROOT/build/Release/pause ]] ||
  die "pod-launch is not built in $PLROOT (npm ci, or npm run build)"
echo "run.sh: $(node --version), $(runc --version | head -n 1), $(crun --version | head -n 1), kernel $(uname -r), $(nproc) cpus" >&2

# --- 2. cleanup, whatever happens -------------------------------------------------------
# The reference cleanup.sh (runc/crun containers "pb*", podbench-*/podfloor-*
# cgroups, BENCH_WORK), then pod-launch's side: its cgroup parent must be
# empty (rmdir refuses a populated cgroup) and no pause may run in it.
cleanup() {
  local rc=$? left=() d
  trap - EXIT
  echo "== cleanup" >&2
  shopt -s nullglob
  # A pod-launch process still in our cgroup parent would be a leak: name it.
  for d in "$CGROOT"/*/"$PLCG"; do
    if find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | grep -q .; then
      echo "run.sh: processes still in $d:" >&2
      find "$d" -name cgroup.procs -exec cat {} + | sort -u | tr '\n' ' ' >&2; echo >&2
      rc=1
    fi
  done
  # pod-launch removes its pod cgroups; the parent given with --cgroup-parent is ours.
  for d in "$CGROOT"/*/"$PLCG"/*/ "$CGROOT"/*/"$PLCG"/; do rmdir "$d" 2>/dev/null || true; done
  left=("$CGROOT"/*/"$PLCG")
  ((${#left[@]} == 0)) || { echo "run.sh: cgroups left: ${left[*]}" >&2; rc=1; }
  # The state root's .lock (taken by every foreground run) is the root's own, not a pod's.
  if [[ -d $PLSTATE ]] && [[ -n $(ls -A "$PLSTATE" | grep -vx .lock) ]]; then
    echo "run.sh: pod-launch state left in $PLSTATE: $(ls -A "$PLSTATE")" >&2; rc=1
  fi
  # No pause of ours: pause processes from this checkout, in our cgroup parent
  # (the test suite may run its own pods meanwhile; those are not ours).
  local pause=$PLROOT/build/Release/pause p ours=()
  for p in /proc/[0-9]*; do
    [[ $(readlink "$p/exe" 2>/dev/null) == "$pause" ]] || continue
    grep -qs "/$PLCG/" "$p/cgroup" && ours+=("${p#/proc/}")
  done
  ((${#ours[@]} == 0)) || { echo "run.sh: pause processes of the bench still running: ${ours[*]}" >&2; rc=1; }
  shopt -u nullglob
  if [[ -x $REF/cleanup.sh ]]; then
    # Its last checks: no runc/crun container pb*, no podbench-*/podfloor-* cgroup.
    if ! run "$REF/cleanup.sh" 2>&1 | tee "$OUT/cleanup.log" >&2 || grep -q "still there" "$OUT/cleanup.log"; then
      echo "run.sh: the reference cleanup.sh reported leftovers" >&2; rc=1
    fi
  fi
  for rt in runc crun; do
    if "$rt" list -q 2>/dev/null | grep -q '^pb'; then echo "run.sh: $rt containers left: $($rt list -q | grep '^pb' | tr '\n' ' ')" >&2; rc=1; fi
  done
  if ((rc == 0)); then echo "run.sh: nothing left behind (no pb* container, no podbench-/podfloor-/$PLCG cgroup, no pause of ours, no state)" >&2
  else echo "run.sh: FAILED (exit $rc)" >&2; fi
  exit "$rc"
}
mkdir -p "$OUT"
trap cleanup EXIT

# --- 3. the reference setup (busybox rootfs, OCI bundles, podfloor, subreaper) ----
run "$REF/setup.sh"

# --- 4. pod-launch's manifests: N containers running /bin/true, restartPolicy Never
#        (pod-nN.json), and the same running "sleep 100000" (pod-nN-sleep.json,
#        the reference pod.sh's shape: kept running, then killed)
run mkdir -p "$PLWORK" "$PLSTATE"
for n in $NS $RSS_N; do
  for v in true sleep; do
    suffix=; [[ $v == true ]] || suffix=-$v
    jq -n --argjson n "$n" --arg v "$v" '{apiVersion: "v1", kind: "Pod", metadata: {name: "bench-n\($n)"},
      spec: {restartPolicy: "Never", containers: [range(1; $n + 1) | {name: "c\(.)", image: "host",
        command: (if $v == "true" then ["/bin/true"] else ["sleep", "100000"] end)}]}}' \
      >"$PLWORK/pod-n$n$suffix.json"
  done
done
for f in "$PLWORK"/pod-n${NS%% *}.json "$PLWORK"/pod-n${NS%% *}-sleep.json; do
  echo "+ (manifest) $f: $(jq -c . "$f")" >&2
done

# --- 5. the measuring loop, under the reference with-view.sh ---------------------------
if ! run "$REF/with-view.sh" "$BENCH/loop.sh" 2>&1 | tee "$OUT/loop.log" >&2; then
  die "the measuring loop failed (see $OUT/loop.log)"
fi

# --- 6. the tables -----------------------------------------------------------------------
{
  echo "# pod-launch bench, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "$(node --version), $(runc --version | head -n 1), $(crun --version | head -n 1), kernel $(uname -r), $(nproc) cpus, RUNS=$RUNS WARMUP=$WARMUP NS=\"$NS\""
  echo
  node "$BENCH/report.mjs" "$OUT"
} >"$OUT/report.md"
cat "$OUT/report.md"
echo "run.sh: raw samples in $OUT/samples.tsv, tables in $OUT/report.md" >&2
