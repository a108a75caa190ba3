// The CRI's configs as our PodSpec / ContainerSpec (src/cri/translate.ts).
import t from 'tap'
import { hostname } from 'node:os'
import { containerSpec, criResources, criSecurity, mountSources, portMappings, sandboxSpec, stopSignal, criSignalName } from '../../../src/cri/translate.js'
import type { ContainerConfig, Mount, PodSandboxConfig } from '../../../src/cri/types.js'

const sandbox = (over: Partial<PodSandboxConfig> = {}): PodSandboxConfig => ({
  metadata: { name: 'web', uid: 'u1', namespace: 'ns1', attempt: 1 },
  hostname: 'web-0',
  logDirectory: '/var/log/pods/x',
  dnsConfig: null,
  portMappings: [],
  labels: { app: 'web' },
  annotations: { a: 'b' },
  linux: null,
  ...over,
})

/** A CRI Mount of /srv/data at /data, read-write, private. */
const mount = (over: Partial<Mount> = {}): Mount => ({
  containerPath: '/data',
  hostPath: '/srv/data',
  readonly: false,
  selinuxRelabel: false,
  propagation: 'PROPAGATION_PRIVATE',
  uidMappings: [],
  gidMappings: [],
  recursiveReadOnly: false,
  image: null,
  imageSubPath: '',
  mountOptions: [],
  ...over,
})

const container = (over: Partial<ContainerConfig> = {}): ContainerConfig => ({
  metadata: { name: 'app', attempt: 0 },
  image: { image: 'busybox', annotations: {}, userSpecifiedImage: '', runtimeHandler: '', imageRef: '' },
  command: [],
  args: [],
  workingDir: '',
  envs: [],
  mounts: [],
  devices: [],
  labels: {},
  annotations: {},
  logPath: 'app/0.log',
  stdin: false,
  stdinOnce: false,
  tty: false,
  linux: null,
  CDIDevices: [],
  stopSignal: 'SIGNAL_RUNTIME_DEFAULT',
  ...over,
})

const ns = (network: string, pid: string, ipc: string) => ({
  cgroupParent: '',
  securityContext: {
    namespaceOptions: { network, pid, ipc, targetId: '', usernsOptions: null },
  } as never,
  sysctls: {},
  overhead: null,
  resources: null,
})

t.test('a sandbox is a PodSpec with no containers, its id as uid', t => {
  const s = sandboxSpec('f'.repeat(64), sandbox())
  t.match(s, { name: 'web', namespace: 'ns1', uid: 'f'.repeat(64), hostname: 'web-0', labels: { app: 'web' }, restartPolicy: 'Never', containers: [] })
  t.equal(s.dnsPolicy, 'Default', "no dns_config: the host's resolv.conf")
  t.equal(sandboxSpec('x', sandbox({ hostname: '' })).hostname, hostname(), "no hostname: the node's")
  t.end()
})

t.test('namespace modes: an unset option is POD (shared pid namespace); NODE is the host', t => {
  t.match(sandboxSpec('x', sandbox()), { shareProcessNamespace: true, hostNetwork: false, hostPID: false, hostIPC: false })
  t.match(sandboxSpec('x', sandbox({ linux: ns('NODE', 'NODE', 'NODE') })), { hostNetwork: true, hostPID: true, hostIPC: true, shareProcessNamespace: false })
  t.match(sandboxSpec('x', sandbox({ linux: ns('POD', 'CONTAINER', 'POD') })), { shareProcessNamespace: false, hostPID: false })
  t.end()
})

t.test('dns_config becomes dnsPolicy None with its servers, searches and options', t => {
  const s = sandboxSpec('x', sandbox({ dnsConfig: { servers: ['198.18.0.53'], searches: ['a.example'], options: ['ndots:5', 'edns0'] } }))
  t.equal(s.dnsPolicy, 'None')
  t.same(s.dnsConfig, { nameservers: ['198.18.0.53'], searches: ['a.example'], options: [{ name: 'ndots', value: '5' }, { name: 'edns0' }] })
  t.end()
})

