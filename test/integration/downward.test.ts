// The downward API in real containers: resourceFieldRef env values (with and
// without a divisor, unset limits read as the node's allocatable), every
// fieldRef path, HOSTNAME, and a downwardAPI volume's files, modes and
// read-only mount.
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, hostname, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { hostIP } from '../../src/pod/node.js'
import { requires } from '../helpers/requires.js'
import { manifest, run, terminated, uniqueName } from '../helpers/pods.js'

const skip = requires('root', 'built')
const res = (name: string, resource: string, divisor?: string, containerName?: string) => ({
  name,
  valueFrom: { resourceFieldRef: { resource, ...(divisor ? { divisor } : {}), ...(containerName ? { containerName } : {}) } },
})
const field = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } })
const memTotal = () => Number(/^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024

t.test('resourceFieldRef env: 125m/250m cpu round up to 1 core, or 125/250 in 1m; 32Mi/64Mi in bytes and in 1Mi', { skip }, async t => {
  const { lines, result } = await run(
    t,
    manifest(uniqueName('resenv'), [
      {
        name: 'c',
        command: ['sh', '-c', 'echo "$RC $LC $RCM $LCM $RM $LM $RMI $LMI"'],
        resources: { requests: { cpu: '125m', memory: '32Mi' }, limits: { cpu: '250m', memory: '64Mi' } },
        env: [
          res('RC', 'requests.cpu'),
          res('LC', 'limits.cpu'),
          res('RCM', 'requests.cpu', '1m'),
          res('LCM', 'limits.cpu', '1m'),
          res('RM', 'requests.memory'),
          res('LM', 'limits.memory'),
          res('RMI', 'requests.memory', '1Mi'),
          res('LMI', 'limits.memory', '1Mi'),
        ],
      } as never,
    ]),
  )
  t.equal(result.phase, 'Succeeded')
  t.same(lines('c'), [`1 1 125 250 ${32 * 2 ** 20} ${64 * 2 ** 20} 32 64`])
})

t.test("an unset limit reads as the node's allocatable: its cpu count and MemTotal", { skip }, async t => {
  const { lines } = await run(
    t,
    manifest(uniqueName('resnode'), [
      {
        name: 'c',
        command: ['sh', '-c', 'echo "$CPU $MEM $REQ $SIDE"'],
        env: [res('CPU', 'limits.cpu'), res('MEM', 'limits.memory'), res('REQ', 'requests.cpu', '1m'), res('SIDE', 'limits.memory', '1Ki', 'side')],
      } as never,
      { name: 'side', command: ['true'], resources: { limits: { memory: '48Mi' } } } as never,
    ]),
  )
  t.same(lines('c'), [`${cpus().length} ${totalmem()} 0 ${48 * 1024}`])
  t.equal(totalmem(), memTotal(), 'MemTotal of /proc/meminfo')
})

t.test('fieldRef for every path the downward API offers to env, and HOSTNAME', { skip }, async t => {
  const name = uniqueName('fields')
  const paths = [
    'metadata.name',
    'metadata.namespace',
    'metadata.uid',
    'spec.nodeName',
    'spec.serviceAccountName',
    'status.hostIP',
    'status.hostIPs',
    'status.podIP',
    'status.podIPs',
    "metadata.labels['app']",
    "metadata.annotations['example.com/owner']",
  ]
  const m = manifest(
    name,
    [
      {
        name: 'c',
        command: ['sh', '-c', `echo "${paths.map((_, i) => `$V${i}`).join('|')}|$HOSTNAME|$(hostname)"`],
        env: paths.map((p, i) => field(`V${i}`, p)),
      } as never,
    ],
    { serviceAccountName: 'builder', hostname: 'box' },
  )
  const { lines, pod } = await run(t, {
    ...m,
    metadata: { name, namespace: 'team-a', labels: { app: 'web' }, annotations: { 'example.com/owner': 'ops team' } },
  })
  const ip = hostIP()
  t.match(ip, /^\d+\.\d+\.\d+\.\d+$/, 'this host has an IPv4 address')
  t.same(
    lines('c'),
    [[name, 'team-a', pod.spec.uid, hostname(), 'builder', ip, ip, '', '', 'web', 'ops team', 'box', 'box'].join('|')],
    'no pod IP on a loopback-only pod',
  )
})

t.test("a hostNetwork pod: status.podIP is the host's IP, HOSTNAME the host's name, serviceAccountName defaults to default", { skip }, async t => {
  const { lines } = await run(
    t,
    manifest(
      uniqueName('hostnet'),
      [
        {
          name: 'c',
          command: ['sh', '-c', 'echo "$IP|$IPS|$SA|$HOSTNAME"'],
          env: [field('IP', 'status.podIP'), field('IPS', 'status.podIPs'), field('SA', 'spec.serviceAccountName')],
        } as never,
      ],
      { hostNetwork: true },
    ),
  )
  t.same(lines('c'), [`${hostIP()}|${hostIP()}|default|${hostname()}`])
})

t.test('a downwardAPI volume: labels, annotations, name, one label, cpu and memory files, modes, read-only', { skip }, async t => {
  const name = uniqueName('dvol')
  const m = manifest(
    name,
    [
      {
        name: 'c',
        resources: { limits: { cpu: '250m', memory: '64Mi' } },
        volumeMounts: [{ name: 'info', mountPath: '/etc/podinfo' }],
        command: [
          'sh',
          '-c',
          [
            'cd /etc/podinfo',
            'for f in labels annotations name tier cpu_limit mem_limit mem_request deep/ns; do echo "== $f"; cat $f; echo; done',
            'stat -c "%a %n" -L labels cpu_limit',
            'readlink ..data | grep -c "^\\.\\.[0-9]"',
            'readlink labels',
            'echo x > labels 2>/dev/null && echo writable || echo read-only',
          ].join('; '),
        ],
      } as never,
    ],
    {
      volumes: [
        {
          name: 'info',
          downwardAPI: {
            defaultMode: 0o640,
            items: [
              { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
              { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
              { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
              { path: 'tier', fieldRef: { fieldPath: "metadata.labels['tier']" } },
              { path: 'cpu_limit', resourceFieldRef: { containerName: 'c', resource: 'limits.cpu', divisor: '1m' }, mode: 0o444 },
              { path: 'mem_limit', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } },
              { path: 'mem_request', resourceFieldRef: { containerName: 'c', resource: 'requests.memory' } },
              { path: 'deep/ns', fieldRef: { fieldPath: 'metadata.namespace' } },
            ],
          },
        },
      ],
    },
  )
  const { lines, result } = await run(t, {
    ...m,
    metadata: { name, labels: { zone: 'us-east', tier: 'front', cluster: 'one' }, annotations: { build: 'two\nlines', 'quote"d': 'a "b"' } },
  })
  t.equal(terminated(result, 'c')?.exitCode, 0)
  t.same(lines('c'), [
    '== labels',
    'cluster="one"',
    'tier="front"',
    'zone="us-east"',
    '== annotations',
    'build="two\\nlines"',
    'quote"d="a \\"b\\""',
    '== name',
    name,
    '== tier',
    'front',
    '== cpu_limit',
    '250',
    '== mem_limit',
    '64',
    '== mem_request',
    String(64 * 2 ** 20),
    '== deep/ns',
    'default',
    '640 labels',
    '444 cpu_limit',
    '1',
    '..data/labels',
    'read-only',
  ])
})

t.test('with an fsGroup, a downwardAPI file of mode 0440 is readable by a non-root user through its group', { skip }, async t => {
  const { lines, result } = await run(
    t,
    manifest(
      uniqueName('dvolfsg'),
      [
        {
          name: 'c',
          securityContext: { runAsUser: 1000 },
          volumeMounts: [{ name: 'info', mountPath: '/etc/podinfo' }],
          command: ['sh', '-c', 'stat -c "%a %g" -L /etc/podinfo/name; cat /etc/podinfo/name'],
        } as never,
      ],
      {
        securityContext: { fsGroup: 2000 },
        volumes: [{ name: 'info', downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.namespace' }, mode: 0o440 }] } }],
      },
    ),
  )
  t.equal(terminated(result, 'c')?.exitCode, 0)
  t.same(lines('c'), ['440 2000', 'default'])
})

t.test("exec in a detached pod sees the container's downward API env, resolved the same way", { skip }, async t => {
  const BIN = fileURLToPath(new URL('../../bin/pod-launch', import.meta.url))
  const root = mkdtempSync(join(tmpdir(), 'pl-state-'))
  const cli = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>(resolve =>
      execFile(process.execPath, [BIN, '--root', root, ...args], (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    )
  t.teardown(async () => {
    for (const id of existsSync(root) ? readdirSync(root).filter(d => /^[0-9a-f-]{36}$/.test(d)) : []) await cli('rm', '--force', id)
    rmSync(root, { recursive: true, force: true })
  })
  const name = uniqueName('execenv')
  const file = join(t.testdir(), 'pod.json')
  writeFileSync(
    file,
    JSON.stringify(
      manifest(name, [{ name: 'c', command: ['sleep', '600'], env: [res('MEM', 'limits.memory', '1Mi'), field('HOST', 'status.hostIP')] } as never]),
    ),
  )
  const started = await cli('run', '-d', file)
  t.equal(started.code, 0, started.stderr)
  const exec = await cli('exec', name, '--', 'sh', '-c', 'echo "$MEM $HOST"')
  t.equal(exec.stdout.trim(), `${Math.ceil(totalmem() / 2 ** 20)} ${hostIP()}`)
})
