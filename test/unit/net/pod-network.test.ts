import t from 'tap'
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseManifest } from '../../../src/spec/index.js'
import { execPlugin, networkSettings, planNetwork, pluginConfig, portMappings, type ConfList, type RuntimeConf } from '../../../src/net/index.js'

const spec = (ports: object[] = [], extra: object = {}) =>
  parseManifest({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web' },
    spec: {
      containers: [
        { name: 'a', image: 'host', command: ['true'] },
        { name: 'b', image: 'host', command: ['true'], ports },
      ],
      ...extra,
    },
  }).spec

t.test('portMappings from every port with a hostPort: protocol lower case, hostIP when set', async t => {
  const s = spec([
    { containerPort: 80 },
    { containerPort: 8080, hostPort: 18080 },
    { containerPort: 53, hostPort: 5353, protocol: 'UDP', hostIP: '198.18.0.1' },
  ])
  t.same(portMappings(s), [
    { hostPort: 18080, containerPort: 8080, protocol: 'tcp' },
    { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '198.18.0.1' },
  ])
})

t.test('hostIP must be an IP and come with a hostPort', async t => {
  t.throws(() => spec([{ containerPort: 80, hostPort: 1, hostIP: 'localhost' }]), {
    message: /spec\.containers\[1\]\.ports\[0\]\.hostIP: "localhost" is not an IP address/,
  })
  t.throws(() => spec([{ containerPort: 80, hostIP: '198.18.0.1' }]), { message: /spec\.containers\[1\]\.ports\[0\]\.hostIP: needs a hostPort/ })
})

t.test('settings: options, then POD_LAUNCH_* env, then defaults', async t => {
  const saved = { ...process.env }
  t.teardown(() => {
    for (const k of ['POD_LAUNCH_NETWORK', 'POD_LAUNCH_CNI_CONF_DIR', 'POD_LAUNCH_CNI_BIN_DIR']) {
      if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
    }
  })
  delete process.env.POD_LAUNCH_NETWORK
  delete process.env.POD_LAUNCH_CNI_CONF_DIR
  delete process.env.POD_LAUNCH_CNI_BIN_DIR
  t.same(networkSettings(), { network: 'cni', confDir: '/etc/pod-launch/net.d', binDirs: ['/usr/lib/cni', '/opt/cni/bin'] })
  process.env.POD_LAUNCH_NETWORK = 'none'
  process.env.POD_LAUNCH_CNI_CONF_DIR = '/e/conf'
  process.env.POD_LAUNCH_CNI_BIN_DIR = '/e/bin1:/e/bin2'
  t.same(networkSettings(), { network: 'none', confDir: '/e/conf', binDirs: ['/e/bin1', '/e/bin2'] })
  t.same(networkSettings({ network: 'cni', cniConfDir: '/o/conf', cniBinDir: '/o/bin' }), { network: 'cni', confDir: '/o/conf', binDirs: ['/o/bin'] })
  t.throws(() => networkSettings({ network: 'bridge' as 'cni' }), { step: 'cni.options', message: /"bridge" must be cni or none/ })
})

t.test('plan: hostNetwork gets the host, --network none loopback, a hostPort without CNI is refused naming the field', async t => {
  const warnings: string[] = []
  const warn = (m: string) => warnings.push(m)
  t.same(planNetwork(spec([], { hostNetwork: true }), { network: 'none' }, warn), { kind: 'host' })
  t.match(planNetwork(spec(), { network: 'none' }, warn), { kind: 'none' })
  t.throws(() => planNetwork(spec([{ containerPort: 80, hostPort: 8080 }]), { network: 'none' }, warn), {
    step: 'cni.plan',
    exitCode: 2,
    message: 'cni.plan: spec.containers[1].ports[0].hostPort: a hostPort needs a CNI network: the pod runs with --network none (loopback only)',
  })
  t.same(warnings, [])
})

