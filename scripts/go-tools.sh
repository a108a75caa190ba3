#!/usr/bin/env bash
# Build a test tool of the Go lane through the Go module proxy and print its
# path. Builds are cached by the hash of the tool's go.mod and go.sum under
# $POD_LAUNCH_GO_CACHE (default /var/cache/pod-launch/go-lane, shared with scripts/go-lane.sh), so a CI run on a
# machine that already built it pays nothing. Go is a test tool only.
#   scripts/go-tools.sh streamclient   the Go streaming clients (test/go/streamclient)
#   scripts/go-tools.sh kubelet        kubelet from k8s.io/kubernetes (test/go/kubelet)
set -euo pipefail
cd "$(dirname "$0")/.."
tool="${1:?usage: scripts/go-tools.sh streamclient|kubelet}"
cache="${POD_LAUNCH_GO_CACHE:-/var/cache/pod-launch/go-lane}"
case "$tool" in
  streamclient) dir=test/go/streamclient pkg=. ;;
  kubelet) dir=test/go/kubelet pkg=k8s.io/kubernetes/cmd/kubelet ;;
  *) echo "go-tools.sh: unknown tool $tool" >&2; exit 2 ;;
esac
command -v go >/dev/null || { echo "go-tools.sh: go is not installed (the Go lane needs it)" >&2; exit 1; }
key="$(cat "$dir/go.mod" "$dir/go.sum" $(ls "$dir"/*.go 2>/dev/null) | sha256sum | cut -c1-16)"
out="$cache/$tool-$key"
if [ ! -x "$out" ]; then
  mkdir -p "$cache"
  echo "+ (cd $dir && go build -trimpath -o $out.tmp $pkg)" >&2
  # kubelet takes long on 2 cores: nice keeps the machine usable.
  (cd "$dir" && nice -n 10 go build -trimpath -o "$out.tmp" "$pkg") >&2
  mv "$out.tmp" "$out"
fi
echo "$out"
