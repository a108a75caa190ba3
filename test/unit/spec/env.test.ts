// A container's environment and argv at start: downward-API fieldRefs and
// $(VAR) expansion as kubelet does them, on PodSpecs made by parseManifest.
import t from 'tap'
import { parseManifest } from '../../../src/index.js'
import { containerArgv, fieldValue, resolveEnv, type RuntimeFacts } from '../../../src/spec/index.js'

type Obj = Record<string, unknown>

const facts: RuntimeFacts = { podIP: '10.88.0.7', hostIP: '192.168.1.20', nodeName: 'node-a' }
const metadata = {
  name: 'web',
  namespace: 'shop',
  labels: { tier: 'front', app: 'web' },
  annotations: { 'example.com/owner': 'team "a"', note: 'two\nlines' },
}

/** A parsed pod of one container `c` with `metadata` above. */
function podOf(c: Obj) {
  return parseManifest({ apiVersion: 'v1', kind: 'Pod', metadata, spec: { containers: [{ name: 'app', command: ['run'], ...c }] } }).spec
}

const ref = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } })

/** The container's env as [name, value] pairs, in order. */
function envOf(env: Obj[], f: RuntimeFacts = facts): [string, string][] {
  const pod = podOf({ env })
  return [...resolveEnv(pod, pod.containers[0], f)]
}

t.test('fieldRef metadata.name, namespace and uid give the pod values', async t => {
  const pod = podOf({ env: [ref('NAME', 'metadata.name'), ref('NS', 'metadata.namespace'), ref('UID', 'metadata.uid')] })
  t.match(pod.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
  t.same(
    [...resolveEnv(pod, pod.containers[0], facts)],
    [
      ['NAME', 'web'],
      ['NS', 'shop'],
      ['UID', pod.uid],
    ],
  )
})

t.test('the namespace of a pod that names none is "default"', async t => {
  const pod = parseManifest({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'a', command: ['x'], env: [ref('NS', 'metadata.namespace')] }] },
  }).spec
  t.same([...resolveEnv(pod, pod.containers[0], facts)], [['NS', 'default']])
})

t.test("fieldRef metadata.labels['k'] and annotations['k'] give one value; a missing key gives ''", async t => {
  t.same(envOf([ref('APP', "metadata.labels['app']"), ref('OWNER', "metadata.annotations['example.com/owner']"), ref('NONE', "metadata.labels['nope']")]), [
    ['APP', 'web'],
    ['OWNER', 'team "a"'],
    ['NONE', ''],
  ])
})

t.test('the whole labels or annotations map (downwardAPI files) is sorted key="value" lines with Go quoting', async t => {
  const pod = podOf({})
  t.equal(fieldValue(pod, 'metadata.labels', facts), 'app="web"\ntier="front"')
  t.equal(fieldValue(pod, 'metadata.annotations', facts), 'example.com/owner="team \\"a\\""\nnote="two\\nlines"')
})

t.test('env may not name the whole labels or annotations map, as in Kubernetes', async t => {
  t.throws(() => podOf({ env: [ref('LABELS', 'metadata.labels')] }), {
    message: /env\[0\]\.valueFrom\.fieldRef\.fieldPath: "metadata\.labels" is not a supported field path/,
  })
})

t.test('a pod without labels gives an empty string for the labels map', async t => {
  const pod = parseManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a', command: ['x'] }] } }).spec
  t.equal(fieldValue(pod, 'metadata.labels', facts), '')
  t.equal(fieldValue(pod, "metadata.labels['app']", facts), '')
})

t.test('status.podIP, status.hostIP and spec.nodeName come from the runtime facts', async t => {
  const env = [
    ref('POD_IP', 'status.podIP'),
    ref('POD_IPS', 'status.podIPs'),
    ref('HOST_IP', 'status.hostIP'),
    ref('HOST_IPS', 'status.hostIPs'),
    ref('NODE', 'spec.nodeName'),
    ref('SA', 'spec.serviceAccountName'),
  ]
  t.same(envOf(env), [
    ['POD_IP', '10.88.0.7'],
    ['POD_IPS', '10.88.0.7'],
    ['HOST_IP', '192.168.1.20'],
    ['HOST_IPS', '192.168.1.20'],
    ['NODE', 'node-a'],
    ['SA', 'default'],
  ])
  t.same(
    envOf(env, { podIP: '', hostIP: '', nodeName: 'other' }).map(([, v]) => v),
    ['', '', '', '', 'other', 'default'],
    'no pod IP yet: empty',
  )
})

t.test('$(VAR) in a value refers to variables defined before it, literal or fieldRef', async t => {
  t.same(envOf([{ name: 'A', value: 'one' }, ref('POD', 'metadata.name'), { name: 'B', value: '$(A)-$(POD)' }]), [
    ['A', 'one'],
    ['POD', 'web'],
    ['B', 'one-web'],
  ])
})

t.test('$(VAR) naming a variable defined later, or never, stays as written', async t => {
  t.same(
    envOf([
      { name: 'A', value: '$(B)|$(NOPE)' },
      { name: 'B', value: 'two' },
    ]),
    [
      ['A', '$(B)|$(NOPE)'],
      ['B', 'two'],
    ],
  )
})

