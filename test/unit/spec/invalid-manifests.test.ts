// Invalid Pod manifests through the CLI: each is refused with exit code 2, the
// exact field path and message on stderr, and nothing created under --root.
import t, { type Test } from 'tap'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { main } from '../../../src/cli/main.js'
import { parseManifest, parseManifestText } from '../../../src/index.js'

type Obj = Record<string, unknown>

const HINT = 'hint: fix the manifest fields listed above; see the Kubernetes Pod reference\n'

/** A container that is valid on its own; `over` replaces or adds fields. */
const ct = (over: Obj = {}): Obj => ({ name: 'app', image: 'host', command: ['sleep', '1'], ...over })
const pod = (spec: Obj, metadata: Obj = { name: 'web' }): Obj => ({ apiVersion: 'v1', kind: 'Pod', metadata, spec })
/** A pod of one container `ct(over)`. */
const one = (over: Obj, spec: Obj = {}): Obj => pod({ containers: [ct(over)], ...spec })

/** Run `pod-launch run FILE --root ROOT` on a manifest (an object as JSON, or YAML text). */
async function run(t: Test, manifest: Obj | string) {
  const name = typeof manifest === 'string' ? 'pod.yaml' : 'pod.json'
  const dir = t.testdir({ [name]: typeof manifest === 'string' ? manifest : JSON.stringify(manifest, null, 2), root: {} })
  const file = join(dir, name)
  const root = join(dir, 'root')
  const out: string[] = []
  const err: string[] = []
  const code = await main(['run', file, '--root', root], { out: s => void out.push(s), err: s => void err.push(s) })
  return { code, file, out: out.join(''), err: err.join(''), created: readdirSync(root) }
}

/** The whole stderr for a refused manifest: count line, one line per problem, hint. */
const refusal = (file: string, problems: string[]) =>
  `pod-launch: spec.invalid: ${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map(p => `  ${p}\n`).join('')}${HINT}`

interface Case {
  rule: string
  manifest: Obj | string
  problems: string[]
}

const QTY = '(e.g. 512Mi, 1G, 250m, 0.5)'
const LABEL = "must be a DNS-1123 label: lower case letters, digits and '-', starting and ending with a letter or digit"
const SUBDOMAIN = "must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.'"
const SVC = "must be an IANA_SVC_NAME: at most 15 lower case letters, digits and '-', with a letter"
const ENV_NAME = "must consist of letters, digits, '_', '-' or '.', and not start with a digit"
const data = { volumes: [{ name: 'data', emptyDir: {} }] }

