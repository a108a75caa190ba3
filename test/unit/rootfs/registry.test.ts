// The registry client's pure parts: WWW-Authenticate challenges, the
// imagePullPolicy default, platform selection, registries.json and
// endpoints, and the credentials files (read order, 0600 on write).
import t from 'tap'
import { statSync, writeFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseChallenge } from '../../../src/rootfs/images/registry/challenge.js'
import { defaultPullPolicy, shouldPull } from '../../../src/rootfs/images/registry/policy.js'
import { parsePlatform, selectPlatform } from '../../../src/rootfs/images/registry/platform.js'
import { endpointsFor, isLoopback, readRegistriesConfig } from '../../../src/rootfs/images/registry/hosts.js'
import { findCredentials, removeCredentials, saveCredentials } from '../../../src/rootfs/images/registry/credentials.js'

t.test('a Bearer challenge gives realm, service and scope; Basic its realm', async t => {
  t.same(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"'), {
    scheme: 'bearer',
    params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' },
  })
  t.same(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } })
  t.equal(parseChallenge(undefined), undefined)
})

t.test('imagePullPolicy defaults as Kubernetes: Always for :latest or no tag, else IfNotPresent', async t => {
  t.equal(defaultPullPolicy('nginx'), 'Always')
  t.equal(defaultPullPolicy('nginx:latest'), 'Always')
  t.equal(defaultPullPolicy('nginx:1.27'), 'IfNotPresent')
  t.equal(defaultPullPolicy(`nginx@sha256:${'a'.repeat(64)}`), 'IfNotPresent')
  t.same(
    [shouldPull('Always', true), shouldPull('IfNotPresent', true), shouldPull('IfNotPresent', false), shouldPull('Never', false)],
    [true, false, true, false],
  )
})

t.test('an index entry is picked by os, arch and variant; none fitting names what there is', async t => {
  const d = (architecture: string, variant?: string) => ({
    mediaType: 'm',
    digest: `sha256:${architecture}${variant ?? ''}`,
    size: 1,
    platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
  })
  const entries = [d('amd64'), d('arm', 'v6'), d('arm', 'v7'), d('arm64', 'v8')]
  t.equal(selectPlatform(entries, { os: 'linux', architecture: 'amd64' }, 'x').digest, 'sha256:amd64')
  t.equal(selectPlatform(entries, { os: 'linux', architecture: 'arm', variant: 'v7' }, 'x').digest, 'sha256:armv7')
  t.equal(selectPlatform(entries, parsePlatform('linux/arm64'), 'x').digest, 'sha256:arm64v8')
  t.throws(() => selectPlatform(entries, parsePlatform('linux/s390x'), 'img:1'), {
    code: 'IMAGE_NO_PLATFORM',
    message: 'image.platform: img:1: no image for linux/s390x in its index (it has linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8)',
  })
  t.throws(() => parsePlatform('amd64'), { code: 'PLATFORM_INVALID', exitCode: 2 })
})

t.test('registries.json: docker.io mirrors come first, loopback and listed hosts may use HTTP', async t => {
  const dir = t.testdir({
    'r.json': JSON.stringify({ insecure: ['reg.lan:5000'], mirrors: { 'docker.io': ['https://mirror.example'] }, certsDirs: [] }),
    'bad.json': '{"insecure": "x"}',
  })
  const c = readRegistriesConfig(join(dir, 'r.json'))
  t.same(
    endpointsFor('docker.io', c).map(e => [e.base.href, e.mirror, e.allowHttp]),
    [
      ['https://mirror.example/', true, false],
      ['https://registry-1.docker.io/', false, false],
    ],
  )
  t.equal(endpointsFor('reg.lan:5000', c)[0].allowHttp, true)
  t.equal(endpointsFor('quay.io', c)[0].allowHttp, false)
  t.ok(isLoopback('127.0.0.1:5000') && isLoopback('localhost') && !isLoopback('10.0.0.1:5000'))
  t.throws(() => readRegistriesConfig(join(dir, 'bad.json')), {
    code: 'REGISTRY_CONFIG_INVALID',
    message: /registry\.config: .*bad\.json: insecure: must be a list/,
  })
  t.same(readRegistriesConfig(join(dir, 'missing.json')).insecure, [])
})