t.test('$(VAR) of a variable defined as empty expands to empty', async t => {
  t.same(
    envOf([
      { name: 'E', value: '' },
      { name: 'X', value: '[$(E)]' },
    ]),
    [
      ['E', ''],
      ['X', '[]'],
    ],
  )
})

t.test('fieldRef values are taken as they are, not expanded', async t => {
  const pod = parseManifest({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', labels: { cmd: '$(A) and $$(A)' } },
    spec: { containers: [{ name: 'a', command: ['x'], env: [{ name: 'A', value: 'one' }, ref('L', "metadata.labels['cmd']")] }] },
  }).spec
  t.same(
    [...resolveEnv(pod, pod.containers[0], facts)],
    [
      ['A', 'one'],
      ['L', '$(A) and $$(A)'],
    ],
  )
})

t.test('$$(X) is an escaped $: it becomes the literal $(X), in env and in argv', async t => {
  const pod = podOf({
    command: ['echo', '$$(A)', '$$$(A)', 'cost $$5'],
    env: [
      { name: 'A', value: 'one' },
      { name: 'B', value: '$$(A)' },
    ],
  })
  const env = resolveEnv(pod, pod.containers[0], facts)
  t.same(
    [...env],
    [
      ['A', 'one'],
      ['B', '$(A)'],
    ],
  )
  t.same(containerArgv(pod.containers[0], env), ['echo', '$(A)', '$one', 'cost $5'])
})

t.test('argv expansion uses the full environment, including variables defined after use in env', async t => {
  const pod = podOf({
    command: ['/bin/$(SHELL_NAME)', '-c'],
    args: ['echo $(GREETING) from $(POD) $(UNSET)'],
    env: [{ name: 'GREETING', value: 'hi $(POD)' }, ref('POD', 'metadata.name'), { name: 'SHELL_NAME', value: 'sh' }],
  })
  const env = resolveEnv(pod, pod.containers[0], facts)
  t.equal(env.get('GREETING'), 'hi $(POD)', 'POD came later in env, so it is not expanded there')
  t.same(containerArgv(pod.containers[0], env), ['/bin/sh', '-c', 'echo hi $(POD) from web $(UNSET)'])
})

t.test('argv is command then args; args alone are the argv', async t => {
  const pod = parseManifest({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: {
      containers: [
        { name: 'a', command: ['a', 'b'], args: ['c'] },
        { name: 'b', args: ['only', '$(X)'], env: [{ name: 'X', value: 'x' }] },
      ],
    },
  }).spec
  t.same(containerArgv(pod.containers[0], new Map()), ['a', 'b', 'c'])
  t.same(containerArgv(pod.containers[1], resolveEnv(pod, pod.containers[1], facts)), ['only', 'x'])
})

t.test('a later duplicate name wins; values between see the earlier value', async t => {
  const pod = podOf({
    args: ['$(A)'],
    env: [
      { name: 'A', value: '1' },
      { name: 'B', value: '$(A)' },
      { name: 'A', value: '2' },
      { name: 'C', value: '$(A)' },
    ],
  })
  const env = resolveEnv(pod, pod.containers[0], facts)
  t.same(
    [...env],
    [
      ['A', '2'],
      ['B', '1'],
      ['C', '2'],
    ],
  )
  t.same(containerArgv(pod.containers[0], env), ['run', '2'])
})

t.test('a later fieldRef replaces an earlier literal of the same name', async t => {
  t.same(envOf([{ name: 'N', value: 'literal' }, ref('N', 'metadata.name')]), [['N', 'web']])
})

t.test('an env var without value or valueFrom is the empty string', async t => {
  t.same(envOf([{ name: 'EMPTY' }]), [['EMPTY', '']])
})

t.test("fieldRef to a label named like an Object property that the pod lacks gives ''", async t => {
  const env = envOf([ref('C', "metadata.labels['constructor']"), ref('T', "metadata.annotations['toString']")])
  // A lookup on a plain object would return Object.prototype.constructor (a function) here;
  // Kubernetes gives '' for a label the pod does not have.
  t.same(
    env.map(([k, v]) => [k, typeof v, String(v)]),
    [
      ['C', 'string', ''],
      ['T', 'string', ''],
    ],
  )
})

t.test('an empty value next to valueFrom.fieldRef is allowed, as in Kubernetes, and the fieldRef is used', async t => {
  const manifest = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec: { containers: [{ name: 'a', command: ['x'], env: [{ name: 'POD', value: '', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] }] },
  }
  let got: unknown
  try {
    const pod = parseManifest(manifest).spec
    got = [...resolveEnv(pod, pod.containers[0], facts)]
  } catch (e) {
    got = (e as Error).message
  }
  // Kubernetes (validateEnvVarValueFrom: `len(ev.Value) != 0`) refuses only a non-empty value;
  // tools that merge env lists emit `value: ""` next to valueFrom.
  t.same(got, [['POD', 'web']])
})

t.test('a label keyed __proto__ is kept as data', async t => {
  const pod = parseManifest(
    JSON.parse(
      `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","labels":{"__proto__":"x"}},"spec":{"containers":[{"name":"a","command":["x"],"env":[{"name":"P","valueFrom":{"fieldRef":{"fieldPath":"metadata.labels['__proto__']"}}}]}]}}`,
    ),
  ).spec
  t.same([...resolveEnv(pod, pod.containers[0], facts)], [['P', 'x']])
})
