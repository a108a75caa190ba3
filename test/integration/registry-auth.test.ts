// Registries that want TLS or credentials, as real set-ups of Debian's
// docker-registry: TLS with a CA made here (trusted through certs.d),
// htpasswd Basic auth, and token auth (the fixture issuer signs the JWTs);
// image login / logout write and remove the credentials (mode 0600); a pod
// of a private image is pulled on run with the stored credentials.
import t from 'tap'
import { execFile, execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { listImages } from '../../src/index.js'
import { BIN, type Out } from '../helpers/cli.js'
import { PASSWORD, startRegistry, USER, type Registry } from '../helpers/registry.js'
import { requires } from '../helpers/requires.js'

const skip = requires('root', 'built')
const script = fileURLToPath(new URL('../../scripts/make-test-images.sh', import.meta.url))

let images: string
let work: string
const regs: Registry[] = []
t.before(() => {
  if (skip) return
  images = mkdtempSync(join(tmpdir(), 'pl-reg-images-'))
  execFileSync('bash', [script, images], { stdio: 'ignore' })
  work = mkdtempSync(join(tmpdir(), 'pl-reg-auth-'))
})
t.teardown(async () => {
  for (const r of regs) await r.stop()
  for (const d of [images, work]) if (d) rmSync(d, { recursive: true, force: true })
})

async function registry(o: Parameters<typeof startRegistry>[0], repo: string): Promise<Registry> {
  const r = await startRegistry(o)
  regs.push(r)
  r.push(`oci:${images}/busybox-oci:latest`, repo)
  return r
}

/** pod-launch with its own HOME, auth file and registries.json; `stdin` fed to it. */
function pl(root: string, env: Record<string, string>, args: string[], stdin?: string): Promise<Out> {
  return new Promise(resolve => {
    const child = execFile(process.execPath, [BIN, '--root', root, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
    child.stdin!.end(stdin ?? '')
  })
}

function setup(t: { teardown: (fn: () => void) => void }, name: string) {
  const dir = join(work, name)
  mkdirSync(join(dir, 'home'), { recursive: true })
  const root = join(dir, 'root')
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  return { dir, root, env: { HOME: join(dir, 'home'), REGISTRY_AUTH_FILE: join(dir, 'auth.json'), POD_LAUNCH_REGISTRIES: join(dir, 'registries.json') } }
}

t.test('TLS: refused while the CA is unknown, pulled once certs.d/HOST/ca.crt holds it', { skip }, async t => {
  const r = await registry({ tls: true }, 'tls/busybox:1')
  const { dir, root, env } = setup(t, 'tls')
  const certs = join(dir, 'certs.d')
  writeFileSync(env.POD_LAUNCH_REGISTRIES, JSON.stringify({ certsDirs: [certs] }))
  const bad = await pl(root, env, ['image', 'pull', `${r.host}/tls/busybox:1`])
  t.equal(bad.code, 1)
  t.match(
    bad.stderr,
    new RegExp(
      `^pod-launch: registry\\.ping: ${r.host}/tls/busybox:1: ${r.host}: .*certificate.*\\nhint: put the registry CA in /etc/docker/certs\\.d/HOST/ca\\.crt`,
    ),
  )
  mkdirSync(join(certs, r.host), { recursive: true })
  copyFileSync(r.caFile!, join(certs, r.host, 'ca.crt'))
  const ok = await pl(root, env, ['image', 'pull', '-q', `${r.host}/tls/busybox:1`])
  t.equal(ok.code, 0, ok.stderr)
  t.equal(listImages(root).length, 1)
})

t.test("TLS: the system's trust store counts (a CA added as update-ca-certificates adds it)", { skip }, async t => {
  const r = await registry({ tls: true }, 'systls/busybox:1')
  const { dir, root, env } = setup(t, 'systls')
  writeFileSync(env.POD_LAUNCH_REGISTRIES, JSON.stringify({ certsDirs: [] }))
  // The system bundle plus the test CA, mounted over it for this pull alone (a private mount namespace).
  const bundle = join(dir, 'ca-certificates.crt')
  writeFileSync(bundle, readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8') + readFileSync(r.caFile!, 'utf8'))
  const args = ['image', 'pull', '-q', `${r.host}/systls/busybox:1`]
  const unknown = await pl(root, env, args)
  t.equal(unknown.code, 1, 'the CA is not trusted before')
  const ok = await new Promise<Out>(resolve =>
    execFile(
      'unshare',
      ['-m', 'sh', '-c', `mount --bind ${bundle} /etc/ssl/certs/ca-certificates.crt && exec ${process.execPath} ${BIN} --root ${root} ${args.join(' ')}`],
      { env: { ...process.env, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  )
  t.equal(ok.code, 0, ok.stderr)
  t.equal(listImages(root).length, 1)
})

t.test("containerd's hosts.toml: a TLS mirror (its CA named there, or skip_verify) serves a registry name that resolves nowhere", { skip }, async t => {
  const r = await registry({ tls: true }, 'mirrored/busybox:1')
  const { dir, root, env } = setup(t, 'hoststoml')
  const certs = join(dir, 'certs.d')
  mkdirSync(join(certs, 'registry.invalid'), { recursive: true })
  writeFileSync(env.POD_LAUNCH_REGISTRIES, JSON.stringify({ certsDirs: [certs] }))
  copyFileSync(r.caFile!, join(certs, 'registry.invalid', 'mirror-ca.crt.pem'))
  const hosts = (extra: string) =>
    writeFileSync(
      join(certs, 'registry.invalid', 'hosts.toml'),
      `server = "https://registry.invalid"\n\n[host."https://${r.host}"]\n  capabilities = ["pull", "resolve"]\n${extra}`,
    )
  const ref = 'registry.invalid/mirrored/busybox:1'
  hosts('')
  const untrusted = await pl(root, env, ['image', 'pull', ref])
  t.equal(untrusted.code, 1)
  t.match(untrusted.stderr, new RegExp(`^pod-launch: registry\\.ping: ${ref}: ${r.host}: .*certificate`), 'the mirror was asked first')
  hosts('  ca = "mirror-ca.crt.pem"\n')
  const viaCa = await pl(root, env, ['image', 'pull', '-q', ref])
  t.equal(viaCa.code, 0, viaCa.stderr)
  t.ok(listImages(root)[0].names.includes(`${ref}`), 'stored under the name asked for')
  rmSync(root, { recursive: true, force: true })
  hosts('  skip_verify = true\n')
  const skipped = await pl(root, env, ['image', 'pull', '-q', ref])
  t.equal(skipped.code, 0, skipped.stderr)
  writeFileSync(join(certs, 'registry.invalid', 'hosts.toml'), '[host."https://x"\n')
  const bad = await pl(root, env, ['image', 'pull', ref])
  t.equal(bad.code, 2)
  t.match(bad.stderr, new RegExp(`^pod-launch: registry\\.config: ${certs}/registry\\.invalid/hosts\\.toml: \\(file\\): `))
})

t.test(
  'htpasswd Basic auth: anonymous is told to log in, wrong credentials are refused, login stores them 0600 and the pull works; logout removes them',
  { skip },
  async t => {
    const r = await registry({ auth: 'htpasswd' }, 'private/busybox:1')
    const { root, env } = setup(t, 'basic')
    const ref = `${r.host}/private/busybox:1`
    const anon = await pl(root, env, ['image', 'pull', ref])
    t.equal(anon.code, 1)
    t.equal(
      anon.stderr,
      `pod-launch: registry.auth: ${ref}: the registry wants a user name and password\nhint: log in first: pod-launch image login ${r.host}\n`,
    )
    const wrong = await pl(root, env, ['image', 'login', r.host, '-u', USER, '--password-stdin'], 'not-the-password\n')
    t.equal(wrong.code, 1)
    t.match(wrong.stderr, /^pod-launch: registry\.auth: 127\.0\.0\.1:\d+: .*401/)
    t.throws(() => statSync(env.REGISTRY_AUTH_FILE), 'nothing stored for refused credentials')
    const login = await pl(root, env, ['image', 'login', r.host, '-u', USER, '--password-stdin'], PASSWORD + '\n')
    t.equal(login.code, 0, login.stderr)
    t.notMatch(login.stdout + login.stderr, new RegExp(PASSWORD), 'the password is never printed')
    t.equal(statSync(env.REGISTRY_AUTH_FILE).mode & 0o777, 0o600)
    const pulled = await pl(root, env, ['image', 'pull', '-q', ref])
    t.equal(pulled.code, 0, pulled.stderr)
    t.notMatch(pulled.stdout + pulled.stderr, new RegExp(PASSWORD))
    // Wrong stored credentials: a 401 naming the image, and the way out.
    writeFileSync(env.REGISTRY_AUTH_FILE, JSON.stringify({ auths: { [r.host]: { auth: Buffer.from(`${USER}:wrong`).toString('base64') } } }))
    const stale = await pl(root, env, ['image', 'pull', ref])
    t.equal(stale.code, 1)
    t.match(stale.stderr, new RegExp(`^pod-launch: registry\\.auth: ${ref}: access denied \\(401\\)\\nhint: the stored credentials for ${r.host} were refused`))
    const out = await pl(root, env, ['image', 'logout', r.host])
    t.equal(out.code, 0)
    t.same(JSON.parse(readFileSync(env.REGISTRY_AUTH_FILE, 'utf8')).auths, {})
  },
)

t.test('token auth: anonymous Bearer for a public repository, credentials (from ~/.docker/config.json) for a private one', { skip }, async t => {
  const r = await registry({ auth: 'token' }, 'public/busybox:1')
  r.push(`oci:${images}/busybox-oci:latest`, 'team/busybox:1')
  const { root, env } = setup(t, 'token')
  const pub = await pl(root, env, ['image', 'pull', '-q', `${r.host}/public/busybox:1`])
  t.equal(pub.code, 0, pub.stderr)
  const denied = await pl(root, env, ['image', 'pull', `${r.host}/team/busybox:1`])
  t.equal(denied.code, 1)
  t.match(denied.stderr, new RegExp(`^pod-launch: registry\\.auth: ${r.host}/team/busybox:1: access denied \\(401\\) to anonymous users\\nhint: log in first`))
  mkdirSync(join(env.HOME, '.docker'), { recursive: true })
  writeFileSync(
    join(env.HOME, '.docker', 'config.json'),
    JSON.stringify({ auths: { [r.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } }),
  )
  // Pull-on-run takes the same credentials: a pod of the private image runs, its pull shown on stderr.
  const pod = join(root, '..', 'pod.json')
  const c = { name: 'c', image: `${r.host}/team/busybox:1`, command: ['cat', '/hello'] }
  const spec = { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [c] }
  writeFileSync(pod, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `tokenrun-${process.pid}` }, spec }))
  const run = await pl(root, env, ['run', '--network', 'none', pod])
  t.equal(run.code, 0, run.stderr)
  // (its layers came with the public image: the private manifest is what needed the credentials)
  t.match(run.stderr, new RegExp(`^pulling ${r.host}/team/busybox:1 \\(sha256:[0-9a-f]{64}\\)\\n`, 'm'))
  t.match(run.stderr, new RegExp(`^Status: downloaded .* for ${r.host}/team/busybox:1 `, 'm'))
  t.match(run.stdout + run.stderr, /\[c\] hello from layer 2/)
  const priv = await pl(root, env, ['image', 'pull', '-q', `${r.host}/team/busybox:1`])
  t.equal(priv.code, 0, priv.stderr)
  writeFileSync(join(env.HOME, '.docker', 'config.json'), JSON.stringify({ auths: { [r.host]: { auth: Buffer.from(`${USER}:nope`).toString('base64') } } }))
  const wrong = await pl(root, env, ['image', 'pull', `${r.host}/team/busybox:1`])
  t.equal(wrong.code, 1)
  t.match(
    wrong.stderr,
    new RegExp(`^pod-launch: registry\\.auth: ${r.host}/team/busybox:1: the token service 127\\.0\\.0\\.1:\\d+ refused the credentials \\(401\\)`),
  )
  t.equal(listImages(root).length, 1)
})
