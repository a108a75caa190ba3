// ConfigMaps and Secrets in real containers: configMap, secret and projected
// volumes in kubelet's layout (..data, one symlink per key, modes, items,
// subPath, binaryData bytes, read-only; secret and projected on tmpfs),
// envFrom and key refs, --configmap / --secret files and directories, and a
// missing one failing with kubelet's reason before anything is made; the
// Kubernetes docs' examples as published, their images from a local mirror.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { requires } from '../helpers/requires.js'
import { cli } from '../helpers/cli.js'
import { newRoot, until } from '../helpers/detached-pods.js'
import { uniqueName } from '../helpers/pods.js'
import { startRegistry } from '../helpers/registry.js'

const skip = requires('root', 'built')
type Obj = Record<string, unknown>

const configMap = (name: string, data: Obj, extra: Obj = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data, ...extra })
const secret = (name: string, extra: Obj) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, ...extra })
const pod = (name: string, script: string, extra: Obj = {}, container: Obj = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: {
    restartPolicy: 'Never',
    terminationGracePeriodSeconds: 1,
    containers: [{ name: 'c', image: 'host', command: ['sh', '-c', script], ...container }],
    ...extra,
  },
})
const write = (dir: string, name: string, docs: object[]) => {
  const f = join(dir, name)
  writeFileSync(f, docs.map(d => JSON.stringify(d)).join('\n---\n'))
  return f
}
/** Run FILE in the foreground; the container's stdout lines (without the [c] prefix). */
async function runLines(root: string, ...args: string[]): Promise<{ code: number; lines: string[]; stderr: string }> {
  const r = await cli(root, 'run', ...args)
  return {
    code: r.code,
    stderr: r.stderr,
    lines: r.stdout
      .split('\n')
      .filter(Boolean)
      .map(l => l.replace(/^\[[^\]]+\] /, '')),
  }
}

t.test("a configMap volume: kubelet's ..data layout, 0644 files, a 0777 directory, read-only; items, modes, binaryData and subPath", { skip }, async t => {
  const root = newRoot(t)
  const n = uniqueName('cmvol')
  const f = write(t.testdir(), 'cm.yaml', [
    configMap(
      `${n}-cfg`,
      { 'game.properties': 'enemies=aliens\nlives=3\n', 'ui.properties': 'color=purple\n' },
      { binaryData: { blob: Buffer.from([0, 1, 2, 255]).toString('base64') } },
    ),
    pod(
      n,
      [
        'cd /all && ls -a | sort | tr "\\n" " "; echo',
        'stat -c "%a %F" /all /all/..data /all/game.properties /all/..data/game.properties /all/..data/blob /all/..data/ | tr "\\n" ";"; echo',
        'readlink /all/game.properties /all/..data | tr "\\n" " "; echo',
        'od -An -tx1 /all/blob | tr -s " "',
        'cat /all/game.properties | tr "\\n" "|"; echo',
        'find /some -name "*.txt" -o -name game | sort | tr "\\n" " "; echo',
        'stat -c "%a" /some/..data/conf/game.txt',
        'cat /one; stat -c "%F" /one',
        'touch /all/x 2>/dev/null && echo writable || echo read-only',
      ].join('; '),
      {
        volumes: [
          { name: 'all', configMap: { name: `${n}-cfg` } },
          { name: 'some', configMap: { name: `${n}-cfg`, items: [{ key: 'game.properties', path: 'conf/game.txt', mode: 0o600 }] } },
        ],
      },
      {
        volumeMounts: [
          { name: 'all', mountPath: '/all' },
          { name: 'some', mountPath: '/some' },
          { name: 'all', mountPath: '/one', subPath: 'ui.properties' },
        ],
      },
    ),
  ])
  const r = await runLines(root, f)
  t.equal(r.code, 0, r.stderr)
  t.match(r.lines[0], /^\. \.\. \.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d+ \.\.data blob game\.properties ui\.properties $/)
  t.equal(
    r.lines[1],
    '777 directory;777 symbolic link;777 symbolic link;644 regular file;644 regular file;755 directory;',
    'the volume 0777, ..data and each name symlinks, files 0644, the data directory 0755',
  )
  t.match(r.lines[2], /^\.\.data\/game\.properties \.\.\d{4}_/)
  t.equal(r.lines[3].trim(), '00 01 02 ff', 'binaryData bytes as they were')
  t.equal(r.lines[4], 'enemies=aliens|lives=3|')
  t.match(r.lines[5], /^\/some\/\.\.\d{4}_[\d_.]+\/conf\/game\.txt $/, 'items: only that key, at its path')
  t.equal(r.lines[6], '600')
  t.same(r.lines.slice(7, 9), ['color=purple', 'regular file'], 'subPath of a key: the file itself')
  t.equal(r.lines[9], 'read-only')
})

