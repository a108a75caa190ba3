import t from 'tap'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { main } from '../../../src/cli/main.js'
import { asRootError, requireRoot, wholeNumber } from '../../../src/cli/globals.js'

function io() {
  const out: string[] = []
  const err: string[] = []
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out: () => out.join(''), err: () => err.join('') }
}

t.test('--help lists the run command and exits 0', async t => {
  const c = io()
  t.equal(await main(['--help'], c.io), 0)
  t.match(c.out(), /pod-launch run <manifest>/)
})

t.test('no manifest is a usage error, exit 2, with a hint', async t => {
  const c = io()
  t.equal(await main(['run'], c.io), 2)
  t.match(c.err(), /^pod-launch: .*\nhint: pod-launch run --help\n$/)
})

t.test('an invalid manifest exits 2 listing every field, before anything is created', async t => {
  const file = join(t.testdir(), 'bad.json')
  writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containers: [{ name: 'A!', image: 'host' }] } }))
  for (const argv of [['run', file], [file]]) {
    const c = io()
    t.equal(await main(argv, c.io), 2)
    t.match(c.err(), /spec\.containers\[0\]\.name: "A!" must be a DNS-1123 label/)
    t.match(c.err(), /spec\.containers\[0\]\.command: required/)
    t.match(c.err(), /\nhint: fix the manifest fields/)
  }
})

t.test('a missing manifest file names the path, exit 2', async t => {
  const c = io()
  t.equal(await main(['/no/such/pod.yaml'], c.io), 2)
  t.equal(c.err(), 'pod-launch: spec.read: /no/such/pod.yaml: no such file or directory (ENOENT)\n')
})

t.test('an unknown command is a usage error naming the nearest command, exit 2', async t => {
  const c = io()
  t.equal(await main(['sp'], c.io), 2)
  t.equal(c.err(), "pod-launch: unknown command 'sp' (did you mean 'ps'?)\nhint: pod-launch --help\n")
  for (const word of ['pull', 'cpp', 'completely']) {
    const d = io()
    t.equal(await main([word, 'x'], d.io), 2, word)
    t.match(d.err(), new RegExp(`^pod-launch: unknown command '${word}'`))
  }
})

t.test('the short form takes an existing file, even one named like a command', async t => {
  const dir = t.testdir({ ps: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containers: [{ name: 'A!' }] } }) })
  const c = io()
  const cwd = process.cwd()
  process.chdir(dir)
  t.teardown(() => process.chdir(cwd))
  t.equal(await main(['./ps'], c.io), 2)
  t.match(c.err(), /spec\.containers\[0\]\.name/)
})

t.test('each subcommand has its own --help', async t => {
  const c = io()
  t.equal(await main(['image', 'import', '--help'], c.io), 0)
  t.match(c.out(), /^pod-launch image import <file> \[name\]/)
  t.match(c.out(), /Global options:[^]*--cgroup-parent[^]*POD_LAUNCH_CGROUP_PARENT/)
  const s = io()
  t.equal(await main(['stop', '--help'], s.io), 0)
  t.match(s.out(), /--grace-period/)
})

t.test('global options are taken by every command, before or after it', async t => {
  const root = t.testdir()
  for (const argv of [
    ['ps', '--cgroup-parent', 'x', '--root', root],
    ['--root', root, '--network', 'none', 'ps'],
    ['image', 'ls', '--cni-conf-dir', root, '--root', root],
  ]) {
    const c = io()
    t.equal(await main(argv, c.io), 0, argv.join(' '))
    t.equal(c.err(), '')
  }
})

t.test('check and explain use --network, --cni-conf-dir and --cni-bin-dir, or their env vars', async t => {
  const conflist = {
    cniVersion: '1.0.0',
    name: 'plt-conf',
    plugins: [{ type: 'bridge', bridge: 'plt-conf0', ipam: { type: 'host-local', subnet: '198.18.250.0/24' } }],
  }
  const pod = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: host\n    command: [sleep, "1"]\n'
  const dir = t.testdir({ 'net.d': { '10-plt.conflist': JSON.stringify(conflist) }, bin: { bridge: '#!/bin/sh\nexit 1\n' }, 'pod.yaml': pod })
  chmodSync(join(dir, 'bin', 'bridge'), 0o755)
  const conf = join(dir, 'net.d')
  const file = join(conf, '10-plt.conflist')
  const [bin, nobin] = [join(dir, 'bin'), join(dir, 'no-plugins')]
  const run = async (argv: string[], env: NodeJS.ProcessEnv) => {
    const c = io()
    const code = await main(argv, c.io, env)
    return { code, out: c.out() }
  }
  const check = async (argv: string[], env: NodeJS.ProcessEnv) =>
    JSON.parse((await run(['check', '--json', ...argv], env)).out) as { status: string; feature: string; detail: string }[]
  const explain = (argv: string[], env: NodeJS.ProcessEnv) => run(['explain', join(dir, 'pod.yaml'), ...argv], env)
  for (const [how, opts, env] of [
    ['options', (b: string) => ['--network', 'cni', '--cni-conf-dir', conf, '--cni-bin-dir', b], () => ({})],
    ['env vars', () => [], (b: string) => ({ POD_LAUNCH_NETWORK: 'cni', POD_LAUNCH_CNI_CONF_DIR: conf, POD_LAUNCH_CNI_BIN_DIR: b })],
  ] as const) {
    const found = await check(opts(bin), env(bin))
    t.match(
      found.find(l => l.feature === 'CNI network'),
      { status: 'pass', detail: `plt-conf (cniVersion 1.0.0) from ${file}` },
      `check: the conf dir (${how})`,
    )
    t.match(
      found.find(l => l.feature === 'CNI plugins'),
      { status: 'pass', detail: `bridge found in ${bin}` },
      `check: the bin dir (${how})`,
    )
    const none = await check(opts(nobin), env(nobin))
    t.match(
      none.find(l => l.feature === 'CNI plugins'),
      { status: 'warn', detail: `none of bridge in ${nobin}: pods get loopback only, hostPort is refused` },
    )
    const e = await explain(opts(bin), env(bin))
    t.equal(e.code, 0)
    t.match(e.out, `\nnetwork: CNI ADD of plt-conf from ${file} (bridge)`, `explain: the conf dir (${how})`)
    t.match((await explain(opts(nobin), env(nobin))).out, `\nnetwork: loopback only: no CNI plugins in ${nobin}`, `explain: the bin dir (${how})`)
  }
  t.match(
    (await check([], { POD_LAUNCH_NETWORK: 'none' })).find(l => l.feature === 'network'),
    { status: 'warn', detail: /loopback only/ },
    'check: POD_LAUNCH_NETWORK=none',
  )
  t.match((await explain([], { POD_LAUNCH_NETWORK: 'none' })).out, '\nnetwork: loopback only (--network none)', 'explain: POD_LAUNCH_NETWORK=none')
})