const cases: Case[] = [
  // apiVersion / kind
  { rule: 'an apiVersion other than v1 is refused', manifest: { ...one({}), apiVersion: 'apps/v1' }, problems: ['apiVersion: must be "v1", not "apps/v1"'] },
  {
    rule: "a Deployment written with a pod's spec is refused, saying where the pod's fields belong",
    manifest: { ...one({}), kind: 'Deployment' },
    problems: [
      'apiVersion: must be "apps/v1", not "v1"',
      'spec.containers: is a field of the pod template: indent it under spec.template.spec',
      'spec.template: required',
      'spec.selector: required',
    ],
  },

  // metadata.name
  {
    rule: 'metadata.name with upper case and "_" is not a DNS-1123 subdomain',
    manifest: pod({ containers: [ct()] }, { name: 'Web_1' }),
    problems: [`metadata.name: "Web_1" ${SUBDOMAIN}`],
  },
  {
    rule: 'metadata.name ending with "-" is not a DNS-1123 subdomain',
    manifest: pod({ containers: [ct()] }, { name: 'web-' }),
    problems: [`metadata.name: "web-" ${SUBDOMAIN}`],
  },
  {
    rule: 'metadata.name with an empty dot-separated part is not a DNS-1123 subdomain',
    manifest: pod({ containers: [ct()] }, { name: 'web..a' }),
    problems: [`metadata.name: "web..a" ${SUBDOMAIN}`],
  },
  {
    rule: 'metadata.name longer than 253 characters is refused',
    manifest: pod({ containers: [ct()] }, { name: 'a'.repeat(254) }),
    problems: ['metadata.name: must be no more than 253 characters'],
  },
  { rule: 'metadata.name is required', manifest: pod({ containers: [ct()] }, {}), problems: ['metadata.name: required'] },

  // container names
  { rule: 'a container name with upper case is not a DNS-1123 label', manifest: one({ name: 'App' }), problems: [`spec.containers[0].name: "App" ${LABEL}`] },
  { rule: 'a container name with a dot is not a DNS-1123 label', manifest: one({ name: 'app.v1' }), problems: [`spec.containers[0].name: "app.v1" ${LABEL}`] },
  {
    rule: 'a container name longer than 63 characters is refused',
    manifest: one({ name: 'a'.repeat(64) }),
    problems: [`spec.containers[0].name: "${'a'.repeat(64)}" must be no more than 63 characters`],
  },
  {
    rule: 'a container may not reuse the name of an init container',
    manifest: pod({ initContainers: [ct()], containers: [ct()] }),
    problems: ['spec.containers[0].name: "app" is a duplicate: container names must be unique in the pod'],
  },
  {
    rule: 'two containers may not have the same name',
    manifest: pod({ containers: [ct({ name: 'b' }), ct({ name: 'a' }), ct({ name: 'b' })] }),
    problems: ['spec.containers[2].name: "b" is a duplicate: container names must be unique in the pod'],
  },
  {
    rule: 'a container without a name is refused',
    manifest: pod({ containers: [{ image: 'host', command: ['true'] }] }),
    problems: ['spec.containers[0].name: required'],
  },

  // containers list
  { rule: 'a pod without spec.containers is refused', manifest: pod({}), problems: ['spec.containers: required: at least one container'] },
  {
    rule: 'a pod with an empty spec.containers is refused',
    manifest: pod({ containers: [], initContainers: [ct({ name: 'init' })] }),
    problems: ['spec.containers: required: at least one container'],
  },
  {
    rule: 'spec.containers that is not a list is refused',
    manifest: pod({ containers: ct() }),
    problems: ['spec.containers: must be a list', 'spec.containers: required: at least one container'],
  },

  // command
  {
    rule: 'a command that is a string, not a list, is refused',
    manifest: one({ command: 'sleep 1' }),
    problems: ['spec.containers[0].command: must be a list of strings'],
  },
  {
    rule: 'a command with a number in it is refused',
    manifest: one({ command: ['sleep', 1] }),
    problems: ['spec.containers[0].command: must be a list of strings'],
  },
  {
    rule: 'a container without command or args is refused: the host image has no entrypoint',
    manifest: one({ command: undefined }),
    problems: ['spec.containers[0].command: required: image "host" supplies no entrypoint'],
  },
  { rule: 'an empty command without args is refused', manifest: one({ command: [] }), problems: ['spec.containers[0].command: must not be empty'] },
  {
    rule: 'a command starting with an empty executable is refused',
    manifest: one({ command: ['', 'x'] }),
    problems: ['spec.containers[0].command: must start with a non-empty executable'],
  },

  // quantities
  {
    rule: 'a memory limit with an unknown suffix is not a quantity',
    manifest: one({ resources: { limits: { memory: '12XB' } } }),
    problems: [`spec.containers[0].resources.limits.memory: "12XB" is not a quantity ${QTY}`],
  },
  {
    rule: 'a cpu request with two decimal points is not a quantity',
    manifest: one({ resources: { requests: { cpu: '1.2.3' } } }),
    problems: [`spec.containers[0].resources.requests.cpu: "1.2.3" is not a quantity ${QTY}`],
  },
  {
    rule: 'a negative memory limit is refused',
    manifest: one({ resources: { limits: { memory: '-1Gi' } } }),
    problems: ['spec.containers[0].resources.limits.memory: "-1Gi" must not be negative'],
  },
  {
    rule: 'an empty memory request is not a quantity',
    manifest: one({ resources: { requests: { memory: '' } } }),
    problems: [`spec.containers[0].resources.requests.memory: "" is not a quantity ${QTY}`],
  },
  {
    rule: 'NaN is not a cpu quantity',
    manifest: one({ resources: { limits: { cpu: 'NaN' } } }),
    problems: [`spec.containers[0].resources.limits.cpu: "NaN" is not a quantity ${QTY}`],
  },
  {
    rule: 'Infinity is not a cpu quantity',
    manifest: one({ resources: { requests: { cpu: 'Infinity' } } }),
    problems: [`spec.containers[0].resources.requests.cpu: "Infinity" is not a quantity ${QTY}`],
  },
  {
    rule: 'a lower-case exponent without digits is not a quantity',
    manifest: one({ resources: { limits: { 'ephemeral-storage': '1e' } } }),
    problems: [`spec.containers[0].resources.limits.ephemeral-storage: "1e" is not a quantity ${QTY}`],
  },
  {
    rule: 'a quantity with surrounding spaces is refused',
    manifest: one({ resources: { limits: { memory: ' 1Gi' } } }),
    problems: [`spec.containers[0].resources.limits.memory: " 1Gi" is not a quantity ${QTY}`],
  },
  {
    rule: 'a quantity that is a boolean is refused',
    manifest: one({ resources: { limits: { cpu: true } } }),
    problems: [`spec.containers[0].resources.limits.cpu: true is not a quantity ${QTY}`],
  },

  // requests against limits
  {
    rule: 'a cpu request above the cpu limit is refused',
    manifest: one({ resources: { requests: { cpu: '501m' }, limits: { cpu: '0.5' } } }),
    problems: ['spec.containers[0].resources.requests.cpu: must be less than or equal to the cpu limit'],
  },
  {
    rule: 'a memory request above the memory limit is refused',
    manifest: one({ resources: { requests: { memory: '1Gi' }, limits: { memory: '1G' } } }),
    problems: ['spec.containers[0].resources.requests.memory: must be less than or equal to the memory limit'],
  },
  {
    rule: 'an ephemeral-storage request above its limit is refused',
    manifest: one({ resources: { requests: { 'ephemeral-storage': '2Gi' }, limits: { 'ephemeral-storage': '1Gi' } } }),
    problems: ['spec.containers[0].resources.requests.ephemeral-storage: must be less than or equal to the ephemeral-storage limit'],
  },
  {
    rule: 'a huge page request different from its limit is refused',
    manifest: one({ resources: { requests: { 'hugepages-2Mi': '2Mi' }, limits: { 'hugepages-2Mi': '4Mi' } } }),
    problems: ['spec.containers[0].resources.requests.hugepages-2Mi: must equal the limit (huge pages cannot be overcommitted)'],
  },
  {
    rule: 'a huge page request without a limit is refused',
    manifest: one({ resources: { requests: { 'hugepages-1Gi': '1Gi' } } }),
    problems: ['spec.containers[0].resources.requests.hugepages-1Gi: must equal the limit (huge pages cannot be overcommitted)'],
  },
  {
    rule: 'a huge page size in decimal units is not a huge page size',
    manifest: one({ resources: { limits: { 'hugepages-2MB': '4Mi' } } }),
    problems: ['spec.containers[0].resources.limits.hugepages-2MB: "2MB" is not a huge page size (e.g. hugepages-2Mi)'],
  },

  // ports
  {
    rule: 'containerPort 0 is out of range',
    manifest: one({ ports: [{ containerPort: 0 }] }),
    problems: ['spec.containers[0].ports[0].containerPort: must be an integer between 1 and 65535, not 0'],
  },
  {
    rule: 'containerPort 65536 is out of range',
    manifest: one({ ports: [{ containerPort: 80 }, { containerPort: 65536 }] }),
    problems: ['spec.containers[0].ports[1].containerPort: must be an integer between 1 and 65535, not 65536'],
  },
  {
    rule: 'a containerPort given as a string is refused',
    manifest: one({ ports: [{ containerPort: '80' }] }),
    problems: ['spec.containers[0].ports[0].containerPort: must be an integer between 1 and 65535, not "80"'],
  },
  {
    rule: 'a port without containerPort is refused',
    manifest: one({ ports: [{ name: 'http', protocol: 'TCP' }] }),
    problems: ['spec.containers[0].ports[0].containerPort: required'],
  },
  {
    rule: 'a port name with upper case is not an IANA service name',
    manifest: one({ ports: [{ name: 'HTTP', containerPort: 80 }] }),
    problems: [`spec.containers[0].ports[0].name: "HTTP" ${SVC}`],
  },
  {
    rule: 'a port name of digits only is not an IANA service name',
    manifest: one({ ports: [{ name: '8080', containerPort: 8080 }] }),
    problems: [`spec.containers[0].ports[0].name: "8080" ${SVC}`],
  },
  {
    rule: 'a port name with "--" is not an IANA service name',
    manifest: one({ ports: [{ name: 'my--web', containerPort: 80 }] }),
    problems: [`spec.containers[0].ports[0].name: "my--web" ${SVC}`],
  },
  {
    rule: 'a port name ending with "-" is not an IANA service name',
    manifest: one({ ports: [{ name: 'web-', containerPort: 80 }] }),
    problems: [`spec.containers[0].ports[0].name: "web-" ${SVC}`],
  },
  {
    rule: 'a port name of 16 characters is too long',
    manifest: one({ ports: [{ name: 'abcdefghijklmnop', containerPort: 80 }] }),
    problems: [`spec.containers[0].ports[0].name: "abcdefghijklmnop" ${SVC}`],
  },
  {
    rule: 'two ports of a container may not have the same name',
    manifest: one({
      ports: [
        { name: 'http', containerPort: 80 },
        { name: 'http', containerPort: 8080 },
      ],
    }),
    problems: ['spec.containers[0].ports[1].name: "http" is a duplicate'],
  },
  {
    rule: 'two containers may not use the same hostPort and protocol',
    manifest: pod({
      containers: [
        ct({ name: 'a', ports: [{ containerPort: 80, hostPort: 8080 }] }),
        ct({ name: 'b', ports: [{ containerPort: 81, hostPort: 8080, protocol: 'TCP' }] }),
      ],
    }),
    problems: ['spec.containers[1].ports[0].hostPort: 8080/TCP is a duplicate: host ports must be unique in a pod'],
  },
  {
    rule: 'a protocol in lower case is not one of TCP, UDP, SCTP',
    manifest: one({ ports: [{ containerPort: 53, protocol: 'udp' }] }),
    problems: ['spec.containers[0].ports[0].protocol: must be one of "TCP", "UDP", "SCTP", not "udp"'],
  },

  // env
  {
    rule: 'an env name starting with a digit is refused',
    manifest: one({ env: [{ name: '1BAD', value: 'x' }] }),
    problems: [`spec.containers[0].env[0].name: "1BAD" ${ENV_NAME}`],
  },
  {
    rule: 'an env name with a space is refused',
    manifest: one({
      env: [
        { name: 'A', value: '1' },
        { name: 'MY VAR', value: 'x' },
      ],
    }),
    problems: [`spec.containers[0].env[1].name: "MY VAR" ${ENV_NAME}`],
  },
  {
    rule: 'an env name with "=" is refused',
    manifest: one({ env: [{ name: 'A=B', value: 'x' }] }),
    problems: [`spec.containers[0].env[0].name: "A=B" ${ENV_NAME}`],
  },
  { rule: 'an empty env name is refused', manifest: one({ env: [{ name: '', value: 'x' }] }), problems: ['spec.containers[0].env[0].name: required (empty)'] },
  {
    rule: 'valueFrom must name a source',
    manifest: one({ env: [{ name: 'POD', valueFrom: {} }] }),
    problems: ['spec.containers[0].env[0].valueFrom: must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'],
  },
  {
    rule: 'a lifecycle hook must have a handler',
    manifest: one({ lifecycle: { postStart: {} } }),
    problems: ['spec.containers[0].lifecycle.postStart: must specify a handler: `exec`, `httpGet`, `sleep` or `tcpSocket`'],
  },
  {
    rule: 'an env var may not have both a value and valueFrom',
    manifest: one({ env: [{ name: 'POD', value: 'x', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] }),
    problems: ['spec.containers[0].env[0].valueFrom: may not be specified when `value` is not empty'],
  },
  {
    rule: 'a fieldRef to a field the downward API does not offer is refused',
    manifest: one({ env: [{ name: 'PHASE', valueFrom: { fieldRef: { fieldPath: 'status.phase' } } }] }),
    problems: ['spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: "status.phase" is not a supported field path'],
  },
  {
    rule: 'a fieldRef to a label without quotes around the key is refused',
    manifest: one({ env: [{ name: 'APP', valueFrom: { fieldRef: { fieldPath: 'metadata.labels[app]' } } }] }),
    problems: ['spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: "metadata.labels[app]" is not a supported field path'],
  },
  {
    rule: 'a fieldRef without fieldPath is refused',
    manifest: one({ env: [{ name: 'X', valueFrom: { fieldRef: { apiVersion: 'v1' } } }] }),
    problems: ['spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: required'],
  },

  // volumes and mounts
  {
    rule: 'a volumeMount naming a volume the pod does not have is refused',
    manifest: one({ volumeMounts: [{ name: 'data', mountPath: '/data' }] }),
    problems: ['spec.containers[0].volumeMounts[0].name: "data" is not a volume of this pod (spec.volumes)'],
  },
  {
    rule: 'a relative mountPath is refused',
    manifest: one({ volumeMounts: [{ name: 'data', mountPath: 'data' }] }, data),
    problems: ['spec.containers[0].volumeMounts[0].mountPath: "data" must be an absolute path'],
  },
  {
    rule: 'two mounts of a container may not share a mountPath',
    manifest: one(
      {
        volumeMounts: [
          { name: 'data', mountPath: '/data' },
          { name: 'data', mountPath: '/data', subPath: 'x' },
        ],
      },
      data,
    ),
    problems: ['spec.containers[0].volumeMounts[1].mountPath: "/data" must be unique'],
  },
  {
    rule: "a subPath climbing out with '..' is refused",
    manifest: one({ volumeMounts: [{ name: 'data', mountPath: '/data', subPath: 'a/../../etc' }] }, data),
    problems: ['spec.containers[0].volumeMounts[0].subPath: "a/../../etc" must be a relative path without \'..\''],
  },
  {
    rule: 'an absolute subPath is refused',
    manifest: one({ volumeMounts: [{ name: 'data', mountPath: '/data', subPath: '/etc' }] }, data),
    problems: ['spec.containers[0].volumeMounts[0].subPath: "/etc" must be a relative path without \'..\''],
  },
  {
    rule: 'a volume without a source is refused',
    manifest: one({}, { volumes: [{ name: 'data' }] }),
    problems: ['spec.volumes[0]: must have exactly one volume source (hostPath, emptyDir, configMap, secret, ...), found 0'],
  },
  {
    rule: 'a volume with two sources is refused',
    manifest: one({}, { volumes: [{ name: 'data', emptyDir: {}, hostPath: { path: '/tmp' } }] }),
    problems: ['spec.volumes[0]: must have exactly one volume source (hostPath, emptyDir, configMap, secret, ...), found 2'],
  },
  {
    rule: 'a volume source Kubernetes does not have is refused',
    manifest: one({}, { volumes: [{ name: 'data', tmpfs: {} }] }),
    problems: ['spec.volumes[0].tmpfs: is not a volume source'],
  },
  {
    rule: 'a hostPath volume with a relative path is refused',
    manifest: one({}, { volumes: [{ name: 'logs', hostPath: { path: 'var/log' } }] }),
    problems: ['spec.volumes[0].hostPath.path: "var/log" must be an absolute path'],
  },
  {
    rule: 'a hostPath type outside the enum is refused',
    manifest: one({}, { volumes: [{ name: 'logs', hostPath: { path: '/var/log', type: 'Dir' } }] }),
    problems: [
      'spec.volumes[0].hostPath.type: must be one of "", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice", not "Dir"',
    ],
  },
  {
    rule: 'two volumes may not have the same name',
    manifest: one(
      {},
      {
        volumes: [
          { name: 'data', emptyDir: {} },
          { name: 'data', emptyDir: {} },
        ],
      },
    ),
    problems: ['spec.volumes[1].name: "data" is a duplicate'],
  },

  // pod-level fields
  {
    rule: 'a restartPolicy outside Always, OnFailure, Never is refused',
    manifest: one({}, { restartPolicy: 'always' }),
    problems: ['spec.restartPolicy: must be one of "Always", "OnFailure", "Never", not "always"'],
  },
  {
    rule: 'a negative terminationGracePeriodSeconds is refused',
    manifest: one({}, { terminationGracePeriodSeconds: -1 }),
    problems: ['spec.terminationGracePeriodSeconds: must be an integer between 0 and 2147483648, not -1'],
  },
  {
    rule: 'a fractional terminationGracePeriodSeconds is refused',
    manifest: one({}, { terminationGracePeriodSeconds: 2.5 }),
    problems: ['spec.terminationGracePeriodSeconds: must be an integer between 0 and 2147483648, not 2.5'],
  },
  {
    rule: 'shareProcessNamespace may not be combined with hostPID',
    manifest: one({}, { shareProcessNamespace: true, hostPID: true }),
    problems: ['spec.shareProcessNamespace: may not be true when hostPID is true'],
  },
  {
    rule: 'hostNetwork given as a string is refused',
    manifest: one({}, { hostNetwork: 'true' }),
    problems: ['spec.hostNetwork: must be true or false, not "true"'],
  },

  // lifecycle
  {
    rule: 'an init container may not have lifecycle hooks',
    manifest: pod({ initContainers: [ct({ name: 'init', lifecycle: { postStart: { exec: { command: ['true'] } } } })], containers: [ct()] }),
    problems: ['spec.initContainers[0].lifecycle: may not be set for init containers without restartPolicy=Always'],
  },
  {
    rule: 'a plain init container may not have probes',
    manifest: pod({
      initContainers: [ct({ name: 'init', startupProbe: { exec: { command: ['true'] } }, livenessProbe: { exec: { command: ['true'] } } })],
      containers: [ct()],
    }),
    problems: [
      'spec.initContainers[0].livenessProbe: may not be set for init containers without restartPolicy=Always',
      'spec.initContainers[0].startupProbe: may not be set for init containers without restartPolicy=Always',
    ],
  },

  // container restartPolicy (sidecars)
  {
    rule: 'a container-level restartPolicy on a regular container is refused',
    manifest: one({ restartPolicy: 'Always' }),
    problems: ['spec.containers[0].restartPolicy: may not be set for non-init containers'],
  },
  {
    rule: 'an init container restartPolicy other than Always is refused with the supported value',
    manifest: pod({ initContainers: [ct({ name: 'init', restartPolicy: 'OnFailure' })], containers: [ct()] }),
    problems: ['spec.initContainers[0].restartPolicy: Unsupported value: "OnFailure": supported values: "Always"'],
  },
  {
    rule: 'an init container restartPolicy Never is refused too (only Always exists for containers)',
    manifest: pod({ initContainers: [ct({ name: 'init', restartPolicy: 'Never' })], containers: [ct()] }),
    problems: ['spec.initContainers[0].restartPolicy: Unsupported value: "Never": supported values: "Always"'],
  },
  {
    rule: 'an exec hook without command is refused',
    manifest: one({ lifecycle: { preStop: { exec: {} } } }),
    problems: ['spec.containers[0].lifecycle.preStop.exec.command: required'],
  },
  {
    rule: 'lifecycle.stopSignal needs spec.os.name (validateContainerStopSignal)',
    manifest: one({ lifecycle: { stopSignal: 'SIGQUIT' } }),
    problems: ['spec.containers[0].lifecycle.stopSignal: may not be set for containers with empty `spec.os.name`'],
  },
  {
    rule: 'lifecycle.stopSignal must be a signal Linux has, spelt as the API server lists them',
    manifest: one({ lifecycle: { stopSignal: 'QUIT' } }, { os: { name: 'linux' } }),
    problems: ['spec.containers[0].lifecycle.stopSignal: unsupported value "QUIT": a signal name such as SIGTERM, SIGQUIT, SIGUSR1, SIGRTMIN+3'],
  },
  {
    rule: 'a Windows pod is refused on this Linux host (kubelet: PodOSNotSupported)',
    manifest: one({}, { os: { name: 'windows' } }),
    problems: ['spec.os.name: "windows": this host runs Linux pods (kubelet: PodOSNotSupported)'],
  },
  {
    rule: 'spec.os.name is required and one of linux, windows',
    manifest: one({}, { os: { name: 'plan9' } }),
    problems: ['spec.os.name: must be "linux" or "windows", not "plan9"'],
  },
  {
    rule: 'an exec hook with an empty command is refused',
    manifest: one({ lifecycle: { postStart: { exec: { command: [] } } } }),
    problems: ['spec.containers[0].lifecycle.postStart.exec.command: required: a non-empty command'],
  },

  // termination message, workingDir
  {
    rule: 'a relative terminationMessagePath is refused',
    manifest: one({ terminationMessagePath: 'termination-log' }),
    problems: ['spec.containers[0].terminationMessagePath: "termination-log" must be an absolute path'],
  },
  {
    rule: 'a terminationMessagePolicy outside the enum is refused',
    manifest: one({ terminationMessagePolicy: 'OnError' }),
    problems: ['spec.containers[0].terminationMessagePolicy: must be one of "File", "FallbackToLogsOnError", not "OnError"'],
  },
  {
    rule: 'a relative workingDir is refused',
    manifest: one({ workingDir: 'app' }),
    problems: ['spec.containers[0].workingDir: "app" must be an absolute path'],
  },

  // YAML texts
  {
    rule: 'a YAML manifest with a bad memory quantity is refused with the same path',
    manifest:
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: host\n    command: [sleep, "1"]\n    resources:\n      limits:\n        memory: 12XB\n',
    problems: [`spec.containers[0].resources.limits.memory: "12XB" is not a quantity ${QTY}`],
  },
  {
    rule: 'a YAML port number written as a quoted string is refused',
    manifest:
      'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - name: app\n    image: host\n    command: [sleep, "1"]\n    ports:\n    - containerPort: "8080"\n',
    problems: ['spec.containers[0].ports[0].containerPort: must be an integer between 1 and 65535, not "8080"'],
  },
  {
    rule: 'a YAML command written as one string is refused',
    manifest: 'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - name: app\n    image: host\n    command: sleep 1\n',
    problems: ['spec.containers[0].command: must be a list of strings'],
  },
  {
    rule: 'a YAML init container with lifecycle and a relative workingDir lists both problems',
    manifest:
      'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  initContainers:\n  - name: init\n    image: host\n    command: ["true"]\n    workingDir: tmp\n    lifecycle:\n      preStop:\n        exec: {command: ["true"]}\n  containers:\n  - name: app\n    image: host\n    command: [sleep, "1"]\n',
    problems: [
      'spec.initContainers[0].workingDir: "tmp" must be an absolute path',
      'spec.initContainers[0].lifecycle: may not be set for init containers without restartPolicy=Always',
    ],
  },
]

t.test('the base manifests of the table are valid, so each case fails for its own rule', async t => {
  t.equal(parseManifest(one({})).spec.containers[0].name, 'app')
  t.equal(parseManifest(one({ volumeMounts: [{ name: 'data', mountPath: '/data' }] }, data)).spec.volumes[0].name, 'data')
  t.equal(parseManifest(pod({ containers: [ct()] }, { name: 'a'.repeat(253) })).spec.name, 'a'.repeat(253), '253 characters is the longest name')
  t.equal(parseManifest(one({ name: 'a'.repeat(63) })).spec.containers[0].name, 'a'.repeat(63), '63 characters is the longest container name')
  const ports = parseManifest(
    one({
      ports: [
        { name: 'a', containerPort: 1 },
        { name: 'abcdefghijklmn1', containerPort: 65535, hostPort: 8080 },
        { name: 'a-b', containerPort: 53, hostPort: 8080, protocol: 'UDP' },
      ],
    }),
  ).spec.containers[0].ports
  t.same(
    ports.map(p => p.name),
    ['a', 'abcdefghijklmn1', 'a-b'],
    'the same hostPort with another protocol is allowed',
  )
  const res = parseManifest(one({ resources: { requests: { cpu: '0.5', 'hugepages-2Mi': '4Mi' }, limits: { cpu: '500m', 'hugepages-2Mi': '4Mi' } } })).spec
    .containers[0].resources
  t.equal(res.requests.cpuMilli, 500, 'a request equal to the limit is allowed')
  t.equal(
    parseManifestText(
      cases
        .find(c => typeof c.manifest === 'string')!
        .manifest.toString()
        .replace('12XB', '12Mi'),
    ).spec.name,
    'web',
  )
})

for (const c of cases) {
  t.test(c.rule, async t => {
    const r = await run(t, c.manifest)
    t.equal(r.code, 2, 'exit code 2')
    t.equal(r.err, refusal(r.file, c.problems))
    t.equal(r.out, '')
    t.same(r.created, [], 'nothing created under --root')
  })
}

t.test('a manifest with many problems lists all of them in one error, with the count', async t => {
  const r = await run(t, {
    apiVersion: 'v1beta1',
    kind: 'Pod',
    metadata: { name: 'Web' },
    spec: {
      restartPolicy: 'Sometimes',
      terminationGracePeriodSeconds: -5,
      volumes: [{ name: 'data' }],
      initContainers: [{ name: 'init', image: 'host', command: ['true'], lifecycle: { postStart: { exec: { command: ['x'] } } } }],
      containers: [
        { name: 'init', image: 'host', command: 'true', resources: { limits: { memory: '12XB', cpu: '1' }, requests: { cpu: '2' } } },
        { name: 'b', image: 'host', command: ['x'], ports: [{ containerPort: 70000, protocol: 'tcp' }], env: [{ name: '9X', value: 'v' }], workingDir: 'rel' },
      ],
    },
  })
  t.equal(r.code, 2)
  t.equal(
    r.err,
    refusal(r.file, [
      'apiVersion: must be "v1", not "v1beta1"',
      `metadata.name: "Web" ${SUBDOMAIN}`,
      'spec.volumes[0]: must have exactly one volume source (hostPath, emptyDir, configMap, secret, ...), found 0',
      'spec.initContainers[0].lifecycle: may not be set for init containers without restartPolicy=Always',
      'spec.containers[0].command: must be a list of strings',
      `spec.containers[0].resources.limits.memory: "12XB" is not a quantity ${QTY}`,
      'spec.containers[0].resources.requests.cpu: must be less than or equal to the cpu limit',
      'spec.containers[0].name: "init" is a duplicate: container names must be unique in the pod',
      'spec.containers[1].workingDir: "rel" must be an absolute path',
      `spec.containers[1].env[0].name: "9X" ${ENV_NAME}`,
      'spec.containers[1].ports[0].containerPort: must be an integer between 1 and 65535, not 70000',
      'spec.containers[1].ports[0].protocol: must be one of "TCP", "UDP", "SCTP", not "tcp"',
      'spec.restartPolicy: must be one of "Always", "OnFailure", "Never", not "Sometimes"',
      'spec.terminationGracePeriodSeconds: must be an integer between 0 and 2147483648, not -5',
    ]),
  )
  t.match(r.err, /: 14 problems\n/)
  t.same(r.created, [])
})

t.test('a YAML file with a syntax error is a spec.parse error, exit 2, nothing created', async t => {
  const r = await run(t, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers: [{name: app, command: [sleep, "1"]\n')
  t.equal(r.code, 2)
  t.match(
    r.err,
    new RegExp(
      `^pod-launch: spec\\.parse: ${r.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\S.*\\nhint: the file must be YAML or JSON: Kubernetes objects, one per document \\(separated by ---\\)\\n$`,
    ),
  )
  t.match(r.err, / at line 7, column 1/, 'the YAML error says where')
  t.notMatch(r.err, /spec\.invalid/)
  t.equal(r.out, '')
  t.same(r.created, [])
})

t.test('an empty manifest file is a spec.parse error: no document found', async t => {
  const r = await run(t, '# nothing here\n')
  t.equal(r.code, 2)
  t.equal(r.err, `pod-launch: spec.parse: ${r.file}: no document found\n`)
  t.same(r.created, [])
})
