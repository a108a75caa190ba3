import t from 'tap'
import { convertResult, parseErrorResult, parseResult, pluginError, podIPs } from '../../../src/net/index.js'
import { PodError } from '../../../src/errors.js'

// What the Debian bridge plugin (1.1.1) prints, per requested version.
const v040 = {
  cniVersion: '0.4.0',
  interfaces: [
    { name: 'plt0', mac: 'aa:bb:cc:dd:ee:01' },
    { name: 'veth1', mac: 'aa:bb:cc:dd:ee:02' },
    { name: 'eth0', mac: 'aa:bb:cc:dd:ee:03', sandbox: '/proc/42/ns/net' },
  ],
  ips: [{ version: '4', interface: 2, address: '198.18.0.5/24', gateway: '198.18.0.1' }],
  routes: [{ dst: '0.0.0.0/0' }],
  dns: {},
}
const v100 = { ...v040, cniVersion: '1.0.0', ips: [{ interface: 2, address: '198.18.0.5/24', gateway: '198.18.0.1' }] }
const v110 = {
  ...v100,
  cniVersion: '1.1.0',
  interfaces: [...v100.interfaces.slice(0, 2), { ...v100.interfaces[2], mtu: 1500, socketPath: '/run/x.sock' }],
  routes: [{ dst: '0.0.0.0/0', gw: '198.18.0.1', mtu: 1400, priority: 10, table: 100, scope: 0 }],
}

for (const [name, result] of [
  ['0.4.0', v040],
  ['1.0.0', v100],
  ['1.1.0', v110],
] as const) {
  t.test(`a ${name} result parses to the pod IP`, async t => {
    const r = parseResult(JSON.stringify(result), 'bridge')
    t.equal(r.cniVersion, name)
    t.same(r.ips, [{ address: '198.18.0.5/24', gateway: '198.18.0.1', interface: 2 }])
    t.equal(r.interfaces[2].sandbox, '/proc/42/ns/net')
    t.same(podIPs(r), ['198.18.0.5'])
    t.same(r.raw, result, 'the raw JSON is kept for prevResult and the cache')
  })
}

t.test('0.4.0 requires ips[].version, matching the address family', async t => {
  const missing = { ...v040, ips: [{ address: '198.18.0.5/24' }] }
  t.throws(() => parseResult(JSON.stringify(missing), 'bridge'), {
    step: 'cni.result',
    message: 'cni.result: bridge: ips[0].version: must be "4" in a 0.4.0 result',
  })
  const wrong = { ...v040, ips: [{ version: '4', address: 'fd00::5/64' }] }
  t.throws(() => parseResult(JSON.stringify(wrong), 'bridge'), { message: /ips\[0\]\.version: must be "6"/ })
})

t.test('malformed results are refused naming the field', async t => {
  const cases: [string, RegExp][] = [
    ['not json', /not JSON: "not json"/],
    ['[]', /not a JSON object/],
    ['{}', /cniVersion: undefined is not a version/],
    ['{"cniVersion":"0.2.0"}', /cniVersion 0\.2\.0 is not supported/],
    ['{"cniVersion":"1.0.0","ips":{}}', /ips: must be an array/],
    ['{"cniVersion":"1.0.0","ips":[{"address":"198.18.0.5"}]}', /ips\[0\]\.address: "198\.18\.0\.5" is not an address in CIDR form/],
    [
      '{"cniVersion":"1.0.0","ips":[{"address":"198.18.0.5/24","interface":3}],"interfaces":[{"name":"eth0"}]}',
      /ips\[0\]\.interface: 3 is not an index into interfaces/,
    ],
    ['{"cniVersion":"1.0.0","interfaces":[{"mac":"x"}]}', /interfaces\[0\]\.name: required/],
    ['{"cniVersion":"1.0.0","routes":[{"gw":"1.2.3.4"}]}', /routes\[0\]\.dst: required/],
    ['{"cniVersion":"1.0.0","dns":[]}', /dns: must be an object/],
  ]
  for (const [text, re] of cases) t.throws(() => parseResult(text, 'p'), { step: 'cni.result', code: 'CNI_BAD_RESULT', message: re }, text)
})

t.test('an empty result (a plugin with nothing to add) is valid', async t => {
  const r = parseResult('{"cniVersion":"1.0.0"}', 'tuning')
  t.same([r.ips, r.interfaces, r.routes, r.dns], [[], [], [], {}])
  t.same(podIPs(r), [])
})

t.test('converting between 0.4.0 and 1.x adds or drops ips[].version and the 1.1.0 fields', async t => {
  const from110 = parseResult(JSON.stringify(v110), 'bridge')
  const down = convertResult(from110, '0.4.0')
  t.same(down.ips, [{ version: '4', address: '198.18.0.5/24', gateway: '198.18.0.1', interface: 2 }])
  t.same((down.interfaces as object[])[2], { name: 'eth0', mac: 'aa:bb:cc:dd:ee:03', sandbox: '/proc/42/ns/net' })
  t.same(down.routes, [{ dst: '0.0.0.0/0', gw: '198.18.0.1' }])
  t.equal(down.cniVersion, '0.4.0')
  t.same(parseResult(JSON.stringify(down), 'x').ips, from110.ips, 'the 0.4.0 form parses back')
  const up = convertResult(parseResult(JSON.stringify(v040), 'bridge'), '1.0.0')
  t.same(up.ips, [{ address: '198.18.0.5/24', gateway: '198.18.0.1', interface: 2 }])
  t.same(convertResult(from110, '1.1.0').routes, v110.routes, '1.1.0 keeps its fields')
})

t.test('pod IPs: the sandbox interface only, IPv4 first, without prefix length', async t => {
  const r = parseResult(
    JSON.stringify({
      cniVersion: '1.0.0',
      interfaces: [{ name: 'br' }, { name: 'eth0', sandbox: '/x' }],
      ips: [
        { address: 'fd00::5/64', interface: 1 },
        { address: '198.18.0.1/24', interface: 0 },
        { address: '198.18.0.5/24', interface: 1 },
      ],
    }),
    'p',
  )
  t.same(podIPs(r), ['198.18.0.5', 'fd00::5'])
})

t.test('error results become PodErrors with the plugin message and code', async t => {
  const e = parseErrorResult('{"cniVersion":"1.0.0","code":7,"msg":"no subnet","details":"ranges is empty"}')
  t.same(e, { code: 7, msg: 'no subnet', details: 'ranges is empty' })
  const err = pluginError('ADD', 'host-local', e!)
  t.ok(err instanceof PodError)
  t.equal(err.message, 'cni.add: host-local: no subnet: ranges is empty (CNI error 7, invalid network config)')
  t.equal(err.code, 'CNI_7')
  t.equal(err.step, 'cni.add')
  t.match(err.hint, /conflist/)
  const custom = pluginError('DEL', 'mine', { code: 120, msg: 'custom' })
  t.equal(custom.message, 'cni.del: mine: custom (CNI error 120)')
  t.match(custom.hint, /mine plugin failed/)
  t.equal(parseErrorResult('oops'), undefined)
  t.equal(parseErrorResult('{"code":"7","msg":"x"}'), undefined, 'code must be a number')
  t.equal(parseErrorResult('{"cniVersion":"1.0.0"}'), undefined)
})
