#!/bin/bash
# session 7 (lib7): lib-floor.sh (BASE = main 9563c3a) twice, then run.sh (crun, runc, the floor,
# the library, node -e 0), in one hold of the bench lock; load average stamped between them.
set -u
D=/work/lib/bench/reported-run/issue21-s7-lib
P=${PREFIX:-s7}
cd /work/lib
stamp() { echo "$1 $(date +%H:%M:%S) $(uptime)" >> $D/$P-uptime.txt; }
stamp "lock taken"
RUNS=20 BASE=/work/base bench/lib-floor.sh > $D/$P-lib-floor-a.txt 2>&1; stamp "lib-floor.sh rc=$?"
RUNS=20 BASE=/work/base bench/lib-floor.sh > $D/$P-lib-floor-b.txt 2>&1; stamp "lib-floor.sh rc=$?"
RUNS=15 RUNTIMES="crun runc floor pl-lib node0" OUT=$D/$P-run bench/run.sh > $D/$P-run.log 2>&1; stamp "run.sh rc=$?"