t.test('a secret volume is a tmpfs of its own (1777), defaultMode and items honoured, fsGroup owns it; a projected volume joins sources', { skip }, async t => {
  const root = newRoot(t)
  const n = uniqueName('secvol')
  const f = write(t.testdir(), 'secret.yaml', [
    secret(`${n}-db`, { data: { password: Buffer.from('s3cr3t\n').toString('base64') }, stringData: { username: 'admin' } }),
    configMap(`${n}-cfg`, { lives: '3' }),
    pod(
      n,
      [
        'stat -f -c %T /sec /proj',
        'stat -c "%a" /sec',
        'stat -c "%a %g" /sec/..data/password /sec/..data/username',
        'cat /sec/password /sec/username; echo',
        'ls /proj | sort | tr "\\n" " "; echo',
        'cat /proj/lives /proj/user /proj/name; echo',
        'stat -c "%a" /proj/..data/lives',
      ].join('; '),
      {
        securityContext: { fsGroup: 2345 },
        volumes: [
          { name: 'sec', secret: { secretName: `${n}-db`, defaultMode: 0o400 } },
          {
            name: 'proj',
            projected: {
              defaultMode: 0o440,
              sources: [
                { configMap: { name: `${n}-cfg` } },
                { secret: { name: `${n}-db`, items: [{ key: 'username', path: 'user' }] } },
                { downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
              ],
            },
          },
        ],
      },
      {
        volumeMounts: [
          { name: 'sec', mountPath: '/sec' },
          { name: 'proj', mountPath: '/proj' },
        ],
      },
    ),
  ])
  const r = await runLines(root, f)
  t.equal(r.code, 0, r.stderr)
  t.same(r.lines.slice(0, 2), ['tmpfs', 'tmpfs'], 'secret and projected volumes are memory-backed')
  t.equal(r.lines[2], '3777', "tmpfs 1777, set-gid for fsGroup as kubelet's SetVolumeOwnership")
  t.same(r.lines.slice(3, 5), ['440 2345', '440 2345'], 'defaultMode 0400 plus group read for fsGroup, owned by it')
  t.same(r.lines.slice(5, 7), ['s3cr3t', 'admin'], 'data decoded, stringData merged')
  t.equal(r.lines[7], 'lives name user ')
  t.equal(r.lines[8], `3admin${n}`)
  t.equal(r.lines[9], '440')
})

t.test('secret volume files 0644 by default, a dotfile key hidden; an optional volume of a missing ConfigMap or Secret is empty', { skip }, async t => {
  const root = newRoot(t)
  const n = uniqueName('optvol')
  const f = write(t.testdir(), 'opt.yaml', [
    secret(`${n}-db`, { stringData: { token: 't0k', '.hidden': 'h' } }),
    pod(
      n,
      [
        'stat -c "%a" /sec/..data/token',
        'cat /sec/token; echo',
        'ls /sec | tr "\\n" " "; readlink /sec/.hidden',
        'for d in /cm /gone; do stat -c "%F" $d; ls $d | wc -l; done',
        'stat -f -c %T /gone',
      ].join('; '),
      {
        volumes: [
          { name: 'sec', secret: { secretName: `${n}-db` } },
          { name: 'cm', configMap: { name: `${n}-no-such-cfg`, optional: true } },
          { name: 'gone', secret: { secretName: `${n}-no-such-secret`, optional: true } },
        ],
      },
      {
        volumeMounts: [
          { name: 'sec', mountPath: '/sec' },
          { name: 'cm', mountPath: '/cm' },
          { name: 'gone', mountPath: '/gone' },
        ],
      },
    ),
  ])
  const r = await runLines(root, f)
  t.equal(r.code, 0, r.stderr)
  t.same(
    r.lines,
    ['644', 't0k', 'token ..data/.hidden', 'directory', '0', 'directory', '0', 'tmpfs'],
    "kubelet's defaultMode 0644; a dotfile key is a hidden file; optional: an empty volume, the secret one still on tmpfs",
  )
})

t.test('envFrom (with prefix), configMapKeyRef and secretKeyRef set the env; $(VAR) sees them; optional missing ones define nothing', { skip }, async t => {
  const root = newRoot(t)
  const n = uniqueName('env')
  const f = write(t.testdir(), 'env.yaml', [
    configMap(`${n}-cfg`, { SPECIAL_LEVEL: 'very', SPECIAL_TYPE: 'charm', '1bad': 'prefixed only' }),
    secret(`${n}-db`, { stringData: { password: 'pa55', user: 'admin' } }),
    pod(
      n,
      'echo "$CFG_SPECIAL_LEVEL $CFG_SPECIAL_TYPE $SPECIAL_TYPE $CFG_1bad $LEVEL $PW $user $URL ${NOPE-unset} ${NOKEY-unset}"; env | grep -c "^1bad="',
      {},
      {
        envFrom: [
          { configMapRef: { name: `${n}-cfg` }, prefix: 'CFG_' },
          { configMapRef: { name: `${n}-cfg` } },
          { secretRef: { name: `${n}-db` } },
          { configMapRef: { name: `${n}-missing`, optional: true } },
        ],
        env: [
          { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: `${n}-cfg`, key: 'SPECIAL_LEVEL' } } },
          { name: 'PW', valueFrom: { secretKeyRef: { name: `${n}-db`, key: 'password' } } },
          { name: 'URL', value: 'pg://$(user):$(PW)@db' },
          { name: 'NOPE', valueFrom: { secretKeyRef: { name: `${n}-gone`, key: 'x', optional: true } } },
          { name: 'NOKEY', valueFrom: { configMapKeyRef: { name: `${n}-cfg`, key: 'absent', optional: true } } },
        ],
      },
    ),
  ])
  const r = await runLines(root, f)
  t.same(
    r.lines,
    ['very charm charm prefixed only very pa55 admin pg://admin:pa55@db unset unset', '0'],
    `${r.stderr}: 1bad is no variable name without a prefix: skipped`,
  )
})

