import t from 'tap'
import { parseManifest, parseManifestText, PodError } from '../../../src/index.js'
import { containerArgv, resolveEnv } from '../../../src/spec/index.js'

const facts = { podIP: '', hostIP: '', nodeName: 'node1' }

const pod = (spec: object, metadata: object = { name: 'web' }) => ({ apiVersion: 'v1', kind: 'Pod', metadata, spec })

t.test('a minimal pod is defaulted and frozen', async t => {
  const { spec, unsupported } = parseManifest(pod({ containers: [{ name: 'a', command: ['sh', '-c', 'true'] }] }))
  t.equal(spec.name, 'web')
  t.equal(spec.namespace, 'default')
  t.equal(spec.hostname, 'web')
  t.equal(spec.terminationGracePeriodSeconds, 30)
  t.equal(spec.shareProcessNamespace, false)
  t.match(spec.uid, /^[0-9a-f-]{36}$/)
  t.match(spec.containers[0], {
    name: 'a',
    image: 'host',
    command: ['sh', '-c', 'true'],
    env: [],
    workingDir: undefined,
    terminationMessagePath: '/dev/termination-log',
    ports: [],
  })
  t.equal(spec.restartPolicy, 'Always', 'Kubernetes defaults restartPolicy to Always')
  t.ok(Object.isFrozen(spec) && Object.isFrozen(spec.containers[0].command))
  t.same(unsupported, [])
})

t.test('each run gets a new uid', async t => {
  const m = pod({ containers: [{ name: 'a', command: ['true'] }] })
  t.not(parseManifest(m).spec.uid, parseManifest(m).spec.uid)
})

t.test('command and args join; args alone are the argv; $(VAR) uses the env', async t => {
  const { spec } = parseManifest(
    pod({
      containers: [
        { name: 'a', command: ['echo'], args: ['$(GREETING)', '$(MISSING)'], env: [{ name: 'GREETING', value: 'hi' }] },
        { name: 'b', command: [], args: ['x'] },
        {
          name: 'c',
          command: ['echo'],
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '$(A)-2' },
          ],
        },
      ],
    }),
  )
  const argv = (i: number) => containerArgv(spec.containers[i], resolveEnv(spec, spec.containers[i], facts))
  t.same(argv(0), ['echo', 'hi', '$(MISSING)'])
  t.same(argv(1), ['x'])
  t.same(
    [...resolveEnv(spec, spec.containers[2], facts)],
    [
      ['A', '1'],
      ['B', '1-2'],
    ],
  )
})

t.test('every problem is reported at once, by field path, with exit code 2', async t => {
  const bad = {
    apiVersion: 'v2',
    kind: 'Pod',
    metadata: { name: 'Bad_Name' },
    spec: {
      containers: [
        { name: 'a', command: 'not-an-array' },
        { name: 'a', command: ['x'], workingDir: 'relative' },
        { command: ['x'], env: [{ name: '1BAD', value: 'v' }] },
      ],
      shareProcessNamespace: 'yes',
      terminationGracePeriodSeconds: -1,
    },
  }
  const e = t.throws(() => parseManifest(bad, 'pod.json')) as unknown as PodError
  t.type(e, PodError)
  t.equal(e.step, 'spec.invalid')
  t.equal(e.code, 'SPEC_INVALID')
  t.equal(e.exitCode, 2)
  t.matchSnapshot(e.message)
})

t.test('a container without command names the image that has no entrypoint', async t => {
  t.throws(() => parseManifest(pod({ containers: [{ name: 'a' }] })), {
    message: /spec\.containers\[0\]\.command: required: image "host" supplies no entrypoint/,
  })
})

t.test('fields not honoured yet are listed, not dropped silently', async t => {
  const { unsupported } = parseManifest(
    pod({
      containers: [{ name: 'a', command: ['x'], resizePolicy: [], securityContext: { readOnlyRootFilesystem: true, windowsOptions: {} } }],
      securityContext: { sysctls: [] },
      volumes: [{ name: 'v', emptyDir: {} }],
      resourceClaims: [],
    }),
  )
  t.same(unsupported.sort(), [
    'spec.containers[0].resizePolicy (not supported)',
    'spec.containers[0].securityContext.windowsOptions (Linux only)',
    'spec.resourceClaims (not supported)',
  ])
})

t.test('YAML and JSON parse; the first Pod of several documents wins with a warning', async t => {
  const yaml = `apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: y\nspec:\n  containers:\n  - name: a\n    command: [echo, hi]\n`
  const r = parseManifestText(yaml, 'two.yaml')
  t.equal(r.spec.name, 'y')
  t.same(r.warnings, ['two.yaml: ignoring other documents: Service (document 1)'])
  t.equal(parseManifestText(JSON.stringify(pod({ containers: [{ name: 'a', command: ['x'] }] }))).spec.name, 'web')
})

t.test('unparsable text is a spec.parse error with exit code 2', async t => {
  t.throws(() => parseManifestText('{ "a": [1, 2', 'broken.json'), { step: 'spec.parse', exitCode: 2, message: /^spec\.parse: broken\.json: / })
})

t.test('the hostname is the pod name cut to 63 characters, or spec.hostname', async t => {
  const long = 'a'.repeat(70)
  t.equal(parseManifest(pod({ containers: [{ name: 'a', command: ['x'] }] }, { name: long })).spec.hostname, 'a'.repeat(63))
  t.equal(parseManifest(pod({ hostname: 'box', containers: [{ name: 'a', command: ['x'] }] })).spec.hostname, 'box')
})

t.test('a sidecar init container may have lifecycle hooks and keeps its restartPolicy', async t => {
  const { spec } = parseManifest(
    pod({
      initContainers: [{ name: 'proxy', command: ['sleep', '9'], restartPolicy: 'Always', lifecycle: { preStop: { exec: { command: ['true'] } } } }],
      containers: [{ name: 'app', command: ['true'] }],
    }),
  )
  t.equal(spec.initContainers[0].restartPolicy, 'Always')
  t.same(spec.initContainers[0].lifecycle.preStop, { command: ['true'] })
  t.equal(spec.containers[0].restartPolicy, undefined)
})
