#!/usr/bin/env bash
# The Go lane: the CRI endpoint judged by the Kubernetes tools themselves.
# Go is a test tool only (`npm test` never needs it). As root:
#   1. build crictl and critest (cri-tools, the version test/go/critools/go.mod
#      pins) through the Go module proxy: nothing of cri-tools is committed but
#      that wrapper's go.mod/go.sum. Binaries are cached per (go version,
#      go.sum) under $POD_LAUNCH_GO_CACHE (default /var/cache/pod-launch/go-lane);
#      client-go's streaming clients and kubelet likewise (scripts/go-tools.sh);
#   2. build the images critest pulls (scripts/make-critest-images.sh), cached
#      per script version in the same place;
#   3. run the tap files of test/go-lane/ (the .proto drift test, crictl end to
#      end, critest, the streaming clients and kubelet against `pod-launch cri`) and print one closing line
#      `N passed, N failed, N skipped` (critest's own totals are printed above it).
#   scripts/go-lane.sh [test/go-lane/x.test.ts ...]
#   eval "$(scripts/go-lane.sh --prepare)"   # only 1 and 2; prints the exports
set -euo pipefail
cd "$(dirname "$0")/.."
prepare=0
if [ "${1:-}" = --prepare ]; then
  prepare=1
  exec 3>&1 1>&2
fi
export POD_LAUNCH_FAIL_SKIP="${POD_LAUNCH_FAIL_SKIP:-1}"
cache="${POD_LAUNCH_GO_CACHE:-/var/cache/pod-launch/go-lane}"
mkdir -p "$cache"
[ -x /usr/local/go/bin/go ] && ! command -v go >/dev/null && export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null; then
  echo "go-lane: go is not installed (Go 1.26 is needed to build crictl and critest)" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

secs() { local t=$1; echo "$((SECONDS - t)) s"; }
start=$SECONDS

# 1. crictl + critest.
key="$( (go version; cat test/go/critools/go.mod test/go/critools/go.sum) | sha256sum | cut -c1-16)"
bin="$cache/bin-$key"
if [ ! -x "$bin/critest" ] || [ ! -x "$bin/crictl" ]; then
  t=$SECONDS
  version="$(sed -nE 's/^\s*sigs\.k8s\.io\/cri-tools (v\S+).*/\1/p' test/go/critools/go.mod)"
  ldflags="-X sigs.k8s.io/cri-tools/pkg/version.Version=$version"
  mkdir -p "$bin.tmp"
  (
    cd test/go/critools
    echo "+ go build -o $bin.tmp/crictl sigs.k8s.io/cri-tools/cmd/crictl"
    go build -trimpath -ldflags "$ldflags" -o "$bin.tmp/crictl" sigs.k8s.io/cri-tools/cmd/crictl
    echo "+ go test -c -o $bin.tmp/critest sigs.k8s.io/cri-tools/cmd/critest"
    go test -c -trimpath -ldflags "$ldflags" -o "$bin.tmp/critest" sigs.k8s.io/cri-tools/cmd/critest
  )
  rm -rf "$bin" && mv "$bin.tmp" "$bin"
  echo "go-lane: built crictl and critest $version in $(secs "$t")"
else
  echo "go-lane: crictl and critest from the cache ($bin)"
fi
export POD_LAUNCH_CRICTL="$bin/crictl" POD_LAUNCH_CRITEST="$bin/critest"
# client-go's streaming clients and kubelet (k8s.io/kubernetes; ~10 min of CPU
# and 2.5 GB the first time), cached the same way by scripts/go-tools.sh; the
# tests ask go-tools.sh again and get the cached paths.
for tool in streamclient kubelet; do
  t=$SECONDS
  path="$(bash scripts/go-tools.sh "$tool")"
  echo "go-lane: $tool ready in $(secs "$t") ($path)"
done

# 2. The images critest pulls.
ikey="$(cat scripts/make-critest-images.sh scripts/oci-layout.mjs build/Release/pause | sha256sum | cut -c1-16)"
images="$cache/images-$ikey"
if [ ! -s "$images/images.list" ]; then
  t=$SECONDS
  rm -rf "$images"
  bash scripts/make-critest-images.sh "$images.tmp"
  mv "$images.tmp" "$images"
  echo "go-lane: built the critest images in $(secs "$t")"
else
  echo "go-lane: critest images from the cache ($images)"
fi
export POD_LAUNCH_CRITEST_IMAGES="$images"
# shellcheck source=scripts/critest-registry.sh
. scripts/critest-registry.sh
registry="$cache/registry-$ikey"
if [ ! -f "$registry/.filled" ]; then
  t=$SECONDS
  registry_fill "$registry" "$images"
  echo "go-lane: pushed the critest images into $registry in $(secs "$t")"
fi
export POD_LAUNCH_CRITEST_REGISTRY_DATA="$registry"
echo "go-lane: tools and images ready after $(secs "$start")"
if [ "$prepare" = 1 ]; then
  printf 'export POD_LAUNCH_CRICTL=%q POD_LAUNCH_CRITEST=%q POD_LAUNCH_CRITEST_IMAGES=%q POD_LAUNCH_CRITEST_REGISTRY_DATA=%q\n' \
    "$POD_LAUNCH_CRICTL" "$POD_LAUNCH_CRITEST" "$images" "$registry" >&3
  exit 0
fi

# 3. The tests, with the registry served for them all.
work="$(mktemp -d -t pl-go-lane.XXXXXX)"
registry_serve "$registry" "$work"
# The lane's own exit status, not the registry's: under set -e a failing command in the trap
# (wait returns 143 for the registry we just killed, kill fails if it is gone) would end the
# script with ITS status, so each is `|| true`.
trap 'rc=$?; kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; rm -rf "$work"; exit $rc' EXIT
export POD_LAUNCH_CRITEST_REGISTRY="$REG"

files=("$@")
[ "${#files[@]}" -gt 0 ] || mapfile -t files < <(ls test/go-lane/*.test.ts)
log="$(mktemp)"
set +e
node_modules/.bin/tap run -R tap --no-color --jobs=1 --timeout=3600 "${files[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
summary="$(grep -E '^# \{ total:' "$log" | tail -n 1 || true)"
grep -E '^critest( against [a-z-]+)?: ' "$log" | sed 's/^/go-lane: /' || true
rm -f "$log"
p=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary")
f=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary")
s=$(sed -nE 's/.*skip: ([0-9]+).*/\1/p' <<<"$summary")
[ -n "$summary" ] || { f=1; rc=1; }
status=$rc
if [ "$POD_LAUNCH_FAIL_SKIP" = 1 ] && [ "${s:-0}" -gt 0 ]; then status=1; fi
echo "go-lane: $(secs "$start") in all"
echo "${p:-0} passed, ${f:-0} failed, ${s:-0} skipped"
exit "$status"