t.test('--configmap and --secret take files and directories of such documents', { skip }, async t => {
  const root = newRoot(t)
  const n = uniqueName('flags')
  const dir = t.testdir()
  mkdirSync(join(dir, 'secrets'))
  write(join(dir, 'secrets'), 'a.yaml', [secret(`${n}-a`, { stringData: { v: 'A' } })])
  write(join(dir, 'secrets'), 'b.json', [secret(`${n}-b`, { stringData: { v: 'B' } })])
  writeFileSync(join(dir, 'secrets', 'notes.txt'), 'not a manifest: ignored')
  const cm = write(dir, 'cm.yaml', [configMap(`${n}-one`, { v: '1' }), configMap(`${n}-two`, { v: '2' })])
  const ref = (kind: 'configMapKeyRef' | 'secretKeyRef', name: string, env: string) => ({ name: env, valueFrom: { [kind]: { name, key: 'v' } } })
  const f = write(dir, 'pod.yaml', [
    pod(
      n,
      'echo $ONE $TWO $A $B',
      {},
      {
        env: [
          ref('configMapKeyRef', `${n}-one`, 'ONE'),
          ref('configMapKeyRef', `${n}-two`, 'TWO'),
          ref('secretKeyRef', `${n}-a`, 'A'),
          ref('secretKeyRef', `${n}-b`, 'B'),
        ],
      },
    ),
  ])
  const r = await runLines(root, '--configmap', cm, '--secret', join(dir, 'secrets'), f)
  t.same(r.lines, ['1 2 A B'], r.stderr)
  const wrong = await cli(root, 'run', '--configmap', f, f)
  t.equal(wrong.code, 2)
  t.match(wrong.stderr, 'kind: must be "ConfigMap", not "Pod": this file gives ConfigMaps only')
  const twice = await cli(root, 'run', '--configmap', cm, '--configmap', cm, f)
  t.equal(twice.code, 2)
  t.match(twice.stderr, `ConfigMap ${n}-one: is given twice`)
})

