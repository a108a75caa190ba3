// The pod's /etc/hosts and resolv.conf as kubelet (and containerd) write them,
// and the validation of hostAliases, subdomain, dnsPolicy and dnsConfig.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseManifest } from '../../../src/index.js'
import { formatResolvConf, hostsContent, parseResolvConf, podResolverConfig, writeEtcFiles } from '../../../src/rootfs/etc-files.js'
import { problemsOf } from '../../helpers/spec.js'

type Obj = Record<string, unknown>
const pod = (spec: Obj, metadata: Obj = { name: 'web', namespace: 'shop' }) =>
  parseManifest({ apiVersion: 'v1', kind: 'Pod', metadata, spec: { containers: [{ name: 'a', command: ['x'] }], ...spec } }).spec
const problems = (spec: Obj) => problemsOf(() => pod(spec))
const BASE =
  '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n'

t.test("/etc/hosts: kubelet's header and boilerplate; the pod's own line only with an IP", async t => {
  t.equal(hostsContent(pod({}), []), BASE)
  t.equal(hostsContent(pod({}), ['198.18.0.5']), `${BASE}198.18.0.5\tweb\n`)
  t.equal(hostsContent(pod({ hostname: 'box' }), ['198.18.0.5', 'fd00::5']), `${BASE}198.18.0.5\tbox\nfd00::5\tbox\n`)
})

t.test('/etc/hosts: with a subdomain the FQDN comes first', async t => {
  t.equal(hostsContent(pod({ hostname: 'db-0', subdomain: 'db' }), ['198.18.0.5']), `${BASE}198.18.0.5\tdb-0.db.shop.svc.cluster.local\tdb-0\n`)
})

t.test('/etc/hosts: hostAliases follow under their own comment, one line per entry', async t => {
  const p = pod({
    hostAliases: [
      { ip: '127.0.0.1', hostnames: ['foo.local', 'bar.local'] },
      { ip: '198.18.1.2', hostnames: ['foo.remote'] },
    ],
  })
  t.equal(
    hostsContent(p, ['198.18.0.5']),
    `${BASE}198.18.0.5\tweb\n\n# Entries added by HostAliases.\n127.0.0.1\tfoo.local\tbar.local\n198.18.1.2\tfoo.remote\n`,
  )
})

t.test("/etc/hosts of a hostNetwork pod: the host's file under kubelet's host-network header, then the aliases", async t => {
  const p = pod({ hostNetwork: true, hostAliases: [{ ip: '::1', hostnames: ['six.local'] }] })
  t.equal(
    hostsContent(p, ['198.18.0.1'], '127.0.0.1 localhost\n127.0.1.1 myhost\n'),
    '# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n127.0.1.1 myhost\n\n# Entries added by HostAliases.\n::1\tsix.local\n',
  )
})

t.test('hostAliases, subdomain and hostname are validated', async t => {
  t.same(
    problems({
      hostAliases: [{ ip: 'not-an-ip', hostnames: ['ok'] }, { hostnames: ['x'] }, { ip: '1.2.3.4', hostnames: ['', 'Bad_Name'] }],
      subdomain: 'Sub.Domain',
    }),
    [
      'spec.subdomain: "Sub.Domain" must be a DNS-1123 label: lower case letters, digits and \'-\', starting and ending with a letter or digit',
      'spec.hostAliases[0].ip: "not-an-ip" must be a valid IP address (e.g. 127.0.0.1 or ::1)',
      'spec.hostAliases[1].ip: required',
      "spec.hostAliases[2].hostnames[0]: \"\" must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.', not empty",
      "spec.hostAliases[2].hostnames[1]: \"Bad_Name\" must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.', not empty",
    ],
  )
})

t.test('a host resolv.conf is read as kubelet does: nameservers add up, the last search and options win', async t => {
  t.same(
    parseResolvConf(
      '# c\nnameserver 198.18.0.53\nsearch a.example b.example.\nnameserver 198.18.0.54\nsearch corp.example .\noptions ndots:2 edns0\noptions ndots:3\ndomain x\n',
    ),
    { nameservers: ['198.18.0.53', '198.18.0.54'], searches: ['corp.example'], options: ['ndots:3', 'edns0'] },
  )
})

const host = { nameservers: ['198.18.0.53'], searches: ['corp.example'], options: ['ndots:2'] }

