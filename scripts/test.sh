#!/usr/bin/env bash
# Run the tests: unit (no root), integration (root, real kernel), then the
# final leftover check. Prints one closing line: `N passed, N failed, N skipped`.
#   scripts/test.sh [all|unit|integration|v2]
# POD_LAUNCH_FAIL_SKIP=1 (set by .ci/run) makes any skipped test fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
lane="${1:-all}"
# The filesystem and image tests build a root from Debian's static busybox.
if [ "$(id -u)" = 0 ] && [ "$lane" != unit ] && ! { [ -x /usr/bin/busybox ] && grep -q 'statically linked\|static-pie' <(file -L /usr/bin/busybox 2>/dev/null || echo static); }; then
  echo "+ apt-get install -y busybox-static"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null || echo "test.sh: could not install busybox-static; the image tests will fail" >&2
fi
# The networking tests run the standard CNI plugins (portmap needs iptables).
if [ "$(id -u)" = 0 ] && [ "$lane" != unit ] && { [ ! -x /usr/lib/cni/bridge ] || ! command -v iptables >/dev/null; }; then
  echo "+ apt-get install -y containernetworking-plugins iptables"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq containernetworking-plugins iptables >/dev/null || echo "test.sh: could not install containernetworking-plugins/iptables; the CNI tests will fail" >&2
fi
# The registry tests run Debian's docker-registry, filled by skopeo (htpasswd, openssl, zstd for their set-ups).
if [ "$(id -u)" = 0 ] && [ "$lane" != unit ] && { [ ! -x /usr/bin/docker-registry ] || ! command -v skopeo >/dev/null || ! command -v htpasswd >/dev/null || ! command -v zstd >/dev/null || ! command -v openssl >/dev/null; }; then
  echo "+ apt-get install -y docker-registry skopeo apache2-utils openssl zstd"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry skopeo apache2-utils openssl zstd >/dev/null || echo "test.sh: could not install docker-registry/skopeo/apache2-utils/openssl/zstd; the registry tests will fail" >&2
fi
# The bridge plugin never deletes its bridge: a pl0 that exists now is the user's, not the tests'.
export POD_LAUNCH_TEST_HAD_PL0="${POD_LAUNCH_TEST_HAD_PL0:-$(ip link show pl0 >/dev/null 2>&1 && echo 1 || echo 0)}"
export POD_LAUNCH_TEST_TRACK="${POD_LAUNCH_TEST_TRACK:-$(mktemp -d -t pod-launch-tests.XXXXXX)}"
rm -f "$POD_LAUNCH_TEST_TRACK/namespaces.jsonl"
tap=(node_modules/.bin/tap run -R tap --no-color)
pass=0 fail=0 skip=0 status=0

run_tap() {
  local log
  log="$(mktemp)"
  echo "+ tap $*"
  set +e
  "${tap[@]}" "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  local summary
  summary="$(grep -E '^# \{ total:' "$log" | tail -n 1 || true)"
  rm -f "$log"
  if [ -z "$summary" ]; then
    echo "test.sh: tap printed no summary for $*" >&2
    fail=$((fail + 1)); status=1; return
  fi
  local p f s
  p=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary"); f=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary")
  s=$(sed -nE 's/.*skip: ([0-9]+).*/\1/p' <<<"$summary")
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${s:-0}))
  [ "$rc" -eq 0 ] || status=1
}

case "$lane" in
  unit) run_tap test/unit ;;
  integration) run_tap test/integration; run_tap test/final ;;
  all) run_tap test/unit; run_tap test/integration; run_tap test/final ;;
  # The cgroup v2 VM runs under software emulation: a focused set, one job at a time, and a file
  # may take 3x tap's 300 s there (node starts in ~2 s, fork+exec ~60 ms); the VM's own -t bounds the lane.
  # fault-crash: the steps at which cgroups exist (before them nothing differs between v1 and v2).
  v2) POD_LAUNCH_TEST_CRASH_STEPS=cgroups,container-started,teardown-step run_tap --jobs=1 --timeout 900 $(sed -e 's/#.*//' -e '/^$/d' test/v2-lane.txt); run_tap test/final ;;
  *) echo "usage: scripts/test.sh [all|unit|integration|v2]" >&2; exit 2 ;;
esac

if [ "${POD_LAUNCH_FAIL_SKIP:-0}" = 1 ] && [ "$skip" -gt 0 ]; then
  echo "test.sh: $skip test(s) skipped, and skips fail this run (POD_LAUNCH_FAIL_SKIP=1)" >&2
  status=1
fi
echo "$pass passed, $fail failed, $skip skipped"
exit "$status"
