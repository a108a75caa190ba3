#!/usr/bin/env bash
# shim.sh - what detached pods cost to hold (issue 18), in ONE run: the PSS of
# every process of ours that is neither pause nor a container, summed, at N
# detached pods of 2 containers, for
#   pl        this checkout: one engine per root + one C shim per pod
#   pl-old    OLD (a checkout of the previous model: one Node supervisor per pod), if given
#   containerd  containerd 1.6 + containerd-shim-runc-v2, one shim per pod
#               (`ctr run --label io.containerd.runc.v2.group=<pod>`, as its CRI groups a sandbox)
#   conmon    podman's conmon + crun, one conmon per container (podman has no daemon)
# ("+pods MB": that plus the PSS of pause and the containers, the owners' children),
# plus `run -d` latency (1st vs last, median), `ps` time with all pods up, and
# with N100 the same for 100 pods at once. Prints a table and writes it to $OUT.
#
#   sudo bench/shim.sh                     # NS="10 40"
#   sudo OLD=/tmp/old-checkout NS="10 40 100" bench/shim.sh
#
# Environment: NS (pod counts), OLD (previous checkout, built), RUNTIMES
# (default "pl pl-old containerd conmon"; pl-old only with OLD), BENCH_WORK
# (scratch, default /tmp/plbench-shim), PLCG (cgroup parent, default
# pod-launch-bench), OUT (default bench/results/shim-<UTC time>), SKIP_INSTALL=1.
# Needs root; installs conmon and containerd when missing (apt-get).
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
PLROOT=$(cd "$BENCH/.." && pwd)
NS=${NS:-10 40}
RUNTIMES=${RUNTIMES:-pl pl-old containerd conmon}
W=${BENCH_WORK:-/tmp/plbench-shim}
PLCG=${PLCG:-pod-launch-bench}
OUT=${OUT:-$BENCH/results/shim-$(date -u +%Y%m%dT%H%M%SZ)}
export POD_LAUNCH_NETWORK=none # loopback only: the reference runtimes' pods have no CNI either

run() { echo "+ $*" >&2; "$@"; }
die() { echo "shim.sh: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "needs root"
[[ -x $PLROOT/build/Release/pod-launch-shim ]] || die "not built: npm run build"
missing=()
for t in conmon:conmon containerd:containerd crun:crun jq:jq busybox:busybox-static; do
  command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}")