t.test('sysctls go to their namespace; others are refused, naming the key', t => {
  const linux = { ...ns('POD', 'POD', 'POD'), sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0', 'kernel.shm_rmid_forced': '1' } }
  t.same(sandboxSpec('x', sandbox({ linux })).securityContext.sysctls, [
    { name: 'net.ipv4.ip_unprivileged_port_start', value: '0', namespace: 'net' },
    { name: 'kernel.shm_rmid_forced', value: '1', namespace: 'ipc' },
  ])
  t.throws(() => sandboxSpec('x', sandbox({ linux: { ...linux, sysctls: { 'vm.swappiness': '1' } } })), {
    step: 'cri.RunPodSandbox',
    code: 'INVALID_ARGUMENT',
    message: /config\.linux\.sysctls\[vm\.swappiness\]: not a namespaced sysctl/,
  })
  t.throws(() => sandboxSpec('x', sandbox({ metadata: null })), { message: /config\.metadata\.name: a sandbox name is required/ })
  t.end()
})

t.test('port mappings with a host port, as portmap takes them', t => {
  t.same(
    portMappings(
      sandbox({
        portMappings: [
          { protocol: 'TCP', containerPort: 80, hostPort: 12000, hostIp: '' },
          { protocol: 'UDP', containerPort: 53, hostPort: 0, hostIp: '' },
        ],
      }),
    ),
    [{ hostPort: 12000, containerPort: 80, protocol: 'tcp' }],
  )
  t.end()
})

t.test("resources: kubelet's cfs quota, shares and memory limit back to quantities", t => {
  const r = criResources({
    cpuPeriod: '100000',
    cpuQuota: '50000',
    cpuShares: '512',
    memoryLimitInBytes: '67108864',
    oomScoreAdj: '0',
    cpusetCpus: '',
    cpusetMems: '',
    hugepageLimits: [],
    unified: {},
    memorySwapLimitInBytes: '0',
  })
  t.same(r, { limits: { hugepages: {}, cpuMilli: 500, memoryBytes: 64 * 1024 * 1024 }, requests: { hugepages: {}, cpuMilli: 500 } })
  t.same(criResources(null), { limits: { hugepages: {} }, requests: { hugepages: {} } })
  t.end()
})

t.test('security context: ids, no_new_privs, capabilities, seccomp (and its deprecated path form)', t => {
  const s = criSecurity({
    capabilities: { addCapabilities: ['CAP_NET_ADMIN'], dropCapabilities: ['ALL'], addAmbientCapabilities: [] },
    privileged: false,
    namespaceOptions: null,
    selinuxOptions: null,
    runAsUser: { value: '1000' },
    runAsGroup: { value: '3000' },
    runAsUsername: '',
    readonlyRootfs: true,
    supplementalGroups: ['4000'],
    supplementalGroupsPolicy: 'Merge',
    apparmorProfile: '',
    seccompProfilePath: 'localhost//etc/p.json',
    noNewPrivs: true,
    maskedPaths: [],
    readonlyPaths: [],
    seccomp: null,
    apparmor: null,
  })
  t.match(s, {
    runAsUser: 1000,
    runAsGroup: 3000,
    supplementalGroups: [4000],
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] },
    seccompProfile: { type: 'Localhost', localhostProfile: '/etc/p.json' },
  })
  t.equal(criSecurity(null).seccompProfile, undefined, "no profile: the runtime's default")
  t.end()
})

t.test('a container: command and args as given, env from bytes, mounts as volume mounts', t => {
  const c = container({
    command: ['sh'],
    args: ['-c', 'true'],
    envs: [{ key: 'A', value: Buffer.from('1') }],
    mounts: [mount({ readonly: true })],
  })
  const spec = containerSpec('id1', c)
  t.match(spec, { name: 'id1', image: 'busybox', command: ['sh'], args: ['-c', 'true'], env: [{ name: 'A', value: '1' }] })
  t.same(spec.volumeMounts, [{ name: 'id1-m0', mountPath: '/data', readOnly: true }])
  t.same(mountSources('id1', c), [['id1-m0', '/srv/data']])
  t.notOk('command' in containerSpec('id2', container()), "no command: the image's entrypoint")
  t.throws(() => containerSpec('x', container({ mounts: [{ ...c.mounts[0], hostPath: '', image: { image: 'busybox' } as never }] })), {
    code: 'UNIMPLEMENTED',
    message: /config\.mounts\[0\]\.image: image volumes are not supported/,
  })
  const groupOnly = { runAsGroup: { value: '3000' }, runAsUser: null, runAsUsername: '' } as never
  t.throws(() => containerSpec('x', container({ linux: { resources: null, securityContext: groupOnly } })), {
    code: 'INVALID_ARGUMENT',
    message: /run_as_group: set without run_as_user/,
  })
  t.throws(() => containerSpec('x', container({ mounts: [{ ...c.mounts[0], containerPath: 'rel' }] })), {
    message: /config\.mounts\[0\]\.container_path: "rel" must be absolute/,
  })
  t.end()
})

t.test('mount propagation and the masked / read-only path lists of the request', t => {
  const m = mount({ propagation: 'PROPAGATION_BIDIRECTIONAL' })
  const spec = containerSpec(
    'id1',
    container({ mounts: [m, { ...m, propagation: 'PROPAGATION_HOST_TO_CONTAINER' }, { ...m, propagation: 'PROPAGATION_PRIVATE' }] }),
  )
  t.same(
    spec.volumeMounts.map(v => v.propagation),
    ['Bidirectional', 'HostToContainer', undefined],
  )
  const sc = { maskedPaths: ['/bin/ls'], readonlyPaths: ['/tmp'] } as never
  t.match(criSecurity(sc), { maskedPaths: ['/bin/ls'], readonlyPaths: ['/tmp'] })
  t.match(criSecurity(null), { maskedPaths: [], readonlyPaths: [] }, 'none asked, none applied (as containerd)')
  t.end()
})

t.test("stop signal: the CRI's, else the image's StopSignal, else SIGTERM", t => {
  t.equal(stopSignal('SIGNAL_SIGINT'), 'SIGINT')
  t.equal(stopSignal('SIGNAL_RUNTIME_DEFAULT', 'SIGQUIT'), 'SIGQUIT')
  t.equal(stopSignal('', 'WINCH'), 'SIGWINCH')
  t.equal(stopSignal('SIGNAL_RUNTIME_DEFAULT'), 'SIGTERM')
  t.equal(stopSignal('SIGNAL_SIGRTMINPLUS1'), 'SIGRTMIN+1')
  t.equal(stopSignal('', '3'), 'SIGQUIT', 'a number, as containerd parses it')
  t.equal(stopSignal('', 'NOPE'), 'SIGTERM', 'a StopSignal that names no signal')
  t.equal(criSignalName('SIGRTMAX-2'), 'SIGNAL_SIGRTMAXMINUS2')
  t.end()
})