t.test('dnsPolicy Default and ClusterFirst give the host configuration; an explicit ClusterFirst says there is no cluster DNS', async t => {
  const d = podResolverConfig(pod({ dnsPolicy: 'Default' }), host)
  t.same(d, { config: host, warnings: [] })
  t.equal(formatResolvConf(d.config), 'search corp.example\nnameserver 198.18.0.53\noptions ndots:2\n')
  t.same(podResolverConfig(pod({}), host).warnings, [], 'the implicit default is not warned about')
  t.match(podResolverConfig(pod({ dnsPolicy: 'ClusterFirst' }), host), {
    config: host,
    warnings: [/^pod web: spec\.dnsPolicy ClusterFirst: there is no cluster DNS here/],
  })
  t.same(podResolverConfig(pod({ dnsPolicy: 'ClusterFirst', hostNetwork: true }), host).warnings, [], 'ClusterFirst on the host network is Default in kubelet')
  t.equal(podResolverConfig(pod({ dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true }), host).warnings.length, 1)
})

t.test("dnsPolicy None with dnsConfig: only the pod's nameservers, searches and options", async t => {
  const p = pod({
    dnsPolicy: 'None',
    dnsConfig: {
      nameservers: ['198.18.0.10', 'fd00::10'],
      searches: ['ns1.svc.example', 'example.'],
      options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
    },
  })
  const { config, warnings } = podResolverConfig(p, host)
  t.same(warnings, [])
  t.equal(formatResolvConf(config), 'search ns1.svc.example example.\nnameserver 198.18.0.10\nnameserver fd00::10\noptions ndots:2 edns0\n')
})

t.test('dnsConfig with another policy merges as kubelet does: duplicates dropped, options replaced by name, limits applied', async t => {
  const p = pod({
    dnsPolicy: 'Default',
    dnsConfig: {
      nameservers: ['198.18.0.53', '198.18.0.60', '198.18.0.61'],
      searches: ['corp.example', 'extra.example'],
      options: [{ name: 'ndots', value: '5' }, { name: 'rotate' }],
    },
  })
  const { config, warnings } = podResolverConfig(p, { ...host, nameservers: ['198.18.0.53', '198.18.0.54'] })
  t.same(config, { nameservers: ['198.18.0.53', '198.18.0.54', '198.18.0.60'], searches: ['corp.example', 'extra.example'], options: ['ndots:5', 'rotate'] })
  t.same(warnings, [
    'pod web: Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 198.18.0.53 198.18.0.54 198.18.0.60',
  ])
})

t.test("dnsPolicy and dnsConfig are validated with Kubernetes' rules", async t => {
  t.same(problems({ dnsPolicy: 'None' }), ['spec.dnsConfig: required: must provide `dnsConfig` when `dnsPolicy` is None'])
  t.same(problems({ dnsPolicy: 'None', dnsConfig: { searches: ['a.example'] } }), [
    'spec.dnsConfig.nameservers: required: must provide at least one DNS nameserver when `dnsPolicy` is None',
  ])
  t.same(problems({ dnsPolicy: 'Cluster' }), ['spec.dnsPolicy: must be one of "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None", not "Cluster"'])
  t.same(
    problems({
      dnsConfig: {
        nameservers: ['198.18.0.1', '198.18.0.2', '198.18.0.3', '198.18.0.4', 'dns.example'],
        searches: Array.from({ length: 33 }, (_, i) => `s${i}.example`).concat(['Bad_Search']),
        options: [{ value: '1' }],
      },
    }),
    [
      'spec.dnsConfig.nameservers: must not have more than 3 nameservers, found 5',
      'spec.dnsConfig.nameservers[4]: "dns.example" must be a valid IP address',
      'spec.dnsConfig.searches: must not have more than 32 search paths, found 34',
      'spec.dnsConfig.searches[33]: "Bad_Search" must be a DNS-1123 subdomain',
      'spec.dnsConfig.options[0].name: required',
    ],
  )
})

t.test('writeEtcFiles writes the three files once per pod and warns once', async t => {
  const dir = t.testdir({ hosts: '127.0.0.1 localhost\n', 'resolv.conf': 'nameserver 198.18.0.53\n' })
  const warnings: string[] = []
  const files = writeEtcFiles(pod({ dnsPolicy: 'ClusterFirst', hostAliases: [{ ip: '198.18.0.9', hostnames: ['api.local'] }] }), dir, '198.18.0.5', {
    warn: w => warnings.push(w),
    hostHostsFile: join(dir, 'hosts'),
    hostResolvConf: join(dir, 'resolv.conf'),
  })
  t.equal(readFileSync(files.hosts, 'utf8'), `${BASE}198.18.0.5\tweb\n\n# Entries added by HostAliases.\n198.18.0.9\tapi.local\n`)
  t.equal(readFileSync(files.hostname, 'utf8'), 'web\n')
  t.equal(readFileSync(files.resolvConf, 'utf8'), 'nameserver 198.18.0.53\n')
  t.equal(warnings.length, 1)
})