done
if ((${#missing[@]})); then
  [[ ${SKIP_INSTALL:-0} == 1 ]] && die "missing: ${missing[*]}"
  run apt-get install -y "${missing[@]}"
fi
mkdir -p "$W" "$OUT"

# Interrupted or failed: whatever a runtime still runs is ended (pods, shims, containerd, conmon's crun
# containers), so nothing of the bench outlives it (a leaked daemon would hold the test lock).
CD_PID=
cleanup() {
  local root d=$W/containerd
  for root in "$W"/*-root; do
    [[ -d $root ]] || continue
    mapfile -t ids < <(find "$root" -mindepth 2 -maxdepth 2 -name pod.json -printf '%h\n' | xargs -rn1 basename)
    ((${#ids[@]})) && node "$PLROOT/bin/pod-launch" --root "$root" --cgroup-parent "$PLCG" rm --force "${ids[@]}" >/dev/null 2>&1 || true
  done
  if [[ -n $CD_PID ]]; then
    local c=(ctr --address "$d/containerd.sock" -n bench) t
    for t in $("${c[@]}" task ls -q 2>/dev/null); do "${c[@]}" task kill -s KILL "$t" >/dev/null 2>&1 || true; done
    sleep 1
    for t in $("${c[@]}" task ls -q 2>/dev/null); do "${c[@]}" task delete -f "$t" >/dev/null 2>&1 || true; done
    for t in $("${c[@]}" container ls -q 2>/dev/null); do "${c[@]}" container delete "$t" >/dev/null 2>&1 || true; done
    kill "$CD_PID" 2>/dev/null || true
    wait "$CD_PID" 2>/dev/null || true
    umount -R "$d/state" 2>/dev/null || true
  fi
  if [[ -d $W/conmon/crun ]]; then
    for t in $(crun --root="$W/conmon/crun" list -q 2>/dev/null); do crun --root="$W/conmon/crun" delete -f "$t" >/dev/null 2>&1 || true; done
  fi
  return 0
}
trap 'cleanup' EXIT
trap 'exit 130' INT TERM

# --- helpers ------------------------------------------------------------------------------
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh" # pss_kb
now() { echo "${EPOCHREALTIME/./}"; } # microseconds, no fork
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
kids_of() { # PIDS...: their children (pause and the containers under a shim or conmon)
  local p
  for p in "$@"; do pgrep -P "$p" || true; done
}
FMT='%-11s %4s %10s %10s %10s %10s %9s %9s %9s %9s'
rows=()
row() { rows+=("$(printf "$FMT" "$@")"); echo "${rows[-1]}" >&2; }

manifest() { # name -> a pod of 2 containers sleeping, on the host image
  cat <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"$1"},"spec":{"restartPolicy":"Always","terminationGracePeriodSeconds":1,
 "containers":[{"name":"a","image":"host","command":["sleep","100000"]},{"name":"b","image":"host","command":["sleep","100000"]}]}}
EOF
}

# --- pod-launch (this checkout, or OLD) ---------------------------------------------------------
bench_pl() { # label checkout N
  local label=$1 dir=$2 n=$3 root=$W/$1-root lat=() i t0 t1 ids=()
  rm -rf "$root" && mkdir -p "$root" "$W/m"
  for ((i = 1; i <= n; i++)); do
    manifest "b$i" >"$W/m/b$i.json"
    t0=$(now)
    ids+=("$(node "$dir/bin/pod-launch" --root "$root" --cgroup-parent "$PLCG" run -d "$W/m/b$i.json")")
    t1=$(now)
    lat+=($(((t1 - t0) / 1000)))
  done
  # Ours: every process that is neither pause nor a container: the engine (new) and each pod's
  # supervisor (the shim, or the old Node supervisor), i.e. what pod.json names as the owner.
  local owners engine
  owners=$(for id in "${ids[@]}"; do jq -r '.supervisor.pid' "$root/$id/pod.json"; done)
  engine=$(pgrep -f -- "--root $root __engine" || true)
  local shims_kb engine_kb total
  shims_kb=$(pss_kb $owners)
  engine_kb=$(pss_kb $engine)
  total=$((shims_kb + engine_kb))
  local all_kb
  all_kb=$((total + $(pss_kb $(kids_of $owners))))
  local ps_ms=() j
  for j in 1 2 3 4 5; do
    t0=$(now)
    node "$dir/bin/pod-launch" --root "$root" ps >/dev/null
    t1=$(now)
    ps_ms+=($(((t1 - t0) / 1000)))
  done
  row "$label" "$n" "$((total / 1024))" "$((all_kb / 1024))" "$((engine_kb / 1024))" "$((shims_kb / n))" "${lat[0]}" "${lat[-1]}" \
    "$(printf '%s\n' "${lat[@]}" | median)" "$(printf '%s\n' "${ps_ms[@]}" | median)"
  echo "$label $n ${lat[*]}" >>"$OUT/latency.tsv"
  node "$dir/bin/pod-launch" --root "$root" rm --force "${ids[@]}" >/dev/null
  rm -rf "$root"
}

# --- containerd + containerd-shim-runc-v2, one shim per pod ---------------------------------------
ROOTFS=$W/rootfs
make_rootfs() {
  [[ -x $ROOTFS/bin/busybox ]] && return
  mkdir -p "$ROOTFS"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc}
  cp "$(command -v busybox)" "$ROOTFS/bin/busybox"
  chroot "$ROOTFS" /bin/busybox --install -s
}
bench_containerd() { # N
  local n=$1 d=$W/containerd i
  make_rootfs
  rm -rf "$d" && mkdir -p "$d"
  cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$d/containerd.sock"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
EOF
  containerd --config "$d/config.toml" >"$d/log" 2>&1 3>&- &
  CD_PID=$!
  local cd_pid=$! c=(ctr --address "$d/containerd.sock" -n bench) lat=() t0 t1
  for i in $(seq 50); do [[ -S $d/containerd.sock ]] && break; sleep 0.1; done
  for ((i = 1; i <= n; i++)); do
    t0=$(now)
    # --rootfs is a flag: the root directory is then the first argument, where an image reference would be
    "${c[@]}" run -d --label "io.containerd.runc.v2.group=pod$i" --rootfs "$ROOTFS" "pod$i-a" /bin/sleep 100000 >/dev/null
    "${c[@]}" run -d --label "io.containerd.runc.v2.group=pod$i" --rootfs "$ROOTFS" "pod$i-b" /bin/sleep 100000 >/dev/null
    t1=$(now)
    lat+=($(((t1 - t0) / 1000)))
  done
  local shims total shims_kb
  shims=$(pgrep -f -- "containerd-shim-runc-v2 -namespace bench .*-address $d/containerd.sock" || true)
  shims_kb=$(pss_kb $shims)
  total=$((shims_kb + $(pss_kb "$cd_pid")))
  local all_kb
  all_kb=$((total + $(pss_kb $(kids_of $shims))))
  row containerd "$n" "$((total / 1024))" "$((all_kb / 1024))" "$(($(pss_kb "$cd_pid") / 1024))" "$((shims_kb / n))" "${lat[0]}" "${lat[-1]}" \
    "$(printf '%s\n' "${lat[@]}" | median)" "-"
  echo "containerd shims: $(echo $shims | wc -w) for $n pods" >&2
  for ((i = 1; i <= n; i++)); do
    for x in a b; do
      "${c[@]}" task kill -s KILL "pod$i-$x" >/dev/null 2>&1 || true
    done
  done
  for ((i = 1; i <= n; i++)); do
    for x in a b; do
      for _ in $(seq 50); do "${c[@]}" task delete "pod$i-$x" >/dev/null 2>&1 && break; sleep 0.1; done
      "${c[@]}" container delete "pod$i-$x" >/dev/null 2>&1 || true
    done
  done
  kill "$cd_pid"
  wait "$cd_pid" 2>/dev/null || true
  CD_PID=
  umount -R "$d/state" 2>/dev/null || true
  rm -rf "$d"
}

# --- conmon + crun, one conmon per container (podman's model) --------------------------------------
bench_conmon() { # N
  local n=$1 d=$W/conmon i x lat=() t0 t1 pids=()
  make_rootfs
  rm -rf "$d" && mkdir -p "$d/tpl"
  (cd "$d/tpl" && crun spec)
  for ((i = 1; i <= n; i++)); do
    t0=$(now)
    for x in a b; do
      local id=pod$i-$x
      local b=$d/$id
      mkdir -p "$b/exits"
      jq --arg r "$ROOTFS" '.process.terminal = false | .process.args = ["/bin/sleep", "100000"] | .root = {path: $r, readonly: true}' \
        "$d/tpl/config.json" >"$b/config.json"
      conmon --api-version 1 -c "$id" -u "$id" -n "$id" -r "$(command -v crun)" -b "$b" -p "$b/pidfile" \
        -l "k8s-file:$b/ctr.log" --exit-dir "$b/exits" --socket-dir-path "$d" --conmon-pidfile "$b/conmon.pid" \
        --runtime-arg --root="$d/crun" --syslog=false >/dev/null 2>&1 3>&-
      crun --root="$d/crun" start "$id"
    done
    t1=$(now)
    lat+=($(((t1 - t0) / 1000)))
  done
  for ((i = 1; i <= n; i++)); do for x in a b; do pids+=("$(cat "$d/pod$i-$x/conmon.pid")"); done; done
  local kb
  kb=$(pss_kb "${pids[@]}")
  local all_kb
  all_kb=$((kb + $(pss_kb $(kids_of "${pids[@]}"))))
  row conmon "$n" "$((kb / 1024))" "$((all_kb / 1024))" "-" "$((kb / n))" "${lat[0]}" "${lat[-1]}" "$(printf '%s\n' "${lat[@]}" | median)" "-"
  for ((i = 1; i <= n; i++)); do
    for x in a b; do
      crun --root="$d/crun" kill "pod$i-$x" KILL 2>/dev/null || true
    done
  done
  for p in "${pids[@]}"; do for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; done
  for ((i = 1; i <= n; i++)); do for x in a b; do crun --root="$d/crun" delete -f "pod$i-$x" 2>/dev/null || true; done; done
  rm -rf "$d"
}

# --- the run ------------------------------------------------------------------------------------------
header=$(printf "$FMT" runtime pods 'total MB' '+pods MB' 'daemon MB' 'KB/pod' 'run-1 ms' 'run-N ms' 'run med' 'ps ms')
echo "$header" >&2
echo "shim.sh: $(node --version), $(containerd --version | cut -d' ' -f3), conmon $(conmon --version | head -n1 | cut -d' ' -f3), kernel $(uname -r), $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for n in $NS; do
  for rt in $RUNTIMES; do
    case $rt in
      pl) bench_pl pl "$PLROOT" "$n" ;;
      pl-old) [[ -n ${OLD:-} ]] && bench_pl pl-old "$OLD" "$n" ;;
      containerd) bench_containerd "$n" ;;
      conmon) bench_conmon "$n" ;;
    esac
  done
done
{
  echo "$header"
  printf '%s\n' "${rows[@]}"
} | tee "$OUT/table.txt"
# Nothing of ours may be left: no pod cgroup under the bench parent, no shim, no engine of the bench roots.
left=$(find /sys/fs/cgroup -maxdepth 3 -path "*/$PLCG/pod-*" 2>/dev/null || true)
[[ -z $left ]] || die "left behind: $left"
pgrep -f -- "--root $W/" >/dev/null && die "an engine of the bench is still running"
for c in /sys/fs/cgroup/*/"$PLCG" /sys/fs/cgroup/"$PLCG"; do [[ -d $c ]] && rmdir "$c" 2>/dev/null; done
rm -rf "$W"
echo "shim.sh: results in $OUT" >&2
