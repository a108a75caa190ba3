#!/bin/bash
# session 7 (cli7), in one hold of the bench lock: start.sh (BASE = main 9563c3a), the foreground run A/B
# at N=2 and N=10 (BASE and this checkout; with MID=<a checkout>, that one too), the library's first pod in
# fresh processes (lib-first.mjs), run.sh (crun, runc, the floor and `node -e 0` in the same run):
#   /work/coord/bench env PREFIX=s7 [MID=/tmp/cli7-mid] bench/reported-run/issue21-s7-cli/bench-all.sh
set -u
D=$(cd "$(dirname "$0")" && pwd)
P=${PREFIX:-s7}
cd "$D/../../.."
BASE=${BASE:-/work/base}
stamp() { echo "$1 $(date -u +%H:%M:%S) $(cat /proc/loadavg)" >> "$D/$P-uptime.txt"; }
stamp "lock taken"
RUNS=30 BASE=$BASE OUT=$D/$P-start bench/start.sh > "$D/$P-start.txt" 2>&1; stamp "start.sh rc=$?"
RAW=$D/$P-run-cpu-ab-n2.tsv WORK=/tmp/cli7-ab python3 "$D/run-cpu-ab.py" 20 2 "$BASE" ${MID:+"$MID"} "$PWD" > "$D/$P-run-cpu-ab-n2.txt" 2>&1; stamp "run A/B N=2 rc=$?"
RAW=$D/$P-run-cpu-ab-n10.tsv WORK=/tmp/cli7-ab python3 "$D/run-cpu-ab.py" 10 10 "$BASE" ${MID:+"$MID"} "$PWD" > "$D/$P-run-cpu-ab-n10.txt" 2>&1; stamp "run A/B N=10 rc=$?"
rm -rf /tmp/cli7-ab; for d in /sys/fs/cgroup/*/pl-cli7-ab; do rmdir "$d" 2>/dev/null; done
# The library's first pod in a fresh process (cold code, as every CLI run) against its second and third, N=2.
mkdir -p /tmp/cli7-lf
for i in $(seq 10); do for c in "$BASE" "$PWD"; do echo "$c	$(node "$D/lib-first.mjs" "$c" 2 /tmp/cli7-lf pl-cli7-lf)"; done; done > "$D/$P-lib-first.tsv" 2>&1; stamp "lib-first rc=$?"
rm -rf /tmp/cli7-lf; for d in /sys/fs/cgroup/*/pl-cli7-lf; do rmdir "$d" 2>/dev/null; done
RUNS=15 OUT=$D/$P-run bench/run.sh > "$D/$P-run.log" 2>&1; stamp "run.sh rc=$?"
