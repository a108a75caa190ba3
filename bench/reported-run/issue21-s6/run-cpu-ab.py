#!/usr/bin/env python3
# cpu.py REPS checkout...: a foreground `pod-launch run` of a 2-container /bin/true pod (--network none), every checkout
# once per repetition (order rotated), 3 warm-up rounds; per checkout the median wall ms and median CPU ms (user+sys
# from wait4: the node process and the children it reaped), and `node -e 0` as the zero.
import os, sys, time, statistics, subprocess
reps = int(sys.argv[1]); dirs = sys.argv[2:]
cmds = {d: ['node', f'{d}/bin/pod-launch', 'run', '--network', 'none', '--root', '/tmp/speed-root', '--cgroup-parent', 'pl-speed', '/tmp/speed-pod.json'] for d in dirs}
cmds['node -e 0'] = ['node', '-e', '0']
names = list(cmds)
res = {n: [] for n in names}
devnull = os.open(os.devnull, os.O_RDWR)
for r in range(-3, reps):
    order = names[r % len(names):] + names[:r % len(names)]
    for n in order:
        t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:
            os.dup2(devnull, 1); os.dup2(devnull, 2)
            os.execvp(cmds[n][0], cmds[n])
        _, status, ru = os.wait4(pid, 0)
        t1 = time.monotonic()
        if os.waitstatus_to_exitcode(status) != 0: print(f'{n}: exit {status}', file=sys.stderr)
        if r >= 0: res[n].append(((t1 - t0) * 1000, (ru.ru_utime + ru.ru_stime) * 1000))
z = statistics.median(c for _, c in res['node -e 0'])
print(f'{reps} rounds + 3 warm-up, load {open("/proc/loadavg").read().split()[:3]}')
print('| command | wall median ms | CPU median ms | CPU above `node -e 0` |')
print('|---|---:|---:|---:|')
for n in names:
    w = statistics.median(x for x, _ in res[n]); c = statistics.median(y for _, y in res[n])
    print(f'| {n} | {w:.1f} | {c:.1f} | {"-" if n == "node -e 0" else f"+{c - z:.1f}"} |')
with open(os.environ.get('RAW', '/tmp/speed/cpu.raw'), 'w') as f:
    for n in names:
        for w, c in res[n]: f.write(f'{n}\t{w:.2f}\t{c:.2f}\n')
