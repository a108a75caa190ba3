import t from 'tap'
import { defaultedPodSpec, specFromPodSpec } from '../../../src/manage/kube-spec.js'
import { parseManifest } from '../../../src/spec/index.js'

t.test("the manifest's spec with the API server's defaults (and the admission plugins'), the written values kept", async t => {
  const written = {
    containers: [
      {
        name: 'app',
        image: 'nginx:1.27',
        ports: [{ containerPort: 80 }],
        resources: { limits: { cpu: '500m', memory: '64Mi' }, requests: { cpu: '100m' } },
        env: [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
        livenessProbe: { httpGet: { port: 80, path: '/' }, periodSeconds: 5 },
        readinessProbe: { grpc: { port: 9 } },
      },
      { name: 'side', image: 'busybox', imagePullPolicy: 'IfNotPresent' },
    ],
    initContainers: [{ name: 'init', image: 'host' }],
    volumes: [
      { name: 'h', hostPath: { path: '/tmp' } },
      { name: 'd', downwardAPI: { items: [{ path: 'n', fieldRef: { fieldPath: 'metadata.name' } }] } },
    ],
    restartPolicy: 'OnFailure',
  }
  const s = defaultedPodSpec(written, 'node1') as Record<string, any>
  t.match(s, {
    restartPolicy: 'OnFailure',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    securityContext: {},
    schedulerName: 'default-scheduler',
    enableServiceLinks: true,
    serviceAccountName: 'default',
    serviceAccount: 'default',
    priority: 0,
    preemptionPolicy: 'PreemptLowerPriority',
    nodeName: 'node1',
  })
  const [app, side] = s.containers
  t.match(app, { imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' })
  t.same(
    app.resources,
    { limits: { cpu: '500m', memory: '64Mi' }, requests: { cpu: '100m', memory: '64Mi' } },
    'a limit without its request requests the limit',
  )
  t.same(app.ports, [{ containerPort: 80, protocol: 'TCP' }])
  t.same(app.env[0].valueFrom.fieldRef, { fieldPath: 'metadata.name', apiVersion: 'v1' })
  t.same(app.livenessProbe, { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, periodSeconds: 5, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 })
  t.same(app.readinessProbe.grpc, { port: 9, service: '' })
  t.equal(side.imagePullPolicy, 'IfNotPresent', 'as written')
  t.same(side.resources, {})
  t.equal(s.initContainers[0].imagePullPolicy, 'Never', 'image: host is never pulled')
  t.same(s.volumes[0].hostPath, { path: '/tmp', type: '' })
  t.equal(s.volumes[1].downwardAPI.defaultMode, 420)
  t.same(s.volumes[1].downwardAPI.items[0].fieldRef, { fieldPath: 'metadata.name', apiVersion: 'v1' })
  t.same(written.containers[0].ports, [{ containerPort: 80 }], 'the manifest itself is not changed')
})

t.test(':latest or no tag pulls Always; the container ports of a hostNetwork pod are host ports', async t => {
  const s = defaultedPodSpec(
    {
      hostNetwork: true,
      containers: [
        { name: 'a', image: 'busybox', ports: [{ containerPort: 53, protocol: 'UDP' }] },
        { name: 'b', image: 'x@sha256:' + 'a'.repeat(64) },
      ],
    },
    'n',
  ) as Record<string, any>
  t.equal(s.containers[0].imagePullPolicy, 'Always')
  t.same(s.containers[0].ports, [{ containerPort: 53, protocol: 'UDP', hostPort: 53 }])
  t.equal(s.containers[1].imagePullPolicy, 'IfNotPresent', 'a digest counts as a tag')
})

t.test('the parsed spec keeps the manifest spec with unknown fields dropped (--strict=warn), and a spec without one is rendered', async t => {
  const { spec } = parseManifest(
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'a', image: 'host', comand: ['x'], command: ['sleep', '1'] }], bogus: 1 },
    },
    'm',
    { strict: false },
  )
  t.same(spec.manifestSpec, { containers: [{ name: 'a', image: 'host', command: ['sleep', '1'] }] })
  const { manifestSpec: _m, ...rest } = spec
  const rendered = specFromPodSpec(rest, 'n') as Record<string, any>
  t.match(rendered.containers, [{ name: 'a', image: 'host', command: ['sleep', '1'], imagePullPolicy: 'Never' }])
  t.equal(rendered.restartPolicy, 'Always')
})
