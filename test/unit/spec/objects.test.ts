// ConfigMaps and Secrets as the API server takes them, the references a pod
// makes to them (envFrom, configMapKeyRef, secretKeyRef, configMap, secret
// and projected volumes), kubelet's reasons for a missing one, and the env
// a container gets: values from Secrets sealed behind a stand-in.
import t from 'tap'
import { parseManifest, parseManifestSetText } from '../../../src/index.js'
import { configProblems, noObjects, readsSecrets, referencedObjects, resolveContainerEnv, type PodObjects } from '../../../src/spec/index.js'
import { Checker } from '../../../src/spec/checker.js'
import { decodeBase64, parseConfigMap, parseSecret } from '../../../src/spec/objects.js'
import { problemsOf } from '../../helpers/spec.js'

type Obj = Record<string, unknown>
const pod = (spec: Obj) => parseManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec }).spec
const app = (extra: Obj = {}) => ({ name: 'app', image: 'host', command: ['x'], ...extra })
const problems = (spec: Obj) => problemsOf(() => pod(spec))
const cm = (data: Obj, extra: Obj = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data, ...extra })
const secret = (extra: Obj) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, ...extra })
const facts = (objects: PodObjects) => ({ podIP: '', hostIP: '', nodeName: 'n', objects })
const objectsOf = (...docs: Obj[]) =>
  parseManifestSetText(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [...docs, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [app()] } }],
    }),
  ).objects

t.test('a ConfigMap keeps data as text and binaryData as bytes; keys are checked as IsConfigMapKey', async t => {
  const c = new Checker(true)
  const o = parseConfigMap(c, cm({ 'game.properties': 'a=1\n', lives: '3' }, { binaryData: { blob: 'AAEC' }, immutable: true }))
  t.same(c.problems, [])
  t.same(o, { kind: 'ConfigMap', name: 'cfg', namespace: 'default', data: { 'game.properties': 'a=1\n', lives: '3' }, binaryData: { blob: 'AAEC' } })
  const bad = new Checker(true)
  parseConfigMap(bad, cm({ 'a/b': 'x', '..x': 'y', n: 3 }, { binaryData: { n2: '!!', lives: 'AA==' }, data2: 1 }))
  parseConfigMap(bad, cm({ lives: 'x' }, { binaryData: { lives: 'AA==' } }))
  t.same(
    bad.problems.map(p => `${p.path}: ${p.message}`),
    [
      'data2: unknown field (did you mean "data"?)',
      "data.a/b: \"a/b\" must consist of alphanumeric characters, '-', '_' or '.'",
      "data...x: \"..x\" must not be '.' or '..', nor start with '..'",
      'data.n: must be a string, not number',
      'binaryData.n2: is not valid base64 (use stringData for plain text)',
      'binaryData.lives: duplicate of a key in data',
    ],
  )
})

t.test('a Secret decodes data strictly, merges stringData over it, and checks the keys its type needs', async t => {
  const c = new Checker(true)
  const s = parseSecret(c, secret({ data: { password: 'czNjcjN0', user: 'b2xk' }, stringData: { user: 'admin' } }))
  t.same(c.problems, [])
  t.same(s, { kind: 'Secret', name: 'db', namespace: 'default', type: 'Opaque', data: { password: 'czNjcjN0', user: 'YWRtaW4=' } })
  t.equal(decodeBase64('czNj\ncjN0')?.toString(), 's3cr3t', 'line breaks are ignored, as Go does')
  t.equal(decodeBase64('czNjcjN0='), undefined, 'bad padding')
  t.equal(decodeBase64('s3cr3t!!'), undefined)
  const bad = new Checker(true)
  parseSecret(bad, secret({ type: 'kubernetes.io/tls', data: { 'tls.crt': 'not base64: hunter2' } }))
  const lines = bad.problems.map(p => `${p.path}: ${p.message}`)
  t.same(lines, [
    'data.tls.crt: is not valid base64 (use stringData for plain text)',
    'data[tls.crt]: required for a Secret of type kubernetes.io/tls',
    'data[tls.key]: required for a Secret of type kubernetes.io/tls',
  ])
  t.notMatch(lines.join('\n'), /hunter2/, 'a value is never quoted')
  const big = new Checker(true)
  parseSecret(big, secret({ stringData: { a: 'x'.repeat(1 << 20) } }))
  t.match(big.problems, [{ path: 'data', message: /at most 1048576 bytes/ }])
})