t.test("containerd's hosts.toml: its hosts in order, then server; ca, client, skip_verify, header, override_path, capabilities", async t => {
  const dir = t.testdir({
    'docker.io': {
      'hosts.toml': [
        'server = "https://registry-1.docker.io"',
        '[host."https://mirror.lan:5000/cache"]',
        '  capabilities = ["pull", "resolve"]',
        '  ca = "mirror-ca.pem"',
        '  client = [["client.cert", "client.key"]]',
        '  [host."https://mirror.lan:5000/cache".header]',
        '    x-team = ["a", "b"]',
        '[host."http://digests.lan/v2/hub"]',
        '  capabilities = ["pull"]',
        '  override_path = true',
        '  skip_verify = true',
      ].join('\n'),
      'mirror-ca.pem': 'CA PEM',
      'client.cert': 'CERT PEM',
      'client.key': 'KEY PEM',
    },
    _default: { 'hosts.toml': 'server = "https://fallback.lan"\n' },
    'bad.lan': { 'hosts.toml': '[host."ftp://x"]\n' },
    'worse.lan': { 'hosts.toml': 'server = \n' },
  })
  const c = { insecure: [], mirrors: {}, certsDirs: [dir] }
  const eps = endpointsFor('docker.io', c)
  t.same(
    eps.map(e => [e.base.href, e.apiRoot, e.mirror, e.resolve, e.allowHttp, e.skipVerify ?? false]),
    [
      ['https://mirror.lan:5000/', '/cache/v2', true, true, false, false],
      ['http://digests.lan/', '/v2/hub', true, false, true, true],
      ['https://registry-1.docker.io/', '/v2', false, true, false, false],
    ],
  )
  t.same(eps[0].ca, ['CA PEM'])
  t.same(eps[0].cert, { cert: 'CERT PEM', key: 'KEY PEM' })
  t.same(eps[0].headers, { 'x-team': 'a, b' })
  t.same(
    endpointsFor('quay.io', c).map(e => e.base.href),
    ['https://fallback.lan/'],
    '_default serves a registry without its own',
  )
  t.throws(() => endpointsFor('bad.lan', c), {
    code: 'REGISTRY_CONFIG_INVALID',
    message: /hosts\.toml: host\."ftp:\/\/x": "ftp:\/\/x" is not an http\(s\) URL$/,
  })
  t.throws(() => endpointsFor('worse.lan', c), { code: 'REGISTRY_CONFIG_INVALID', exitCode: 2, message: /worse\.lan\/hosts\.toml: \(file\): / })
})

t.test('credentials: REGISTRY_AUTH_FILE first, Docker Hub under index.docker.io/v1/, written 0600, removed by logout', async t => {
  const dir = t.testdir({
    home: {
      '.docker': {
        'config.json': JSON.stringify({
          auths: {
            'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw').toString('base64') },
            'reg.lan': { auth: Buffer.from('docker:one').toString('base64') },
          },
        }),
      },
    },
  })
  const env = { HOME: join(dir, 'home'), REGISTRY_AUTH_FILE: join(dir, 'auth.json') }
  t.same(findCredentials('docker.io', 'library/nginx', env), { username: 'hub', password: 'pw' })
  t.same(findCredentials('reg.lan', 'x', env), { username: 'docker', password: 'one' })
  t.equal(findCredentials('quay.io', 'x', env), undefined)
  const file = saveCredentials('reg.lan', { username: 'me', password: 'p:w' }, env)
  t.equal(file, env.REGISTRY_AUTH_FILE)
  t.equal(statSync(file).mode & 0o777, 0o600)
  t.same(findCredentials('reg.lan', 'x', env), { username: 'me', password: 'p:w' }, 'the auth file wins over ~/.docker/config.json')
  writeFileSync(join(dir, 'scoped.json'), JSON.stringify({ auths: { 'reg.lan/team': { auth: Buffer.from('team:t').toString('base64') } } }))
  t.same(
    findCredentials('reg.lan', 'team/app', { ...env, REGISTRY_AUTH_FILE: join(dir, 'scoped.json') }),
    { username: 'team', password: 't' },
    'a repository-scoped key matches first',
  )
  t.same(removeCredentials('reg.lan', env).sort(), [env.REGISTRY_AUTH_FILE, join(dir, 'home', '.docker', 'config.json')].sort())
  t.equal(findCredentials('reg.lan', 'x', env), undefined)
  t.notMatch(readFileSync(file, 'utf8'), /bWU6cDp3/)
})