t.test("a missing ConfigMap or Secret fails with kubelet's reason, before anything is made", { skip }, async t => {
  const root = newRoot(t)
  const n = uniqueName('missing')
  const f = write(t.testdir(), 'pod.yaml', [
    pod(
      n,
      'true',
      { volumes: [{ name: 'v', secret: { secretName: `${n}-gone` } }] },
      { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: `${n}-cfg`, key: 'x' } } }], volumeMounts: [{ name: 'v', mountPath: '/v' }] },
    ),
  ])
  for (const args of [[f], ['-d', f]]) {
    const r = await cli(root, 'run', ...args)
    t.equal(r.code, 2)
    t.equal(
      r.stderr,
      `pod-launch: pod.config: pod ${n}: volume v: FailedMount: MountVolume.SetUp failed for volume "v" : secret "${n}-gone" not found; container c: CreateContainerConfigError: configmap "${n}-cfg" not found\n` +
        'hint: give the ConfigMap or Secret in the same file (a document of its own), with --configmap FILE / --secret FILE, or mark the reference optional: true\n',
    )
    t.same(
      readdirSync(root).filter(d => /^[0-9a-f-]{36}$/.test(d)),
      [],
      'no pod directory',
    )
  }
})

const example = (name: string) => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url))

t.test("the Kubernetes docs' ConfigMap and Secret examples run as published, their images pulled from a mirror", { skip }, async t => {
  const root = newRoot(t)
  // registry.k8s.io/busybox, alpine (docker.io/library/alpine) and nginx (docker.io/library/nginx) from a
  // registry on 127.0.0.1, named as registries.json mirrors: the files name the published images, no
  // traffic leaves the host. nginx is Debian's nginx in the official image's shape (make-nginx-image.sh).
  const images = t.testdir()
  const script = (name: string) => fileURLToPath(new URL(`../../scripts/${name}`, import.meta.url))
  execFileSync('bash', [script('make-test-images.sh'), images], { stdio: 'ignore' })
  execFileSync('bash', [script('make-nginx-image.sh'), join(images, 'nginx-oci')], { stdio: 'ignore' })
  const reg = await startRegistry()
  t.teardown(() => reg.stop())
  reg.push(`oci:${images}/busybox-oci:latest`, 'busybox:latest')
  reg.push(`oci:${images}/busybox-oci:latest`, 'busybox:1.27.2')
  reg.push(`oci:${images}/busybox-oci:latest`, 'library/alpine:latest')
  reg.push(`oci:${images}/nginx-oci:nginx`, 'library/nginx:latest')
  const registries = join(images, 'registries.json')
  writeFileSync(registries, JSON.stringify({ mirrors: { 'registry.k8s.io': [`http://${reg.host}`], 'docker.io': [`http://${reg.host}`] } }))
  const before = process.env.POD_LAUNCH_REGISTRIES
  process.env.POD_LAUNCH_REGISTRIES = registries
  t.teardown(() => {
    if (before === undefined) delete process.env.POD_LAUNCH_REGISTRIES
    else process.env.POD_LAUNCH_REGISTRIES = before
  })
  // "Configure a Pod to Use a ConfigMap": two pods named dapi-test-pod, run one after the other as the page does.
  const env = await cli(root, 'run', example('configmap-envfrom.yaml'))
  t.equal(env.code, 0, env.stderr)
  t.match(env.stdout, /^\[test-container\] SPECIAL_LEVEL=very$/m)
  t.match(env.stdout, /^\[test-container\] SPECIAL_TYPE=charm$/m)
  const vol = await cli(root, 'run', example('configmap-volume.yaml'))
  t.equal(vol.code, 0, vol.stderr)
  t.match(vol.stdout, /^\[test-container\] SPECIAL_LEVEL\n\[test-container\] SPECIAL_TYPE$/m)

  // The Secret page's dotfile: `ls -l` shows no file ("total 0"); restartPolicy Always starts ls again.
  const dotfile = example('secret-dotfile.yaml')
  const secret = await cli(root, 'run', '-d', dotfile)
  t.equal(secret.code, 0, secret.stderr)
  await until('ls -l in secret-dotfiles-pod', async () => (await cli(root, 'logs', 'secret-dotfiles-pod')).stdout === 'total 0\n')
  const dotDown = await cli(root, 'down', '--grace-period', '0', dotfile)
  t.same([dotDown.code, dotDown.stdout], [0, 'secret-dotfiles-pod\n'], dotDown.stderr)

  const game = example('configmap-game-demo.yaml')
  const run = await cli(root, 'run', '-d', game)
  t.equal(run.code, 0, run.stderr)
  const seen = await cli(
    root,
    'exec',
    'configmap-demo-pod',
    '--',
    'sh',
    '-c',
    'echo $PLAYER_INITIAL_LIVES $UI_PROPERTIES_FILE_NAME; ls /config; cat /config/game.properties',
  )
  t.equal(
    seen.stdout,
    '3 user-interface.properties\ngame.properties\nuser-interface.properties\nenemy.types=aliens,monsters\nplayer.maximum-lives=5\n',
    seen.stderr,
  )
  const down = await cli(root, 'down', '--grace-period', '0', game)
  t.equal(down.code, 0, down.stderr)
  t.equal(down.stdout, 'configmap-demo-pod\n')

  // "Distribute Credentials Securely Using Secrets": nginx with a Secret's key as env, read with exec as
  // the page reads it with `kubectl exec env-single-secret -- /bin/sh -c 'echo $SECRET_USERNAME'`.
  const single = example('secret-env-single.yaml')
  const web = await cli(root, 'run', '-d', single)
  t.equal(web.code, 0, web.stderr)
  const username = await cli(root, 'exec', 'env-single-secret', '--', '/bin/sh', '-c', 'echo $SECRET_USERNAME')
  t.same([username.code, username.stdout], [0, 'backend-admin\n'], username.stderr)
  // Running is not listening yet: nginx binds port 80 a moment after it starts.
  const served = await cli(
    root,
    'exec',
    'env-single-secret',
    '--',
    'sh',
    '-c',
    'for i in $(seq 100); do wget -q -O - http://127.0.0.1/ && exit; sleep 0.1; done; exit 1',
  )
  t.match(served.stdout, '<title>Welcome to nginx!</title>', `nginx serves its page: ${served.stderr}`)
  const shown = await cli(root, 'inspect', 'env-single-secret')
  t.equal(shown.code, 0, shown.stderr)
  t.notMatch(shown.stdout, 'backend-admin', 'inspect shows a stand-in, not the value')
  const gone = await cli(root, 'down', single)
  t.equal(gone.code, 0, gone.stderr)
  t.equal(gone.stdout, 'env-single-secret\n')
})
