#!/usr/bin/env bash
# shim.sh - what detached pods cost to hold (issue 18), in ONE run: the PSS of
# every process of ours that is neither pause nor a container, summed, at N
# detached pods of 2 containers, for
#   pl        this checkout: one engine per root + one C shim per pod
#   pl-old    OLD (a checkout of the previous model: one Node supervisor per pod), if given
#   containerd  containerd 1.6 + containerd-shim-runc-v2, one shim per pod
#               (`ctr run --label io.containerd.runc.v2.group=<pod>`, as its CRI groups a sandbox)
#   conmon    podman's conmon + crun, one conmon per container (podman has no daemon)
#   crun      `crun run --detach`, twice per pod: nothing holds the containers (no shim, no
#             log, no exit record), the floor for `run -d` latency
# ("+pods MB": that plus the PSS of pause and the containers, the owners' children),
# plus `run -d` latency (1st vs last, median), `ps` time with all pods up (containerd:
# `ctr task ls`; conmon and crun: `crun list`), for each N of NS (N=100: 100 pods at once).
# Prints a table and writes it to $OUT.
#
#   sudo bench/shim.sh                     # NS="10 40"
#   sudo OLD=/tmp/old-checkout NS="10 40 100" bench/shim.sh
#
# Environment: NS (pod counts), OLD (previous checkout, built), RUNTIMES
# (default "pl pl-old containerd conmon crun"; pl-old only with OLD), BENCH_WORK
# (scratch, default /tmp/plbench-shim), PLCG (cgroup parent, default
# pod-launch-bench), OUT (default bench/results/shim-<UTC time>), SKIP_INSTALL=1.
# Needs root; installs conmon and containerd when missing (apt-get).
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
PLROOT=$(cd "$BENCH/.." && pwd)
NS=${NS:-10 40}
RUNTIMES=${RUNTIMES:-pl pl-old containerd conmon crun}
W=${BENCH_WORK:-/tmp/plbench-shim}
PLCG=${PLCG:-pod-launch-bench}
OUT=${OUT:-$BENCH/results/shim-$(date -u +%Y%m%dT%H%M%SZ)}
export POD_LAUNCH_NETWORK=none # loopback only: the reference runtimes' pods have no CNI either

