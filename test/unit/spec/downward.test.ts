// The downward API as kubelet computes it: resourceFieldRef values (ceil to
// the divisor, an unset limit read as the node's allocatable), the field paths
// env and downwardAPI volumes may name, and the refusals, by field path.
import t from 'tap'
import { parseManifest } from '../../../src/index.js'
import { goQuote, resolveEnv, type RuntimeFacts } from '../../../src/spec/index.js'
import { problemsOf } from '../../helpers/spec.js'

type Obj = Record<string, unknown>

const GI = 1024 ** 3
const facts: RuntimeFacts = {
  podIP: '198.18.0.5',
  podIPs: ['198.18.0.5', 'fd00::5'],
  hostIP: '198.18.0.1',
  nodeName: 'node-a',
  allocatable: { cpuMilli: 4000, memoryBytes: 8 * GI, ephemeralStorageBytes: 100 * GI },
}
const pod = (spec: Obj, metadata: Obj = { name: 'web' }) => parseManifest({ apiVersion: 'v1', kind: 'Pod', metadata, spec }).spec
const res = (resource: string, divisor?: string, containerName?: string) => ({
  resourceFieldRef: { resource, ...(divisor ? { divisor } : {}), ...(containerName ? { containerName } : {}) },
})
/** Env values of container 0 of a pod whose containers have `resources`. */
function values(resources: Obj, env: [string, Obj][], extra: Obj[] = []): Record<string, string> {
  const p = pod({ containers: [{ name: 'app', command: ['x'], resources, env: env.map(([name, valueFrom]) => ({ name, valueFrom })) }, ...extra] })
  return Object.fromEntries(resolveEnv(p, p.containers[0], facts))
}
const problems = (spec: Obj) => problemsOf(() => pod(spec))

t.test('cpu rounds up to whole divisor units: 125m and 250m are 1 core, or 125 and 250 with divisor 1m', async t => {
  const env: [string, Obj][] = [
    ['L', res('limits.cpu')],
    ['R', res('requests.cpu')],
    ['LM', res('limits.cpu', '1m')],
    ['RM', res('requests.cpu', '1m')],
  ]
  t.same(values({ limits: { cpu: '250m' }, requests: { cpu: '125m' } }, env), { L: '1', R: '1', LM: '250', RM: '125' })
  t.same(values({ limits: { cpu: '1500m' } }, env), { L: '2', R: '2', LM: '1500', RM: '1500' }, 'an unset request defaults to the limit')
  t.same(values({ limits: { cpu: 2 } }, [['L', res('limits.cpu', '1')]]), { L: '2' })
})

t.test('memory rounds up to whole divisor units: 32Mi and 64Mi in bytes, in Mi, in M', async t => {
  const env: [string, Obj][] = [
    ['L', res('limits.memory')],
    ['R', res('requests.memory')],
    ['LMI', res('limits.memory', '1Mi')],
    ['RMI', res('requests.memory', '1Mi')],
    ['LM', res('limits.memory', '1M')],
    ['LGI', res('limits.memory', '1Gi')],
  ]
  t.same(values({ limits: { memory: '64Mi' }, requests: { memory: '32Mi' } }, env), {
    L: String(64 * 2 ** 20),
    R: String(32 * 2 ** 20),
    LMI: '64',
    RMI: '32',
    LM: '68',
    LGI: '1',
  })
})

t.test('ephemeral-storage and huge pages are read the same way', async t => {
  t.same(
    values({ limits: { 'ephemeral-storage': '1Gi', 'hugepages-2Mi': '4Mi', memory: '8Mi' } }, [
      ['E', res('limits.ephemeral-storage', '1Mi')],
      ['ER', res('requests.ephemeral-storage', '1Ki')],
      ['H', res('limits.hugepages-2Mi', '1Mi')],
    ]),
    { E: '1024', ER: '1048576', H: '4' },
  )
})

t.test("an unset limit reports the node's allocatable; an unset request is 0", async t => {
  t.same(
    values({}, [
      ['C', res('limits.cpu')],
      ['CM', res('limits.cpu', '1m')],
      ['M', res('limits.memory', '1Gi')],
      ['E', res('limits.ephemeral-storage', '1Gi')],
      ['RC', res('requests.cpu')],
      ['RM', res('requests.memory')],
    ]),
    { C: '4', CM: '4000', M: '8', E: '100', RC: '0', RM: '0' },
  )
})

t.test('containerName reads another container of the pod', async t => {
  t.same(values({}, [['OTHER', res('limits.memory', '1Mi', 'side')]], [{ name: 'side', command: ['y'], resources: { limits: { memory: '32Mi' } } }]), {
    OTHER: '32',
  })
})

t.test('fieldRef for every listed path', async t => {
  const p = pod(
    {
      serviceAccountName: 'builder',
      containers: [
        {
          name: 'a',
          command: ['x'],
          env: [
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
            "metadata.annotations['a/b']",
          ].map((fieldPath, i) => ({ name: `V${i}`, valueFrom: { fieldRef: { fieldPath } } })),
        },
      ],
    },
    { name: 'web', namespace: 'shop', labels: { app: 'w' }, annotations: { 'a/b': 'c d' } },
  )
  t.same(
    [...resolveEnv(p, p.containers[0], facts).values()],
    ['web', 'shop', p.uid, 'node-a', 'builder', '198.18.0.1', '198.18.0.1', '198.18.0.5', '198.18.0.5,fd00::5', 'w', 'c d'],
  )
})

