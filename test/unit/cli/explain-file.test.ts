// `explain FILE` on a whole file: one line per document saying what it
// becomes (in file order), then each pod's plan; a reference no object
// meets as "run would fail"; a Secret's values nowhere in the output.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { main } from '../../../src/cli/main.js'

async function cli(argv: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, { out: s => void out.push(s), err: s => void err.push(s) }, {})
  return { code, out: out.join(''), err: err.join('') }
}

const docs = [
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: 'hunter2-s3cr3t' } },
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'host',
              command: ['serve', '--password=$(PW)'],
              env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }],
              envFrom: [{ configMapRef: { name: 'cfg' } }],
            },
          ],
        },
      },
    },
  },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: {} },
  { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other' }, data: { a: '1', b: '2' } }] },
]

t.test('explain FILE: what each document becomes, then each pod; a missing ConfigMap as run would fail; no Secret value', async t => {
  const file = join(t.testdir(), 'app.yaml')
  writeFileSync(file, docs.map(d => JSON.stringify(d)).join('\n---\n'))
  const r = await cli(['explain', file])
  t.equal(r.code, 0, r.err)
  const lines = r.out.split('\n')
  t.equal(lines[0], `${file}: 4 documents; nothing is created.`)
  t.equal(lines[1], '  document 1: Secret db: 1 key (password) (Opaque; values not shown), read by pod ' + lines[2].match(/pod (web-\S+)/)![1])
  t.match(lines[2], /^ {2}document 2: Deployment web -> pod web-[a-z0-9]+-[a-z0-9]{5} \(its template, run once\)$/)
  t.equal(lines[3], '  document 3: Service web: not run: there is no cluster network here (use hostPort, or hostNetwork)')
  t.equal(lines[4], '  document 4.1: ConfigMap other: 2 keys (a, b), read by no pod')
  t.match(r.out, /pod web-\S+: run would fail: pod\.config: pod web-\S+: container app: CreateContainerConfigError: configmap "cfg" not found/)
  t.match(r.out, 'env:    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOSTNAME=web-')
  t.match(r.out, "PW=<set to the key 'password' in secret 'db'>")
  t.match(r.out, 'execve ["serve","--password=$(PW)"]')
  t.match(r.out, /sealed: values from Secrets are not in the plan: the real env and argv are read at spawn from <pod dir>\/secrets\/app\.json \(a tmpfs\)/)
  t.match(r.err, 'warning: Deployment web: replicas 2: runs one pod')
  t.notMatch(r.out + r.err, /hunter2/)

  const j = await cli(['explain', '--json', file])
  t.equal(j.code, 0)
  const plan = JSON.parse(j.out) as { documents: string[]; pods: { pod: string; runWouldFail?: string }[] }
  t.equal(plan.documents.length, 4)
  t.match(plan.pods, [{ pod: /^web-/, runWouldFail: /CreateContainerConfigError/ }])
  t.notMatch(j.out, /hunter2/)
})