t.test('envFrom and key refs parse with the API server rules', async t => {
  const p = pod({
    containers: [
      app({
        envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }, { secretRef: { name: 'db', optional: true } }],
        env: [
          { name: 'A', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'a' } } },
          { name: 'B', valueFrom: { secretKeyRef: { name: 'db', key: 'b', optional: true } } },
        ],
      }),
    ],
  })
  t.same(p.containers[0].envFrom, [
    { prefix: 'CFG_', configMapRef: { name: 'cfg', optional: false } },
    { prefix: '', secretRef: { name: 'db', optional: true } },
  ])
  t.same(p.containers[0].env, [
    { name: 'A', configMapKeyRef: { name: 'cfg', key: 'a', optional: false } },
    { name: 'B', secretKeyRef: { name: 'db', key: 'b', optional: true } },
  ])
  t.same(
    problems({
      containers: [
        app({
          envFrom: [{ configMapRef: { name: 'cfg' }, secretRef: { name: 'db' } }, { prefix: '1X' }, { configMapRef: { name: 'Cfg' } }],
          env: [{ name: 'A', valueFrom: { configMapKeyRef: { key: 'a/b' } } }],
        }),
      ],
    }),
    [
      'spec.containers[0].env[0].valueFrom.configMapKeyRef.name: required',
      "spec.containers[0].env[0].valueFrom.configMapKeyRef.key: \"a/b\" must consist of alphanumeric characters, '-', '_' or '.'",
      'spec.containers[0].envFrom[0]: may not have more than one field specified at a time (found configMapRef, secretRef)',
      "spec.containers[0].envFrom[1].prefix: \"1X\" must consist of letters, digits, '_', '-' or '.', and not start with a digit",
      'spec.containers[0].envFrom[1]: must specify one of: `configMapRef` or `secretRef`',
      "spec.containers[0].envFrom[2].configMapRef.name: \"Cfg\" must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.'",
    ],
  )
})

t.test('configMap, secret and projected volumes parse, are read-only, and refuse what needs a cluster', async t => {
  const p = pod({
    volumes: [
      { name: 'c', configMap: { name: 'cfg', items: [{ key: 'a', path: 'x/a', mode: 0o600 }] } },
      { name: 's', secret: { secretName: 'db', defaultMode: 0o400, optional: true } },
      {
        name: 'p',
        projected: {
          sources: [
            { configMap: { name: 'cfg' } },
            { secret: { name: 'db', items: [{ key: 'pw', path: 'pw' }] } },
            { downwardAPI: { items: [{ path: 'n', fieldRef: { fieldPath: 'metadata.name' } }] } },
          ],
        },
      },
    ],
    containers: [
      app({
        volumeMounts: [
          { name: 'c', mountPath: '/c' },
          { name: 's', mountPath: '/s' },
          { name: 'p', mountPath: '/p', readOnly: false },
        ],
      }),
    ],
  })
  t.same(
    p.volumes.map(v => v.source),
    [
      { name: 'cfg', items: [{ key: 'a', path: 'x/a', mode: 0o600 }], optional: false, defaultMode: 0o644 },
      { name: 'db', optional: true, defaultMode: 0o400 },
      {
        sources: [
          { kind: 'configMap', name: 'cfg', optional: false },
          { kind: 'secret', name: 'db', items: [{ key: 'pw', path: 'pw' }], optional: false },
          { kind: 'downwardAPI', items: [{ path: 'n', fieldRef: 'metadata.name' }] },
        ],
        defaultMode: 0o644,
      },
    ],
  )
  t.same(
    p.containers[0].volumeMounts.map(m => m.readOnly),
    [true, true, true],
    'API data volumes are always read-only',
  )
  t.ok(readsSecrets(p))
  t.same(
    problems({
      volumes: [
        {
          name: 'c',
          configMap: {
            items: [
              { key: 'a', path: '../a' },
              { key: 'b', path: 'b' },
              { key: 'c', path: 'b' },
            ],
          },
        },
        { name: 's', secret: { secretName: 'db', defaultMode: 0o1777 } },
        {
          name: 'p',
          projected: {
            sources: [
              { serviceAccountToken: { path: 'token' } },
              { configMap: { name: 'a', items: [{ key: 'k', path: 'x' }] } },
              { secret: { name: 'b', items: [{ key: 'k', path: 'x' }] } },
            ],
          },
        },
        { name: 'q', persistentVolumeClaim: { claimName: 'data' } },
      ],
      containers: [app()],
    }),
    [
      'spec.volumes[0].configMap.name: required',
      "spec.volumes[0].configMap.items[0].path: \"../a\" must be a relative path without '..' and must not start with '..'",
      'spec.volumes[0].configMap.items[2].path: "b" is a duplicate',
      'spec.volumes[1].secret.defaultMode: must be an integer between 0 and 511, not 1023',
      'spec.volumes[2].projected.sources[0].serviceAccountToken: needs an API server to issue it: pod-launch has none (use a secret source with the file)',
      'spec.volumes[2].projected.sources[2].secret.items[0].path: "x" conflicts with spec.volumes[2].projected.sources[1].configMap.items[0].path: conflicting duplicate paths',
      'spec.volumes[3].persistentVolumeClaim: persistentVolumeClaim volumes are not supported: use hostPath, emptyDir, configMap, secret, projected, downwardAPI',
    ],
  )
})

