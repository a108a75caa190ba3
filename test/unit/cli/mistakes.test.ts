// The common mistakes of issue 22, made on purpose: each gives one clear message
// (exit 2 for bad input), and nothing is created.
import t from 'tap'
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { main } from '../../../src/cli/main.js'

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, { out: s => void out.push(s), err: s => void err.push(s) }, env)
  return { code, out: out.join(''), err: err.join('') }
}

const POD = (spec: string) => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n${spec}`

interface Mistake {
  what: string
  argv?: string[]
  /** A manifest (YAML) given to `run FILE`. */
  yaml?: string
  code: number
  err: RegExp | string
}

const MISTAKES: Mistake[] = [
  { what: 'a typo of a command', argv: ['sp'], code: 2, err: "pod-launch: unknown command 'sp' (did you mean 'ps'?)\nhint: pod-launch --help\n" },
  { what: 'a command of another tool (pull)', argv: ['pull', 'busybox'], code: 2, err: "pod-launch: unknown command 'pull'\nhint: pod-launch --help\n" },
  {
    what: 'a near miss of a command (completions)',
    argv: ['completions'],
    code: 2,
    err: "pod-launch: unknown command 'completions' (did you mean 'completion'?)\nhint: pod-launch --help\n",
  },
  { what: 'a global option on ps', argv: ['ps', '--cgroup-parent', 'x', '--json'], code: 0, err: '' },
  {
    what: 'a grace period that is not a number',
    argv: ['stop', 'web', '--grace-period', 'abc'],
    code: 2,
    err: 'pod-launch: --grace-period abc: must be an integer\nhint: pod-launch stop --help\n',
  },
  {
    what: 'exec without a command',
    argv: ['exec', 'web'],
    code: 2,
    err: /^pod-launch: exec: a command is required\nusage: pod-launch exec \[-i\] \[-t\] POD .*\nhint: pod-launch exec --help\n$/,
  },
  {
    what: 'a typo of a field',
    yaml: POD('spec:\n  containers:\n  - name: app\n    image: host\n    comand: [sleep, "1"]\n    args: ["1"]\n'),
    code: 2,
    err: /: 1 problem\n {2}spec\.containers\[0\]\.comand: unknown field \(did you mean "command"\?\)\nhint: /,
  },
  {
    what: 'a typo next to a real error',
    yaml: POD('spec:\n  restartPolicy: Sometimes\n  containers:\n  - name: app\n    image: host\n    comand: [sleep, "1"]\n    args: ["1"]\n'),
    code: 2,
    err: /: 2 problems\n {2}spec\.containers\[0\]\.comand: unknown field \(did you mean "command"\?\)\n {2}spec\.restartPolicy: must be one of/,
  },
  {
    what: 'a container without image',
    yaml: POD('spec:\n  containers:\n  - name: app\n    command: [sleep, "1"]\n'),
    code: 2,
    err: /: 1 problem\n {2}spec\.containers\[0\]\.image: required value \(`image: host` runs it on the host's filesystem\)\n/,
  },
  {
    what: 'containers: at column 0',
    yaml: POD('containers:\n- name: app\n  image: host\n  command: [sleep, "1"]\n'),
    code: 2,
    err: /: 1 problem\n {2}containers: is a field of spec: indent it under spec:\nhint/,
  },
  {
    what: 'a typo inside a List item',
    yaml: 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: cfg}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: web}\n  spec:\n    containers: [{name: app, image: host, comand: [sleep], args: ["1"]}]\n',
    code: 2,
    err: /: 1 problem\n {2}Pod web \(document 1\.2\): spec\.containers\[0\]\.comand: unknown field \(did you mean "command"\?\)\n/,
  },
  {
    what: 'a configMap volume of a ConfigMap the file does not give',
    yaml: POD(
      'spec:\n  volumes:\n  - name: cfg\n    configMap: {name: x}\n  containers:\n  - name: app\n    image: host\n    command: [sleep, "1"]\n    volumeMounts: [{name: cfg, mountPath: /cfg}]\n',
    ),
    code: 2,
    err: /^pod-launch: pod\.config: pod web: volume cfg: FailedMount: MountVolume\.SetUp failed for volume "cfg" : configmap "x" not found\nhint: give the ConfigMap/,
  },
  {
    what: 'an env key of a Secret the file does not give',
    yaml: POD(
      'spec:\n  containers:\n  - name: app\n    image: host\n    command: [sleep, "1"]\n    env: [{name: PW, valueFrom: {secretKeyRef: {name: db, key: password}}}]\n',
    ),
    code: 2,
    err: /^pod-launch: pod\.config: pod web: container app: CreateContainerConfigError: secret "db" not found\n/,
  },
  {
    what: 'a Deployment whose selector does not select its template',
    yaml: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      containers: [{name: app, image: host, command: [sleep, "1"]}]\n',
    code: 2,
    err: /: 1 problem\n {2}spec\.template\.metadata\.labels: `selector` does not match template `labels`\n/,
  },
  {
    what: 'a file with no pod in it',
    yaml: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}\n',
    code: 2,
    err: /^pod-launch: manifest\.empty: .*pod\.yaml: no Pod to run \(it holds ConfigMap cfg \(document 1\)\)\n/,
  },
]

for (const m of MISTAKES) {
  t.test(`${m.what}: one clear message`, async t => {
    const dir = t.testdir({ root: {} })
    const root = join(dir, 'root')
    let argv = m.argv ?? []
    if (m.yaml !== undefined) {
      writeFileSync(join(dir, 'pod.yaml'), m.yaml)
      argv = ['run', join(dir, 'pod.yaml')]
    }
    const r = await cli([...argv, '--root', root])
    t.equal(r.code, m.code, 'exit code')
    if (typeof m.err === 'string') t.equal(r.err, m.err)
    else t.match(r.err, m.err)
    t.same(readdirSync(root), [], 'nothing created')
  })
}

t.test('--strict=warn keeps the typo as a warning; known-but-unimplemented fields keep their wording', async t => {
  const dir = t.testdir()
  const file = join(dir, 'pod.yaml')
  writeFileSync(file, POD('spec:\n  activeDeadlineSeconds: 5\n  containers:\n  - name: app\n    comand: [sleep, "1"]\n    args: ["1"]\n'))
  const r = await cli(['explain', file, '--strict=warn', '--json'])
  t.equal(r.code, 0)
  t.equal(r.err, 'warning: not supported yet, ignored: spec.activeDeadlineSeconds (not supported yet), spec.containers[0].comand (unknown field)\n')
  const s = await cli(['explain', file, '--json'])
  t.equal(s.code, 2)
  t.match(s.err, /spec\.containers\[0\]\.comand: unknown field \(did you mean "command"\?\)/)
  t.match(s.err, /spec\.containers\[0\]\.image: required value/)
  t.notMatch(s.err, /activeDeadlineSeconds/, 'not a problem: a warning, printed only when the manifest is taken')
  const bad = await cli(['explain', file, '--strict=maybe'])
  t.equal(bad.code, 2)
  t.match(bad.err, /--strict=maybe: must be strict or warn/)
})
