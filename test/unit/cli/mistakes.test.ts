// The common mistakes of issue 22, made on purpose: each gives one clear message
// (exit 2 for bad input), and nothing is created.
import t from 'tap'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { main } from '../../../src/cli/main.js'

const REPO = fileURLToPath(new URL('../../../', import.meta.url))

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, { out: s => void out.push(s), err: s => void err.push(s) }, env)
  return { code, out: out.join(''), err: err.join('') }
}

const POD = (spec: string) => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n${spec}`

interface Mistake {
  /** The mistake as issue 22 saw it. */
  what: string
  argv?: string[]
  /** A manifest (YAML) given to `run FILE`. */
  yaml?: string
  env?: NodeJS.ProcessEnv
  code?: number
  err?: RegExp | string
  out?: RegExp
  /** A mistake only the kernel can show: the integration test (file: title) that makes it. */
  kernel?: [string, string]
}

// The 19 mistakes of issue 22, in its order; ROOT is the test's state root.
const MISTAKES: Mistake[] = [
  {
    what: '1. exec -it POD -- sh (a pty; the flags are not read as values)',
    argv: ['exec', '-it', 'web', '--', 'sh'],
    code: 1,
    err: /^pod-launch: (pod\.resolve: web: no such pod|cli\.root: pod-launch exec: needs root)/,
  },
  { what: '1b. exec -it under a real terminal', kernel: ['test/integration/exec.test.ts', 'exec -it: a shell on a pty of the container'] },
  { what: '2. a global option on ps', argv: ['ps', '--cgroup-parent', 'x', '--json'], code: 0, err: '' },
  { what: '3. lab takes --root and --cgroup-parent', argv: ['lab', 'list', '--cgroup-parent', 'x'], code: 0, err: '', out: /^LAB +WHAT IT SHOWS/ },
  {
    what: '4. explain takes --cni-conf-dir',
    yaml: POD('spec:\n  containers:\n  - name: app\n    image: host\n    command: [sleep, "1"]\n'),
    argv: ['explain', '--cni-conf-dir', '/nonexistent', '--json'],
    code: 0,
  },
  { what: '5. POD_LAUNCH_ROOT names the state root', argv: ['ps', '-o', 'name'], env: { POD_LAUNCH_ROOT: 'ROOT' }, code: 0, err: '' },
  { what: '6. a typo of a command', argv: ['sp'], code: 2, err: "pod-launch: unknown command 'sp' (did you mean 'ps'?)\nhint: pod-launch --help\n" },
  { what: '6b. a command of another tool (pull)', argv: ['pull', 'busybox'], code: 2, err: "pod-launch: unknown command 'pull'\nhint: pod-launch --help\n" },
  { what: '6c. events and cp are commands now, not manifest paths', argv: ['events'], code: 0, err: '', out: /^No events found\.\n$/ },
  {
    what: '6d. a near miss of a command (completions)',
    argv: ['completions'],
    code: 2,
    err: "pod-launch: unknown command 'completions' (did you mean 'completion'?)\nhint: pod-launch --help\n",
  },
  { what: '7. image import --help is its own', argv: ['image', 'import', '--help'], code: 0, out: /^pod-launch image import <file> \[name\]/ },
  {
    what: '8. a typo of a field',
    yaml: POD('spec:\n  containers:\n  - name: app\n    image: host\n    comand: [sleep, "1"]\n    args: ["1"]\n'),
    code: 2,
    err: /: 1 problem\n {2}spec\.containers\[0\]\.comand: unknown field \(did you mean "command"\?\)\nhint: /,
  },
  {
    what: '9. a typo next to a real error',
    yaml: POD('spec:\n  restartPolicy: Sometimes\n  containers:\n  - name: app\n    image: host\n    comand: [sleep, "1"]\n    args: ["1"]\n'),
    code: 2,
    err: /: 2 problems\n {2}spec\.containers\[0\]\.comand: unknown field \(did you mean "command"\?\)\n {2}spec\.restartPolicy: must be one of/,
  },
  {
    what: '10. a container without image',
    yaml: POD('spec:\n  containers:\n  - name: app\n    command: [sleep, "1"]\n'),
    code: 2,
    err: /: 1 problem\n {2}spec\.containers\[0\]\.image: required value \(`image: host` runs it on the host's filesystem\)\n/,
  },
  {
    what: '11. containers: at column 0',
    yaml: POD('containers:\n- name: app\n  image: host\n  command: [sleep, "1"]\n'),
    code: 2,
    err: /: 1 problem\n {2}containers: is a field of spec: indent it under spec:\nhint/,
  },
  {
    what: '12. a typo inside a List item (a List runs its items)',
    yaml: 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: cfg}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: web}\n  spec:\n    containers: [{name: app, image: host, comand: [sleep], args: ["1"]}]\n',
    code: 2,
    err: /: 1 problem\n {2}Pod web \(document 1\.2\): spec\.containers\[0\]\.comand: unknown field \(did you mean "command"\?\)\n/,
  },
  {
    what: '12c. a volumeMount of a refused volume is not a second problem',
    yaml: POD(
      'spec:\n  volumes:\n  - name: data\n    nfs: {server: nfs.example, path: /exports}\n  containers:\n  - name: app\n    image: host\n    command: [sleep, "1"]\n    volumeMounts: [{name: data, mountPath: /data}]\n',
    ),
    code: 2,
    err: /: 1 problem\n {2}spec\.volumes\[0\]\.nfs: nfs volumes are not supported: use hostPath, emptyDir, .*\nhint: /,
  },
  {
    what: '12b. a configMap volume of a ConfigMap the file does not give',
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
  {
    what: '13. a grace period that is not a number',
    argv: ['stop', 'web', '--grace-period', 'abc'],
    code: 2,
    err: 'pod-launch: --grace-period abc: must be an integer\nhint: pod-launch stop --help\n',
  },
  {
    what: "14. a negative grace period is the pod's own (the pod is looked up, nothing is killed at once)",
    argv: ['stop', 'web', '--grace-period=-5'],
    code: 1,
    err: /^pod-launch: (pod\.resolve: web: no such pod|cli\.root: pod-launch stop: needs root)/,
  },
  {
    what: '15. two pods with the same hostPort',
    kernel: ['test/integration/cli-tools.test.ts', 'a hostPort a live pod holds is refused before anything is made'],
  },
  {
    what: '16. a memory limit too small to start',
    kernel: ['test/integration/memory-limit-start.test.ts', 'a memory limit too small for pause, or for the container, says so'],
  },
  {
    what: '17. not root: one clear message, not EACCES from scandir',
    kernel: ['test/integration/cli-tools.test.ts', 'not root: one clear message naming the command or the state root'],
  },
  {
    what: '18. attach to a pod without a stdin/tty container',
    kernel: ['test/integration/cli-tools.test.ts', 'attach to a container with neither stdin nor tty says so at once'],
  },
  {
    what: '19. ps --json structured, inspect a Kubernetes Pod',
    kernel: ['test/integration/cli-kube.test.ts', 'inspect: the Pod as the API server and kubelet would show it'],
  },
  {
    what: '19b. exec without a command',
    argv: ['exec', 'web'],
    code: 2,
    err: /^pod-launch: exec: a command is required\nusage: pod-launch exec \[-i\] \[-t\] POD .*\nhint: pod-launch exec --help\n$/,
  },
]

t.test('the table has each of the 19 mistakes of issue 22', async t => {
  t.same(
    // Unnumbered rows are later ones (issue 23's whole files), beside the 19.
    [...new Set(MISTAKES.flatMap(m => /^(\d+)/.exec(m.what)?.slice(1).map(Number) ?? []))],
    Array.from({ length: 19 }, (_, i) => i + 1),
  )
})

for (const m of MISTAKES) {
  if (m.kernel) {
    const [file, title] = m.kernel
    t.test(`${m.what}: made by ${file}`, async t => {
      t.match(readFileSync(join(REPO, file), 'utf8'), `t.test(${JSON.stringify(title).slice(0, -1)}`.replace(/"/g, "'"), 'that test exists')
    })
    continue
  }
  t.test(`${m.what}: one clear message`, async t => {
    const dir = t.testdir({ root: {} })
    const root = join(dir, 'root')
    let argv = (m.argv ?? []).map(a => a.replace('ROOT', root))
    if (m.yaml !== undefined) {
      writeFileSync(join(dir, 'pod.yaml'), m.yaml)
      argv = m.argv ? [argv[0], join(dir, 'pod.yaml'), ...argv.slice(1)] : ['run', join(dir, 'pod.yaml')]
    }
    const env = Object.fromEntries(Object.entries(m.env ?? {}).map(([k, v]) => [k, v?.replace('ROOT', root)]))
    const r = await cli(m.env ? argv : ['--root', root, ...argv], env)
    t.equal(r.code, m.code, 'exit code')
    if (typeof m.err === 'string') t.equal(r.err, m.err)
    else if (m.err) t.match(r.err, m.err)
    if (m.out) t.match(r.out, m.out)
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
