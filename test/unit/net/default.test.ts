import t from 'tap'
import { readFileSync } from 'node:fs'
import { defaultConfList, overlaps, parseConfList, parseProcRoutes, pickSubnet, writeDefaultConfList } from '../../../src/net/index.js'

const ROUTES = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
docker0\t0000580A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
`

t.test('/proc/net/route parses to CIDRs', async t => {
  t.same(parseProcRoutes(ROUTES), [
    { iface: 'eth0', cidr: '0.0.0.0/0' },
    { iface: 'eth0', cidr: '192.0.2.0/24' },
    { iface: 'docker0', cidr: '10.88.0.0/16' },
  ])
})

t.test('overlap of CIDRs', async t => {
  t.ok(overlaps('10.88.0.0/16', '10.88.5.0/24'))
  t.ok(overlaps('10.88.0.0/16', '10.0.0.0/8'))
  t.notOk(overlaps('10.88.0.0/16', '10.89.0.0/16'))
  t.notOk(overlaps('10.88.0.0/16', '0.0.0.0/0'), 'the default route clashes with nothing')
})

t.test('the default subnet is 10.88.0.0/16 unless a route takes it', async t => {
  t.equal(pickSubnet([{ iface: 'eth0', cidr: '192.0.2.0/24' }]), '10.88.0.0/16')
  t.equal(pickSubnet(parseProcRoutes(ROUTES)), '10.89.0.0/16', 'docker0 has 10.88')
  t.equal(pickSubnet([{ iface: 'pl0', cidr: '10.88.0.0/16' }]), '10.88.0.0/16', 'our own bridge does not count')
})

t.test('every candidate taken: a clear error', async t => {
  t.throws(() => pickSubnet([{ iface: 'vpn', cidr: '10.0.0.0/8' }]), { step: 'cni.default', message: /every candidate subnet .* overlaps a route/ })
})

t.test('the default conflist: bridge pl0 with host-local, portmap, firewall, valid by our own loader', async t => {
  const dir = t.testdir()
  const file = writeDefaultConfList(`${dir}/net.d`, ROUTES)
  const l = parseConfList(readFileSync(file, 'utf8'), file)
  t.equal(l.name, 'pod-launch')
  t.equal(l.cniVersion, '1.0.0')
  t.same(
    l.plugins.map(p => p.type),
    ['bridge', 'portmap', 'firewall'],
  )
  t.match(l.plugins[0], {
    bridge: 'pl0',
    isGateway: true,
    ipMasq: true,
    ipam: { type: 'host-local', ranges: [[{ subnet: '10.89.0.0/16', gateway: '10.89.0.1' }]] },
  })
  t.same(l.plugins[1].capabilities, { portMappings: true })
  t.same(defaultConfList('10.88.0.0/16'), JSON.parse(readFileSync(file, 'utf8').replace(/10\.89/g, '10.88')))
})
