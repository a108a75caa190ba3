#!/bin/bash
# session 6: start.sh, lib-floor.sh (BASE = main before session 6), run.sh, and the CLI run cycle before/after, in one lock hold
set -u
D=/work/speed/bench/reported-run/issue21-s6
P=${PREFIX:-s6}
cd /work/speed
stamp() { echo "$1 $(date +%H:%M:%S) $(uptime)" >> $D/$P-uptime.txt; }
stamp "lock taken"
RUNS=30 BASE=/tmp/speed-base OUT=$D/$P-start bench/start.sh > $D/$P-start.txt 2>&1; stamp "start.sh rc=$?"
RUNS=15 BASE=/tmp/speed-base bench/lib-floor.sh > $D/$P-lib-floor.txt 2>&1; stamp "lib-floor.sh rc=$?"
RUNS=15 OUT=$D/$P-run bench/run.sh > $D/$P-run.log 2>&1; stamp "run.sh rc=$?"
RAW=$D/$P-run-cpu-ab.tsv python3 /tmp/speed/cpu.py 20 /tmp/speed-base /work/speed > $D/$P-run-cpu-ab.txt 2>&1; stamp "run A/B rc=$?"
