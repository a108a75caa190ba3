// CRI PullImage with each form of the request's AuthConfig, against Debian's
// docker-registry with token auth (the fixture issuer): username/password,
// identity_token (an OAuth2 refresh token, exchanged at the token service),
// registry_token (a bearer token sent to the registry as it is); credentials
// for another server_address are not sent; a refused pull is UNAUTHENTICATED.
import t from 'tap'
import { status } from '@grpc/grpc-js'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { serveCri } from '../helpers/cri-client.js'
import { PASSWORD, REFRESH_TOKEN, startRegistry, USER, type Registry } from '../helpers/registry.js'
import { requires } from '../helpers/requires.js'

const skip = requires('root', 'built')
const script = fileURLToPath(new URL('../../scripts/make-test-images.sh', import.meta.url))

let images = ''
let reg: Registry | undefined
t.before(async () => {
  if (skip) return
  images = mkdtempSync(join(tmpdir(), 'pl-cri-auth-images-'))
  execFileSync('bash', [script, images], { stdio: 'ignore' })
  reg = await startRegistry({ auth: 'token' })
  reg.push(`oci:${images}/busybox-oci:latest`, 'team/busybox:1')
})
t.teardown(async () => {
  await reg?.stop()
  if (images) rmSync(images, { recursive: true, force: true })
})

/** A token for pulling team/busybox, from the realm the registry names, with the user's password. */
async function registryToken(r: Registry): Promise<string> {
  const ping = await fetch(`http://${r.host}/v2/`)
  const realm = /realm="([^"]+)"/.exec(ping.headers.get('www-authenticate') ?? '')![1]
  const url = `${realm}?service=pod-launch-test&scope=repository:team/busybox:pull`
  const res = await fetch(url, { headers: { Authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` } })
  return ((await res.json()) as { token: string }).token
}

const auth = (over: object) => ({ username: '', password: '', auth: '', serverAddress: '', identityToken: '', registryToken: '', ...over })

t.test('PullImage takes username/password, an identity token and a registry token; refuses what the registry refuses', { skip }, async t => {
  const { img } = await serveCri(t)
  const image = `${reg!.host}/team/busybox:1`
  const pull = (a: object | null) => img('PullImage')({ image: { image }, auth: a })
  const removed = async () => void (await img('RemoveImage')({ image: { image } }))

  await t.rejects(pull(null), { code: status.UNAUTHENTICATED, details: /^registry\.auth: .*access denied \(401\) to anonymous users/ })
  const byPassword = (await pull(auth({ username: USER, password: PASSWORD }))) as { imageRef: string }
  t.match(byPassword.imageRef, /^sha256:[0-9a-f]{64}$/)
  await removed()

  t.match(await pull(auth({ identityToken: REFRESH_TOKEN })), { imageRef: byPassword.imageRef }, 'identity token: a refresh_token grant at the token service')
  await removed()
  await t.rejects(pull(auth({ identityToken: 'not-the-token' })), {
    code: status.UNAUTHENTICATED,
    details: /the token service 127\.0\.0\.1:\d+ refused the credentials \(401\)/,
  })

  t.match(await pull(auth({ registryToken: await registryToken(reg!) })), { imageRef: byPassword.imageRef }, 'registry token: sent as the bearer token')
  await removed()
  await t.rejects(pull(auth({ registryToken: 'not-a-token' })), { code: status.UNAUTHENTICATED, details: /access denied \(401\)/ })

  await t.rejects(
    pull(auth({ username: USER, password: PASSWORD, serverAddress: 'https://other.example:5000' })),
    { code: status.UNAUTHENTICATED, details: /to anonymous users/ },
    'credentials for another server_address are not sent',
  )
  t.ok(await pull(auth({ username: USER, password: PASSWORD, serverAddress: `http://${reg!.host}` })), 'nor refused when it names this registry')
})
