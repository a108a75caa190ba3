# Shared by bench/cri/*.sh (sourced): a registry holding the critest images,
# a CNI conflist in 198.18.0.0/15, Debian's containerd with a private
# config/root/state/socket under one directory, `pod-launch cri` likewise,
# and critest runs with their report parsed. Everything a function starts is
# recorded in $W (the work directory) and ended by cri_cleanup.
# Needs: scripts/go-lane.sh's cache (POD_LAUNCH_CRITEST, POD_LAUNCH_CRICTL,
# POD_LAUNCH_CRITEST_REGISTRY_DATA), docker-registry, containerd, runc, jq.

CRI_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/critest-registry.sh
. "$CRI_REPO/scripts/critest-registry.sh"

run() { echo "+ $*" >&2; "$@"; }

wait_socket() { # PATH SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do [ -S "$1" ] && return 0; sleep 0.1; done
  echo "no socket at $1 after $2 s" >&2
  return 1
}

# The cgroup parent of bench/cri/run.sh's memory sandboxes, for both runtimes.
MEM_CGROUP_PARENT=pltcri-mem

# registry_start: the critest images served on 127.0.0.1 (scripts/critest-registry.sh). Sets REG.
registry_start() {
  registry_serve "$POD_LAUNCH_CRITEST_REGISTRY_DATA" "$W/registry"
  echo "$REG_PID" >"$W/registry/pid"
}

# cni_conf DIR BRIDGE SUBNET: a bridge + host-local + portmap conflist (its IPAM data in DIR too).
cni_conf() {
  mkdir -p "$1"
  cat >"$1/10-critest.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "critest-$2",
  "plugins": [
    {
      "type": "bridge", "bridge": "$2", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$3" }]], "routes": [{ "dst": "0.0.0.0/0" }], "dataDir": "$1/ipam" }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
}

# containerd_start: Debian's containerd (CRI plugin, runc, overlayfs) on $W/containerd. Sets ENDPOINT.
containerd_start() {
  local d="$W/containerd"
  mkdir -p "$d"
  cni_conf "$d/net.d" pltctrd0 198.18.65.0/24
  cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
plugin_dir = ""
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$d/containerd.sock"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.9"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # This host's root lacks CAP_SYS_RESOURCE (CapEff bit 24 clear), so runc's nsexec cannot lower
  # oom_score_adj to the sandbox's -998 ("failed to update /proc/self/oom_score_adj: Permission
  # denied", then "can't get final child's PID from pipe: EOF"): keep scores >= containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$d/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."registry.k8s.io"]
    endpoint = ["http://$REG"]
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."gcr.io"]
    endpoint = ["http://$REG"]
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."k8s.gcr.io"]
    endpoint = ["http://$REG"]
EOF
  daemon containerd --config "$d/config.toml" >"$d/log" 2>&1
  echo $! >"$d/pid"
  wait_socket "$d/containerd.sock" 30
  ENDPOINT="unix://$d/containerd.sock"
}