run() { echo "+ $*" >&2; "$@"; }
die() { echo "shim.sh: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "needs root"
[[ -x $PLROOT/build/Release/pod-launch-shim ]] || die "not built: npm run build"
# bin/pod-launch runs the bundle only when it is newer than the TypeScript build; otherwise it loads the
# compiled modules one by one, which doubles `ps` (the 14:24 run of session 4 measured that: `tsc -b`
# after `npm run build`). A bench must time what users run.
fresh_bundle() { # CHECKOUT
  local b=$1/dist/cli/pod-launch.cjs
  [[ -f $b && ! $1/tsconfig.tsbuildinfo -nt $b ]] || die "$1: dist/cli/pod-launch.cjs is missing or older than the TypeScript build: (cd $1 && npm run build)"
}
fresh_bundle "$PLROOT"
[[ -n ${OLD:-} ]] && fresh_bundle "$OLD"
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
  for root in "$W/conmon/crun" "$W/crun/state"; do
    [[ -d $root ]] || continue
    for t in $(crun --root="$root" list -q 2>/dev/null); do view crun --root="$root" delete -f "$t" >/dev/null 2>&1 || true; done
  done
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
  # The engine goes about a second after its last pod: not while the next runtime is measured.
  for _ in $(seq 100); do pgrep -f -- "--root $root __engine" >/dev/null || break; sleep 0.1; done
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
  local ps_ms=() j
  for j in 1 2 3 4 5; do
    t0=$(now)
    "${c[@]}" task ls >/dev/null
    t1=$(now)
    ps_ms+=($(((t1 - t0) / 1000)))
  done
  row containerd "$n" "$((total / 1024))" "$((all_kb / 1024))" "$(($(pss_kb "$cd_pid") / 1024))" "$((shims_kb / n))" "${lat[0]}" "${lat[-1]}" \
    "$(printf '%s\n' "${lat[@]}" | median)" "$(printf '%s\n' "${ps_ms[@]}" | median)"
  echo "containerd $n ${lat[*]}" >>"$OUT/latency.tsv"
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

# --- conmon + crun, one conmon per container (podman's model); crun alone ----------------------------
# crun 1.8 refuses a hybrid host whose cgroup2 mount lists a controller ("cgroups in hybrid mode not
# supported"; this kernel shows hugetlb there): its calls run in a private mount namespace with an empty
# file over that list (the reference bench's v1view), which changes nothing for the rest of the machine.
CONTROLLERS=/sys/fs/cgroup/unified/cgroup.controllers
view() {
  local c=
  [[ -r $CONTROLLERS ]] && read -r c <"$CONTROLLERS"
  if [[ -n $c ]]; then
    : >"$W/empty"
    # shellcheck disable=SC2016 # $1 $2 belong to the inner sh
    unshare --mount --propagation private -- sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' view "$W/empty" "$CONTROLLERS" "$@"
  else
    "$@"
  fi
}
bundle() { # DIR: an OCI bundle sleeping on the busybox root
  mkdir -p "$1/exits"
  jq --arg r "$ROOTFS" '.process.terminal = false | .process.args = ["/bin/sleep", "100000"] | .root = {path: $r, readonly: true}' \
    "$W/tpl/config.json" >"$1/config.json"
}
make_tpl() {
  [[ -f $W/tpl/config.json ]] && return
  mkdir -p "$W/tpl"
  (cd "$W/tpl" && crun spec)
}
crun_ps_ms() { # ROOT: median of 5 `crun list`
  local ms=() j t0 t1
  for j in 1 2 3 4 5; do
    t0=$(now)
    crun --root="$1" list >/dev/null
    t1=$(now)
    ms+=($(((t1 - t0) / 1000)))
  done
  printf '%s\n' "${ms[@]}" | median
}
crun_end() { # ROOT IDS...: kill and delete, in the view
  local r=$1 id
  shift
  for id in "$@"; do crun --root="$r" kill "$id" KILL 2>/dev/null || true; done
  for id in "$@"; do
    for _ in $(seq 50); do [[ $(crun --root="$r" state "$id" 2>/dev/null | jq -r .status) == running ]] || break; sleep 0.1; done
    view crun --root="$r" delete -f "$id" 2>/dev/null || true
  done
}
bench_conmon() { # N
  local n=$1 d=$W/conmon i x lat=() t0 t1 pids=() ids=() sp line
  make_rootfs
  make_tpl
  rm -rf "$d" && mkdir -p "$d/sockets"
  for ((i = 1; i <= n; i++)); do
    t0=$(now)
    for x in a b; do
      local id=pod$i-$x
      local b=$d/$id
      bundle "$b"
      ids+=("$id")
      # As podman: conmon's parent returns at once; the sync pipe says when `crun create` is done (the
      # attach sockets go to their own directory: conmon links <socket dir>/<id> to the bundle).
      mkfifo "$b/sync"
      exec {sp}<>"$b/sync"
      _OCI_SYNCPIPE=$sp view conmon --api-version 1 -c "$id" -u "$id" -n "$id" -r "$(command -v crun)" -b "$b" -p "$b/pidfile" \
        -l "k8s-file:$b/ctr.log" --exit-dir "$b/exits" --socket-dir-path "$d/sockets" --conmon-pidfile "$b/conmon.pid" \
        --runtime-arg --root="$d/crun" --syslog=false >/dev/null 2>&1
      read -r -t 30 -u "$sp" line || die "conmon $id: no word on its sync pipe"
      exec {sp}>&-
      [[ $line == *'"data": '[1-9]* ]] || die "conmon $id: crun create failed: $line"
      view crun --root="$d/crun" start "$id"
    done
    t1=$(now)
    lat+=($(((t1 - t0) / 1000)))
  done
  for ((i = 1; i <= n; i++)); do for x in a b; do pids+=("$(cat "$d/pod$i-$x/conmon.pid")"); done; done
  local kb all_kb ps
  kb=$(pss_kb "${pids[@]}")
  all_kb=$((kb + $(pss_kb $(kids_of "${pids[@]}"))))
  ps=$(crun_ps_ms "$d/crun")
  row conmon "$n" "$((kb / 1024))" "$((all_kb / 1024))" "-" "$((kb / n))" "${lat[0]}" "${lat[-1]}" "$(printf '%s\n' "${lat[@]}" | median)" "$ps"
  echo "conmon $n ${lat[*]}" >>"$OUT/latency.tsv"
  crun_end "$d/crun" "${ids[@]}"
  for p in "${pids[@]}"; do for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; done
  rm -rf "$d"
}
bench_crun() { # N: `crun run --detach` twice per pod; nothing of crun stays resident
  local n=$1 d=$W/crun i x lat=() t0 t1 ids=()
  make_rootfs
  make_tpl
  rm -rf "$d" && mkdir -p "$d"
  for ((i = 1; i <= n; i++)); do
    t0=$(now)
    for x in a b; do
      bundle "$d/pod$i-$x"
      ids+=("pod$i-$x")
      view crun --root="$d/state" run --detach --bundle "$d/pod$i-$x" "pod$i-$x" </dev/null >/dev/null 2>&1
    done
    t1=$(now)
    lat+=($(((t1 - t0) / 1000)))
  done
  local pods_kb ps
  pods_kb=$(pss_kb $(crun --root="$d/state" list -q | xargs -rn1 crun --root="$d/state" state | jq -r .pid))
  ps=$(crun_ps_ms "$d/state")
  row crun "$n" 0 "$((pods_kb / 1024))" "-" 0 "${lat[0]}" "${lat[-1]}" "$(printf '%s\n' "${lat[@]}" | median)" "$ps"
  echo "crun $n ${lat[*]}" >>"$OUT/latency.tsv"
  crun_end "$d/state" "${ids[@]}"
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
      crun) bench_crun "$n" ;;
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