t.test('serviceAccountName defaults to "default"; the deprecated serviceAccount is read too', async t => {
  t.equal(pod({ containers: [{ name: 'a', command: ['x'] }] }).serviceAccountName, 'default')
  t.equal(pod({ serviceAccount: 'old', containers: [{ name: 'a', command: ['x'] }] }).serviceAccountName, 'old')
  t.equal(pod({ serviceAccount: 'old', serviceAccountName: 'new', containers: [{ name: 'a', command: ['x'] }] }).serviceAccountName, 'new')
})

t.test('a downwardAPI volume is parsed, defaulted (mode 0644) and mounted read-only whatever the mount says', async t => {
  const p = pod({
    volumes: [
      {
        name: 'info',
        downwardAPI: {
          items: [
            { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
            { path: 'cpu', resourceFieldRef: { containerName: 'a', resource: 'limits.cpu', divisor: '1m' }, mode: 0o600 },
          ],
        },
      },
    ],
    containers: [{ name: 'a', command: ['x'], volumeMounts: [{ name: 'info', mountPath: '/info', readOnly: false }] }],
  })
  t.same(p.volumes[0].source, {
    items: [
      { path: 'labels', fieldRef: 'metadata.labels' },
      { path: 'cpu', resourceFieldRef: { containerName: 'a', resource: 'limits.cpu', divisor: '1m' }, mode: 0o600 },
    ],
    defaultMode: 0o644,
  })
  t.equal(p.containers[0].volumeMounts[0].readOnly, true)
})

t.test('bad downward API references are refused by field path', async t => {
  const ct = (env: Obj[]) => ({ containers: [{ name: 'a', command: ['x'], env }] })
  t.same(problems(ct([{ name: 'A', valueFrom: res('limits.gpu') }])), [
    'spec.containers[0].env[0].valueFrom.resourceFieldRef.resource: "limits.gpu" is not supported: one of limits.cpu, limits.memory, limits.ephemeral-storage, requests.cpu, requests.memory, requests.ephemeral-storage, or limits.hugepages-<size> / requests.hugepages-<size>',
  ])
  t.same(problems(ct([{ name: 'A', valueFrom: res('limits.cpu', '10m') }])), [
    'spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor: "10m": only divisor\'s values 1m and 1 are supported with the cpu resource',
  ])
  t.same(problems(ct([{ name: 'A', valueFrom: res('limits.memory', '3Mi') }])), [
    'spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor: "3Mi": only divisor\'s values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory resource',
  ])
  t.same(problems(ct([{ name: 'A', valueFrom: res('limits.memory', 'lots') }])), [
    'spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor: "lots" is not a quantity (e.g. 512Mi, 1G, 250m, 0.5)',
  ])
  t.same(problems(ct([{ name: 'A', valueFrom: res('limits.cpu', undefined, 'ghost') }])), [
    'spec.containers[0].env[0].valueFrom.resourceFieldRef.containerName: "ghost" is not a container of this pod',
  ])
  t.same(problems(ct([{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name' }, ...res('limits.cpu') } }])), [
    'spec.containers[0].env[0].valueFrom: may not have more than one field specified at a time (found fieldRef, resourceFieldRef)',
  ])
  const vol = (items: Obj[], extra: Obj = {}) => ({ volumes: [{ name: 'v', downwardAPI: { items, ...extra } }], containers: [{ name: 'a', command: ['x'] }] })
  t.same(problems(vol([{ path: 'ip', fieldRef: { fieldPath: 'status.podIP' } }])), [
    `spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath: "status.podIP" is not supported in a downwardAPI volume: one of metadata.name, metadata.namespace, metadata.uid, metadata.labels, metadata.annotations, metadata.labels['<key>'], metadata.annotations['<key>']`,
  ])
  t.same(problems(vol([{ path: 'cpu', resourceFieldRef: { resource: 'limits.cpu' } }])), [
    'spec.volumes[0].downwardAPI.items[0].resourceFieldRef.containerName: required',
  ])
  t.same(problems(vol([{ path: '../x', fieldRef: { fieldPath: 'metadata.name' } }, { path: 'y' }])), [
    "spec.volumes[0].downwardAPI.items[0].path: \"../x\" must be a relative path without '..' and must not start with '..'",
    'spec.volumes[0].downwardAPI.items[1]: required: one of fieldRef and resourceFieldRef',
  ])
  t.same(problems(vol([{ path: 'n', fieldRef: { fieldPath: 'metadata.name' }, mode: 0o1777 }], { defaultMode: -1 })), [
    'spec.volumes[0].downwardAPI.defaultMode: must be an integer between 0 and 511, not -1',
    'spec.volumes[0].downwardAPI.items[0].mode: must be an integer between 0 and 511, not 1023',
  ])
})

t.test("label and annotation values are quoted as Go's %q does", async t => {
  t.equal(goQuote('plain'), '"plain"')
  t.equal(goQuote('a "b"\\c'), '"a \\"b\\"\\\\c"')
  t.equal(goQuote('tab\there\nbell\x07\x01'), '"tab\\there\\nbell\\a\\x01"')
  t.equal(goQuote('héllo ✓'), '"héllo ✓"')
})