# containerd_stop: every sandbox removed, then containerd, its shims, mounts and bridge.
containerd_stop() {
  local d="$W/containerd"
  [ -f "$d/pid" ] || return 0
  "$POD_LAUNCH_CRICTL" -r "unix://$d/containerd.sock" rmp -fa >/dev/null 2>&1 || true
  local pid
  pid="$(cat "$d/pid")"
  kill "$pid" 2>/dev/null && while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  # Shims whose -address is our socket (they outlive containerd by design).
  for p in $(pgrep -f "containerd-shim-runc-v2 .*-address $d/containerd.sock" || true); do kill -9 "$p" 2>/dev/null || true; done
  # (Each step may find nothing: under set -e and pipefail a grep without a match would end the cleanup.)
  { grep -o " $d/[^ ]*" /proc/self/mountinfo || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  ip link del pltctrd0 2>/dev/null || true
  # critest's cgroup_parent when RuntimeConfig is unimplemented (containerd 1.6): remove what runc left empty.
  rm_empty_cgroups pod.slice "$MEM_CGROUP_PARENT"
  rm -f "$d/pid"
}

rm_empty_cgroups() { # NAME...: the (empty) cgroup trees /NAME of every hierarchy
  local n c
  for n in "$@"; do
    for c in /sys/fs/cgroup/*/"$n" /sys/fs/cgroup/"$n"; do
      [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
  done
}

# podlaunch_start: `pod-launch cri` with its own root, cgroup parent and CNI conf. Sets ENDPOINT.
podlaunch_start() {
  local d="$W/pod-launch"
  mkdir -p "$d"
  cni_conf "$d/net.d" pltcri0 198.18.64.0/24
  printf '{"mirrors":{"registry.k8s.io":["http://%s"],"gcr.io":["http://%s"],"k8s.gcr.io":["http://%s"]}}\n' "$REG" "$REG" "$REG" >"$d/registries.json"
  POD_LAUNCH_REGISTRIES="$d/registries.json" daemon node "$CRI_REPO/bin/pod-launch" cri --root "$d/root" --cgroup-parent pl-critest --cni-conf-dir "$d/net.d" \
    --listen "unix://$d/cri.sock" >"$d/log" 2>&1
  echo $! >"$d/pid"
  wait_socket "$d/cri.sock" 30
  ENDPOINT="unix://$d/cri.sock"
}

podlaunch_stop() {
  local d="$W/pod-launch"
  [ -f "$d/pid" ] || return 0
  "$POD_LAUNCH_CRICTL" -r "unix://$d/cri.sock" rmp -fa >/dev/null 2>&1 || true
  local pid
  pid="$(cat "$d/pid")"
  kill "$pid" 2>/dev/null && while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  node "$CRI_REPO/bin/pod-launch" --root "$d/root" gc --cgroup-parent pl-critest >/dev/null 2>&1 || true
  rm_empty_cgroups pl-critest "$MEM_CGROUP_PARENT"
  ip link del pltcri0 2>/dev/null || true
  rm -f "$d/pid"
}

registry_stop() {
  [ -f "$W/registry/pid" ] || return 0
  kill "$(cat "$W/registry/pid")" 2>/dev/null || true
  rm -f "$W/registry/pid"
}

cri_cleanup() {
  containerd_stop
  podlaunch_stop
  registry_stop
}

# critest_run NAME ENDPOINT [critest args...]: the images by their own names through the mirrors; JSON report in $W/NAME.json, log in $W/NAME.log;
# prints "NAME: P passed, F failed, S skipped (of T)".
critest_run() {
  local name="$1" endpoint="$2"
  shift 2
  set +e
  (cd "$W" && run "$POD_LAUNCH_CRITEST" -runtime-endpoint "$endpoint" -image-endpoint "$endpoint" \
    -ginkgo.json-report "$W/$name.json" -ginkgo.no-color "$@") >"$W/$name.log" 2>&1
  set -e
  critest_summary "$name"
}

critest_summary() { # NAME
  jq -r --arg n "$1" '[.[].SpecReports[] | select(.LeafNodeType == "It")] as $s
    | "\($n): \([$s[] | select(.State == "passed")] | length) passed, \([$s[] | select(.State == "failed" or .State == "panicked" or .State == "timedout")] | length) failed, \([$s[] | select(.State == "skipped" or .State == "pending")] | length) skipped (of \($s | length))"' \
    "$W/$1.json"
}

# critest_states NAME: one "STATE<TAB>spec" line per spec, sorted by spec.
critest_states() {
  jq -r '.[].SpecReports[] | select(.LeafNodeType == "It") | "\(.State)\t\(.ContainerHierarchyTexts | join(" ")) \(.LeafNodeText)"' "$W/$1.json" | sort -t$'\t' -k2
}