t.test('plan: no plugins in the bin dir: loopback only, one warning, no default config written', async t => {
  const dir = t.testdir({ bin: {}, conf: {} })
  const warnings: string[] = []
  const plan = planNetwork(spec(), { network: 'cni', cniConfDir: join(dir, 'conf'), cniBinDir: join(dir, 'bin') }, m => warnings.push(m))
  t.match(plan, { kind: 'none', why: /no CNI plugins in/ })
  t.equal(warnings.length, 1)
  t.match(warnings[0], /apt-get install containernetworking-plugins iptables/)
  t.notOk(existsSync(join(dir, 'conf', '87-pod-launch.conflist')))
  t.throws(
    () => planNetwork(spec([{ containerPort: 80, hostPort: 8080 }]), { network: 'cni', cniConfDir: join(dir, 'conf'), cniBinDir: join(dir, 'bin') }, () => {}),
    {
      message: /spec\.containers\[1\]\.ports\[0\]\.hostPort: a hostPort needs a CNI network: no CNI plugins in/,
    },
  )
})

const plugin = (dir: string, name: string, body: string) => {
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`)
  chmodSync(join(dir, name), 0o755)
}

t.test('plan: with plugins and no config the default is written; a config naming a missing plugin is an error', async t => {
  const dir = t.testdir({
    bin: {},
    conf: {},
    conf2: { '10-x.conflist': JSON.stringify({ cniVersion: '1.0.0', name: 'x', plugins: [{ type: 'bridge' }, { type: 'nosuch' }] }) },
  })
  for (const p of ['bridge', 'host-local', 'portmap', 'firewall']) plugin(join(dir, 'bin'), p, 'exit 0')
  const plan = planNetwork(spec([{ containerPort: 80, hostPort: 8080 }]), { network: 'cni', cniConfDir: join(dir, 'conf'), cniBinDir: join(dir, 'bin') }, () =>
    t.fail('no warning'),
  )
  t.match(plan, {
    kind: 'cni',
    list: { name: 'pod-launch', file: join(dir, 'conf', '87-pod-launch.conflist') },
    portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
  })
  t.ok(existsSync(join(dir, 'conf', '87-pod-launch.conflist')))
  t.throws(() => planNetwork(spec(), { network: 'cni', cniConfDir: join(dir, 'conf2'), cniBinDir: join(dir, 'bin') }, () => {}), {
    step: 'cni.plan',
    message: /10-x\.conflist: plugin nosuch not found in/,
  })
})

const LIST: ConfList = {
  file: '/x.conflist',
  name: 'plt-x',
  cniVersion: '0.4.0',
  disableCheck: false,
  plugins: [
    { type: 'bridge', bridge: 'plt0' },
    { type: 'portmap', capabilities: { portMappings: true, bandwidth: false } },
  ],
}
const RT: RuntimeConf = {
  containerId: 'c1',
  netns: '/proc/1/ns/net',
  ifName: 'eth0',
  args: [
    ['IgnoreUnknown', '1'],
    ['K8S_POD_NAME', 'web'],
  ],
  capabilityArgs: { portMappings: [{ hostPort: 1, containerPort: 2, protocol: 'tcp' }], bandwidth: { x: 1 } },
}

t.test('plugin config: name and cniVersion of the list, runtimeConfig only for declared capabilities, prevResult in the list version', async t => {
  t.same(pluginConfig(LIST, LIST.plugins[0], RT), { type: 'bridge', bridge: 'plt0', name: 'plt-x', cniVersion: '0.4.0' })
  const prev = {
    cniVersion: '1.0.0',
    interfaces: [],
    ips: [{ address: '198.18.0.5/24' }],
    routes: [],
    dns: {},
    raw: { cniVersion: '1.0.0', ips: [{ address: '198.18.0.5/24' }] },
  }
  const c = pluginConfig(LIST, LIST.plugins[1], RT, prev)
  t.same(c.runtimeConfig, { portMappings: [{ hostPort: 1, containerPort: 2, protocol: 'tcp' }] }, 'bandwidth is not declared true')
  t.match(c.prevResult, { cniVersion: '0.4.0', ips: [{ version: '4', address: '198.18.0.5/24' }] })
})

t.test('exec: CNI_* environment, config on stdin, result on stdout; error results and plain failures', async t => {
  const dir = t.testdir()
  plugin(dir, 'echo-env', `env | grep '^CNI_' | sort > "${dir}/env"; cat > "${dir}/stdin"; echo '{"cniVersion":"1.0.0"}'`)
  const out = await execPlugin('ADD', 'echo-env', ['/nonexistent', dir], RT, { hello: 1 })
  t.equal(out.stdout.trim(), '{"cniVersion":"1.0.0"}')
  t.same(readFileSync(join(dir, 'env'), 'utf8').trim().split('\n'), [
    'CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=web',
    'CNI_COMMAND=ADD',
    'CNI_CONTAINERID=c1',
    'CNI_IFNAME=eth0',
    'CNI_NETNS=/proc/1/ns/net',
    `CNI_PATH=/nonexistent:${dir}`,
  ])
  t.same(JSON.parse(readFileSync(join(dir, 'stdin'), 'utf8')), { hello: 1 })
  plugin(dir, 'refuse', `echo '{"cniVersion":"1.0.0","code":11,"msg":"busy","details":"lock held"}'; exit 1`)
  await t.rejects(execPlugin('DEL', 'refuse', [dir], RT, {}), {
    step: 'cni.del',
    code: 'CNI_11',
    message: 'cni.del: refuse: busy: lock held (CNI error 11, try again later)',
  })
  plugin(dir, 'crash', `echo 'panic: something' >&2; exit 2`)
  await t.rejects(execPlugin('ADD', 'crash', [dir], RT, {}), {
    step: 'cni.add',
    code: 'CNI_PLUGIN_FAILED',
    message: 'cni.add: crash: exit 2: panic: something',
  })
  await t.rejects(execPlugin('ADD', 'missing', [dir], RT, {}), { code: 'ENOENT', message: `cni.add: missing: plugin not found in ${dir}` })
})

t.test('check says which network pods get, and how to get plugins', async t => {
  const { checkNetwork } = await import('../../../src/manage/check.js')
  const dir = t.testdir({ bin: {}, conf: {}, conf2: { '10-x.conflist': JSON.stringify({ cniVersion: '1.0.0', name: 'x', plugins: [{ type: 'bridge' }] }) } })
  const none = checkNetwork({ network: 'cni', cniConfDir: join(dir, 'conf'), cniBinDir: join(dir, 'bin') })
  t.match(none, [
    { status: 'warn', feature: 'CNI plugins', detail: /loopback only, hostPort is refused/, hint: /apt-get install containernetworking-plugins iptables/ },
  ])
  t.equal(none.length, 1)
  plugin(join(dir, 'bin'), 'bridge', 'exit 0')
  t.match(checkNetwork({ network: 'cni', cniConfDir: join(dir, 'conf2'), cniBinDir: join(dir, 'bin') }), [
    { status: 'pass', feature: 'CNI plugins', detail: /^bridge found in / },
    { status: 'pass', feature: 'CNI network', detail: /^x \(cniVersion 1\.0\.0\) from .*10-x\.conflist$/ },
  ])
  t.match(checkNetwork({ network: 'cni', cniConfDir: join(dir, 'conf'), cniBinDir: join(dir, 'bin') }), [
    { status: 'fail', detail: /host-local, portmap, firewall missing/ },
  ])
  t.match(checkNetwork({ network: 'none' }), [{ status: 'warn', detail: /loopback only/ }])
})

t.test('describeNetwork says what a run would do, writing nothing', async t => {
  const { describeNetwork } = await import('../../../src/net/index.js')
  const dir = t.testdir({ bin: {}, conf: {} })
  plugin(join(dir, 'bin'), 'bridge', 'exit 0')
  const s = spec([{ containerPort: 80, hostPort: 8080, hostIP: '198.18.0.1' }])
  t.match(
    describeNetwork(s, { network: 'cni', cniConfDir: join(dir, 'conf'), cniBinDir: join(dir, 'bin') }),
    /^CNI ADD of the default network, written to .* on first use .*ifname eth0.*portMappings 198\.18\.0\.1:8080->80\/tcp; DEL at teardown$/,
  )
  t.notOk(existsSync(join(dir, 'conf', '87-pod-launch.conflist')), 'nothing written')
  t.equal(describeNetwork(s, { network: 'none' }), 'loopback only (--network none)')
  t.match(describeNetwork(spec([], { hostNetwork: true })), /no CNI call/)
  t.match(describeNetwork(s, { network: 'cni', cniConfDir: join(dir, 'conf'), cniBinDir: join(dir, 'nothing') }), /^loopback only: no CNI plugins in/)
})