t.test("a missing object or key fails with kubelet's reason; optional ones are skipped", async t => {
  const p = pod({
    volumes: [
      { name: 'c', configMap: { name: 'cfg', items: [{ key: 'nokey', path: 'x' }] } },
      { name: 's', secret: { secretName: 'gone' } },
      { name: 'o', secret: { secretName: 'gone', optional: true } },
    ],
    containers: [
      app({
        envFrom: [{ configMapRef: { name: 'nocfg' } }, { secretRef: { name: 'nosecret', optional: true } }],
        env: [
          { name: 'A', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'missing' } } },
          { name: 'B', valueFrom: { secretKeyRef: { name: 'db', key: 'missing' } } },
          { name: 'C', valueFrom: { secretKeyRef: { name: 'db', key: 'missing', optional: true } } },
        ],
      }),
    ],
  })
  const objects = objectsOf(cm({ a: '1' }), secret({ stringData: { pw: 'x' } }))
  t.same(configProblems(p, objects), [
    { reason: 'FailedMount', volume: 'c', message: 'MountVolume.SetUp failed for volume "c" : configmap references non-existent config key: nokey' },
    { reason: 'FailedMount', volume: 's', message: 'MountVolume.SetUp failed for volume "s" : secret "gone" not found' },
    { reason: 'CreateContainerConfigError', container: 'app', message: 'configmap "nocfg" not found' },
    { reason: 'CreateContainerConfigError', container: 'app', message: "couldn't find key missing in ConfigMap default/cfg" },
    { reason: 'CreateContainerConfigError', container: 'app', message: "couldn't find key missing in Secret default/db" },
  ])
  t.same(
    referencedObjects(p, { ...objects, configMaps: [...objects.configMaps, { ...objects.configMaps[0], name: 'other' }] }).configMaps.map(o => o.name),
    ['cfg'],
    'only what the pod reads',
  )
  t.same(configProblems(pod({ containers: [app()] }), noObjects()), [])
})

t.test('env: envFrom keys (prefixed, invalid names skipped), then env in order; Secret values are sealed behind a stand-in', async t => {
  const objects = objectsOf(
    cm({ lives: '3', '1st': 'x', 'game.properties': 'p' }, { binaryData: { blob: 'AAEC' } }),
    secret({ stringData: { pw: 's3cr3t', user: 'admin', '2fa': 'x' } }),
  )
  const p = pod({
    containers: [
      app({
        envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'G_' }, { secretRef: { name: 'db' } }],
        env: [
          { name: 'PW2', valueFrom: { secretKeyRef: { name: 'db', key: 'pw' } } },
          { name: 'URL', value: 'pg://$(user):$(PW2)@h/$(G_lives)' },
          { name: 'user', value: 'plain' },
          { name: 'LIVES', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'lives' } } },
          { name: 'BLOB', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'blob', optional: true } } },
        ],
      }),
    ],
  })
  const r = resolveContainerEnv(p, p.containers[0], facts(objects))
  t.same(Object.fromEntries(r.env), {
    G_1st: 'x',
    'G_game.properties': 'p',
    G_lives: '3',
    pw: 's3cr3t',
    user: 'plain',
    PW2: 's3cr3t',
    URL: 'pg://admin:s3cr3t@h/3',
    LIVES: '3',
  })
  t.same(Object.fromEntries(r.sealed), {
    pw: "<set to the key 'pw' in secret 'db'>",
    PW2: "<set to the key 'pw' in secret 'db'>",
    URL: 'pg://$(user):$(PW2)@h/3',
  })
  t.notOk(r.env.has('2fa'), 'a key that is not a variable name is skipped, as kubelet does')
  t.notOk(r.env.has('BLOB'), 'binaryData is not in env: an optional ref to it defines nothing')
})
