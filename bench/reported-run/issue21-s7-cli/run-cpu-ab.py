#!/usr/bin/env python3
# run-cpu-ab.py REPS N checkout...: a foreground `pod-launch run` of an N-container /bin/true pod (--network none),
# every checkout and `node -e 0` once per round (order rotated), 3 warm-up rounds; stdout and stderr into a file
# (as bench/loop.sh does). Per command: median wall ms and median CPU ms (user+sys from wait4: the node process and
# the children it reaped), CPU above `node -e 0`, and the median of the per-round differences to the first checkout
# with its quartiles. Raw samples to $RAW.
import json, os, sys, time, statistics
reps, n = int(sys.argv[1]), int(sys.argv[2]); dirs = sys.argv[3:]
work = os.environ.get('WORK', '/tmp/cli7-ab'); os.makedirs(work, exist_ok=True)
pod = f'{work}/pod-n{n}.json'
with open(pod, 'w') as f:
    json.dump({'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': f'ab-n{n}'}, 'spec': {'restartPolicy': 'Never',
              'containers': [{'name': f'c{i}', 'image': 'host', 'command': ['/bin/true']} for i in range(1, n + 1)]}}, f)
cmds = {d: ['node', f'{d}/bin/pod-launch', 'run', '--network', 'none', '--root', f'{work}/root', '--cgroup-parent', 'pl-cli7-ab', pod] for d in dirs}
cmds['node -e 0'] = ['node', '-e', '0']
names = list(cmds)
res = {k: [] for k in names}
out = os.open(f'{work}/out.txt', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
for r in range(-3, reps):
    order = names[r % len(names):] + names[:r % len(names)]
    for k in order:
        os.ftruncate(out, 0); os.lseek(out, 0, 0)
        t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:
            os.dup2(out, 1); os.dup2(out, 2)
            os.execvp(cmds[k][0], cmds[k])
        _, status, ru = os.wait4(pid, 0)
        t1 = time.monotonic()
        if os.waitstatus_to_exitcode(status) != 0: print(f'{k}: exit {status}', file=sys.stderr); sys.exit(1)
        if r >= 0: res[k].append(((t1 - t0) * 1000, (ru.ru_utime + ru.ru_stime) * 1000))
z = statistics.median(c for _, c in res['node -e 0'])
print(f'N={n}: {reps} rounds + 3 warm-up, load {open("/proc/loadavg").read().split()[:3]}')
print('| command | wall median ms | CPU median ms | CPU above `node -e 0` | wall, per-round difference to the first (quartiles) | CPU, the same |')
print('|---|---:|---:|---:|---:|---:|')
def q(xs):
    s = statistics.quantiles(xs, n=4); return f'{s[1]:+.1f} ({s[0]:+.1f} .. {s[2]:+.1f})'
for k in names:
    w = statistics.median(x for x, _ in res[k]); c = statistics.median(y for _, y in res[k])
    dw = [a[0] - b[0] for a, b in zip(res[k], res[names[0]])]; dc = [a[1] - b[1] for a, b in zip(res[k], res[names[0]])]
    print(f'| {k} | {w:.1f} | {c:.1f} | {"-" if k == "node -e 0" else f"+{c - z:.1f}"} | {"-" if k == names[0] else q(dw)} | {"-" if k == names[0] else q(dc)} |')
with open(os.environ.get('RAW', f'{work}/raw.tsv'), 'w') as f:
    for k in names:
        for w, c in res[k]: f.write(f'{k}\t{w:.2f}\t{c:.2f}\n')
