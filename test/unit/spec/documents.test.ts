// Whole manifest files: every document and List item, workloads run as their
// template once (named and labelled as their controller would), other kinds
// named as not run, and every problem of every document before anything runs.
import t from 'tap'
import { parseManifestSetText, notRunLine } from '../../../src/index.js'
import { generateName, podTemplateHash } from '../../../src/spec/index.js'
import { problemsOf } from '../../helpers/spec.js'

type Obj = Record<string, unknown>
const yaml = (...docs: Obj[]) => docs.map(d => JSON.stringify(d)).join('\n---\n')
const podDoc = (name: string, extra: Obj = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'app', image: 'host', command: ['sleep', '1'] }], ...extra },
})
const template = (labels: Obj, spec: Obj = {}) => ({
  metadata: { labels },
  spec: { containers: [{ name: 'app', image: 'host', command: ['sleep', '1'] }], ...spec },
})
const workload = (kind: string, apiVersion: string, name: string, spec: Obj) => ({ apiVersion, kind, metadata: { name }, spec })
const set = (...docs: Obj[]) => parseManifestSetText(yaml(...docs), 'app.yaml', { strict: true })

t.test('every Pod runs, in file order; List items in place; ConfigMaps and Secrets are objects; other kinds are named as not run', async t => {
  const s = set(
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { a: '1' } },
    podDoc('first'),
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: {} },
    { apiVersion: 'v1', kind: 'List', items: [podDoc('second'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { pw: 'x' } }] },
    { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly' }, spec: {} },
  )
  t.same(
    s.pods.map(p => [p.parsed.spec.name, p.origin.document, p.origin.item]),
    [
      ['first', 2, undefined],
      ['second', 4, 1],
    ],
  )
  t.same(
    s.objects.configMaps.map(o => o.name),
    ['cfg'],
  )
  t.same(
    s.objects.secrets.map(o => o.name),
    ['db'],
  )
  t.same(s.notRun.map(notRunLine), [
    'Service web (document 3): not run: there is no cluster network here (use hostPort, or hostNetwork)',
    'CronJob nightly (document 5): not run: pod-launch runs no schedules (a systemd timer can call `pod-launch run`)',
  ])
})

t.test('problems of every document are listed at once, each naming its document', async t => {
  const lines = problemsOf(() =>
    set(podDoc('a', { restartPolicy: 'Sometimes' }), podDoc('a'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { 'a b': 'x' } }),
  )
  t.same(lines, [
    'Pod a (document 1): spec.restartPolicy: must be one of "Always", "OnFailure", "Never", not "Sometimes"',
    'Pod a (document 2): metadata.name: "a" is a duplicate of document 1',
    "ConfigMap cfg (document 3): data.a b: \"a b\" must consist of alphanumeric characters, '-', '_' or '.'",
  ])
  t.same(
    problemsOf(() => set(podDoc('only', { restartPolicy: 'Sometimes' }))),
    ['spec.restartPolicy: must be one of "Always", "OnFailure", "Never", not "Sometimes"'],
    'one document: paths as before',
  )
})