t.test('POD_LAUNCH_ROOT is the state root when --root is not given', async t => {
  const id = '0123abcd-0000-4000-8000-000000000000'
  const root = t.testdir({ [id]: { 'pod.json': 'not json' } })
  const c = io()
  t.equal(await main(['ps', '--json'], c.io, { POD_LAUNCH_ROOT: root }), 0)
  t.match(c.out(), /"id": "0123abcd-0000-4000-8000-000000000000"/, 'the full id')
  const d = io()
  t.equal(await main(['ps', '--json', '--root', t.testdir()], d.io, { POD_LAUNCH_ROOT: root }), 0)
  t.equal(d.out(), '[]\n')
})

t.test('POD_LAUNCH_CGROUP_PARENT and POD_LAUNCH_DEBUG stand for --cgroup-parent and --debug; the option wins', async t => {
  const dir = t.testdir({
    'pod.yaml': 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: host\n    command: [sleep, "1"]\n',
  })
  const run = async (argv: string[], env: NodeJS.ProcessEnv) => {
    const c = io()
    const code = await main(argv, c.io, env)
    return { code, out: c.out(), err: c.err() }
  }
  const explain = (argv: string[], env: NodeJS.ProcessEnv) => run(['explain', join(dir, 'pod.yaml'), '--network', 'none', ...argv], env)
  t.match((await explain([], { POD_LAUNCH_CGROUP_PARENT: 'pl-envtest' })).out, /mkdir \/sys\/fs\/cgroup\/(\w+\/)?pl-envtest\/pod-/, 'the env var')
  const both = (await explain(['--cgroup-parent', 'pl-flagtest'], { POD_LAUNCH_CGROUP_PARENT: 'pl-envtest' })).out
  t.match(both, /\/pl-flagtest\/pod-/, 'the option over the env var')
  t.notMatch(both, /pl-envtest/)
  const quiet = await run(['--root', dir, 'inspect', 'nosuch'], {})
  t.equal(quiet.err, `pod-launch: pod.resolve: nosuch: no such pod\nhint: pod-launch ps lists the pods under ${dir}\n`)
  for (const env of [{ POD_LAUNCH_DEBUG: '1' }, { POD_LAUNCH_DEBUG: 'true' }]) {
    const loud = await run(['--root', dir, 'inspect', 'nosuch'], env)
    t.equal(loud.code, 1)
    t.match(
      loud.err,
      /^pod-launch: pod\.resolve: nosuch: no such pod\n[^]*PodError: pod\.resolve: nosuch: no such pod\n +at /,
      `the stack with ${JSON.stringify(env)}`,
    )
  }
  t.equal((await run(['--root', dir, 'inspect', 'nosuch'], { POD_LAUNCH_DEBUG: '0' })).err, quiet.err, 'POD_LAUNCH_DEBUG=0 is off')
})

t.test('number options must be integers; a negative grace period is the default', async t => {
  for (const argv of [
    ['stop', 'x', '--grace-period', 'abc'],
    ['stop', 'x', '--grace-period=1.5'],
    ['logs', 'x', '--tail', 'ten'],
    ['run', 'x.yaml', '--pids-limit', '0'],
  ]) {
    const c = io()
    t.equal(await main(argv, c.io), 2, argv.join(' '))
    t.match(c.err(), /^pod-launch: --[a-z-]+ \S+: must be an integer/, argv.join(' '))
  }
  const g = wholeNumber('grace-period', { negativeIsDefault: true })
  t.equal(g('-5'), undefined)
  t.equal(g('0'), 0)
  t.equal(g('30'), 30)
})

t.test('exec without a command prints its usage, exit 2', async t => {
  const c = io()
  t.equal(await main(['exec', 'x'], c.io), 2)
  t.match(c.err(), /exec: a command is required\nusage: pod-launch exec \[-i\] \[-t\] POD/)
})

t.test('commands that act on pods say that root is needed, once, before trying', async t => {
  t.doesNotThrow(() => requireRoot('ps', 1000))
  t.doesNotThrow(() => requireRoot('stop', 0))
  t.throws(() => requireRoot('stop', 1000), { message: 'cli.root: pod-launch stop: needs root (running as uid 1000)', hint: /sudo pod-launch stop/ })
  const raw = Object.assign(new Error("EACCES: permission denied, scandir '/run/pod-launch'"), { code: 'EACCES', path: '/run/pod-launch' })
  t.match(asRootError(raw, 1000), { message: 'cli.root: /run/pod-launch: permission denied (running as uid 1000)', hint: /needs root/ })
  t.equal(asRootError(raw, 0), raw)
})
