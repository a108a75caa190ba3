// The files the runtime provides, seen from inside real containers:
// /etc/hosts in kubelet's format (hostAliases resolved by the C library),
// the host network's file, hostname and subdomain, resolv.conf for dnsPolicy
// None with dnsConfig and for Default.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { formatResolvConf, parseResolvConf } from '../../src/rootfs/etc-files.js'
import { requires } from '../helpers/requires.js'
import { manifest, run, uniqueName } from '../helpers/pods.js'

const skip = requires('root', 'built')
const BASE = [
  '# Kubernetes-managed hosts file.',
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'fe00::0\tip6-mcastprefix',
  'fe00::1\tip6-allnodes',
  'fe00::2\tip6-allrouters',
]

t.test('/etc/hosts has the managed lines and the hostAliases, and the C library resolves the aliases', { skip }, async t => {
  const { lines } = await run(
    t,
    manifest(uniqueName('aliases'), [{ name: 'c', command: ['sh', '-c', 'cat /etc/hosts; echo ==; getent hosts foo.local bar.remote'] }], {
      hostAliases: [
        { ip: '127.0.0.1', hostnames: ['foo.local', 'bar.local'] },
        { ip: '198.18.7.7', hostnames: ['foo.remote', 'bar.remote'] },
      ],
    }),
  )
  t.same(lines('c'), [
    ...BASE,
    '',
    '# Entries added by HostAliases.',
    '127.0.0.1\tfoo.local\tbar.local',
    '198.18.7.7\tfoo.remote\tbar.remote',
    '==',
    '127.0.0.1       foo.local bar.local',
    '198.18.7.7      foo.remote bar.remote',
  ])
})

t.test("a hostNetwork pod's /etc/hosts is the host's under kubelet's header, with its aliases", { skip }, async t => {
  const { lines } = await run(
    t,
    manifest(uniqueName('hnhosts'), [{ name: 'c', command: ['sh', '-c', 'cat /etc/hosts; echo ==; hostname; cat /etc/hostname'] }], {
      hostNetwork: true,
      hostAliases: [{ ip: '198.18.7.8', hostnames: ['api.test'] }],
    }),
  )
  const host = readFileSync('/etc/hosts', 'utf8').split('\n')
  if (host.at(-1) === '') host.pop()
  t.same(lines('c'), [
    '# Kubernetes-managed hosts file (host network).',
    ...host,
    '',
    '# Entries added by HostAliases.',
    '198.18.7.8\tapi.test',
    '==',
    hostname(),
    hostname(),
  ])
})

t.test('spec.hostname and spec.subdomain: the UTS name and /etc/hostname are the hostname', { skip }, async t => {
  const { lines } = await run(
    t,
    manifest(uniqueName('fqdn'), [{ name: 'c', command: ['sh', '-c', 'hostname; cat /etc/hostname; echo $HOSTNAME; tail -n 1 /etc/hosts'] }], {
      hostname: 'db-0',
      subdomain: 'db',
    }),
  )
  t.same(lines('c'), ['db-0', 'db-0', 'db-0', 'fe00::2\tip6-allrouters'], 'no pod IP (loopback only): no own line')
})

t.test("dnsPolicy None with dnsConfig: resolv.conf has only the pod's servers, searches and options", { skip }, async t => {
  const { lines } = await run(
    t,
    manifest(uniqueName('dnsnone'), [{ name: 'c', command: ['cat', '/etc/resolv.conf'] }], {
      dnsPolicy: 'None',
      dnsConfig: {
        nameservers: ['198.18.0.10', '198.18.0.11'],
        searches: ['ns1.svc.cluster-domain.example', 'my.dns.search.suffix'],
        options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
      },
    }),
  )
  t.same(lines('c'), [
    'search ns1.svc.cluster-domain.example my.dns.search.suffix',
    'nameserver 198.18.0.10',
    'nameserver 198.18.0.11',
    'options ndots:2 edns0',
  ])
})

t.test("dnsPolicy Default with dnsConfig: the host's configuration, the pod's entries merged in", { skip }, async t => {
  const { lines } = await run(
    t,
    manifest(uniqueName('dnsdef'), [{ name: 'c', command: ['cat', '/etc/resolv.conf'] }], {
      dnsPolicy: 'Default',
      dnsConfig: { searches: ['extra.example'], options: [{ name: 'ndots', value: '3' }] },
    }),
  )
  const host = parseResolvConf(readFileSync('/etc/resolv.conf', 'utf8'))
  const want = formatResolvConf({
    nameservers: host.nameservers.slice(0, 3),
    searches: [...new Set([...host.searches, 'extra.example'])],
    options: [...host.options.filter(o => !o.startsWith('ndots')), 'ndots:3'],
  })
  t.same(lines('c'), want.trimEnd().split('\n'))
  t.ok(host.nameservers.length > 0, 'the host has a nameserver to copy')
})