t.test(
  "a Deployment's pod is <name>-<pod-template-hash>-<5 chars>, its template's labels kept plus pod-template-hash; replicas named in a warning",
  async t => {
    const s = set(
      workload('Deployment', 'apps/v1', 'web', { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web', tier: 'fe' }) }),
    )
    const [p] = s.pods
    const hash = p.parsed.spec.labels['pod-template-hash']
    t.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/)
    t.match(p.parsed.spec.name, new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`))
    t.same(p.parsed.spec.labels, { app: 'web', tier: 'fe', 'pod-template-hash': hash })
    t.equal(p.parsed.spec.restartPolicy, 'Always')
    t.same(s.warnings, ['Deployment web: replicas 3: runs one pod (the template once); nothing scales or reconciles it'])
    t.equal(podTemplateHash(template({ app: 'web' })), podTemplateHash(template({ app: 'web' })), 'the same template, the same hash')
    t.not(podTemplateHash(template({ app: 'web' })), podTemplateHash(template({ app: 'api' })))
    t.equal(generateName(`${'x'.repeat(70)}-`).length, 63, 'a long base is cut to 58 characters, as the API server does')
  },
)

t.test('ReplicaSet, ReplicationController and DaemonSet pods are <name>-<5 chars>; StatefulSet <name>-0 with hostname and subdomain', async t => {
  const sel = { selector: { matchLabels: { app: 'x' } } }
  const s = set(
    workload('ReplicaSet', 'apps/v1', 'rs', { ...sel, template: template({ app: 'x' }) }),
    workload('ReplicationController', 'v1', 'rc', { template: template({ app: 'x' }) }),
    workload('DaemonSet', 'apps/v1', 'ds', { ...sel, template: template({ app: 'x' }) }),
    workload('StatefulSet', 'apps/v1', 'db', { ...sel, serviceName: 'dbs', replicas: 2, template: template({ app: 'x' }) }),
  )
  const names = s.pods.map(p => p.parsed.spec.name)
  t.match(names, [/^rs-[a-z0-9]{5}$/, /^rc-[a-z0-9]{5}$/, /^ds-[a-z0-9]{5}$/, 'db-0'])
  const db = s.pods[3].parsed.spec
  t.same([db.hostname, db.subdomain], ['db-0', 'dbs'])
  t.same(db.labels, { app: 'x', 'statefulset.kubernetes.io/pod-name': 'db-0', 'apps.kubernetes.io/pod-index': '0' })
  t.same(s.warnings, ['StatefulSet db: replicas 2: runs one pod (the template once); nothing scales or reconciles it'])
})

t.test("a Job's pod carries job-name labels; its completion settings are one warning; restartPolicy must be OnFailure or Never", async t => {
  const s = set(workload('Job', 'batch/v1', 'migrate', { completions: 5, parallelism: 2, backoffLimit: 3, template: template({}, { restartPolicy: 'Never' }) }))
  const p = s.pods[0].parsed.spec
  t.match(p.name, /^migrate-[a-z0-9]{5}$/)
  t.match(p.labels, { 'batch.kubernetes.io/job-name': 'migrate', 'job-name': 'migrate', 'controller-uid': /^[0-9a-f-]{36}$/ })
  t.same(s.warnings, [
    'Job migrate: completions 5, parallelism 2, backoffLimit 3 ignored: the template runs once, as one pod; nothing retries or counts completions',
  ])
  t.same(
    problemsOf(() => set(workload('Job', 'batch/v1', 'j', { template: template({}) }))),
    ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'],
  )
  const suspended = set(workload('Job', 'batch/v1', 'j', { suspend: true, template: template({}, { restartPolicy: 'Never' }) }), podDoc('p'))
  t.same(suspended.notRun.map(notRunLine), ['Job j (document 1): not run: suspended (spec.suspend: true)'])
})

t.test("a workload's template problems are paths of the workload; its selector must select the template's labels", async t => {
  t.same(
    problemsOf(() =>
      set(
        workload('Deployment', 'apps/v1', 'web', {
          selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe'] }] },
          template: {
            metadata: { labels: { app: 'web', tier: 'be' } },
            spec: { restartPolicy: 'Never', containers: [{ name: 'app', image: 'host', comand: ['x'], args: ['1'] }] },
          },
        }),
      ),
    ),
    [
      'spec.template.metadata.labels: `selector` does not match template `labels`',
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
      'spec.template.spec.containers[0].comand: unknown field (did you mean "command"?)',
    ],
  )
  t.same(
    problemsOf(() => set(workload('StatefulSet', 'apps/v1', 'db', { selector: {}, template: template({ app: 'db' }) }))),
    ['spec.selector: empty selector is invalid for this kind'],
  )
})

t.test('a file given with only: kind takes nothing else; annotate adds annotations to each pod before it is validated', async t => {
  t.same(
    problemsOf(() => parseManifestSetText(yaml(podDoc('p')), 'cm.yaml', { only: 'ConfigMap' })),
    ['kind: must be "ConfigMap", not "Pod": this file gives ConfigMaps only'],
  )
  const s = parseManifestSetText(yaml(podDoc('a'), podDoc('b')), 'f.yaml', { annotate: o => ({ 'pod-launch.io/document': String(o.document) }) })
  t.same(
    s.pods.map(p => p.parsed.spec.annotations),
    [{ 'pod-launch.io/document': '1' }, { 'pod-launch.io/document': '2' }],
  )
})
