// crictl, built from cri-tools, against `pod-launch cri`: the runtime info
// and the ImageService on a real registry (pull, images, inspecti, rmi,
// imagefsinfo), as a user of crictl types them.
import t from 'tap'
import { critestRegistry, requiresGoLane, startCri, type CriServer } from '../helpers/cri.js'

const skip = requiresGoLane()

t.test('crictl drives the ImageService', { skip }, async t => {
  let cri: CriServer | undefined
  t.teardown(async () => {
    await cri?.destroy()
  })
  const reg = critestRegistry()
  cri = await startCri()
  const image = `${reg}/e2e-test-images/busybox:1.29-2`
  const c = cri

  t.test('version names the runtime and the API', async t => {
    const out = await c.crictl('version')
    t.equal(out.code, 0, out.stderr)
    t.match(out.stdout, /RuntimeName:\s+pod-launch/)
    t.match(out.stdout, /RuntimeApiVersion:\s+v1/)
    t.match(out.stdout, /^Version:\s+0\.1\.0$/m)
  })

  t.test('info reports RuntimeReady, and NetworkReady false with --network none, saying why', async t => {
    const out = await c.crictl('info')
    t.equal(out.code, 0, out.stderr)
    const info = JSON.parse(out.stdout) as { status: { conditions: { type: string; status: boolean; message?: string }[] } }
    const cond = Object.fromEntries(info.status.conditions.map(x => [x.type, x]))
    t.equal(cond.RuntimeReady.status, true)
    t.equal(cond.NetworkReady.status ?? false, false)
    t.match(cond.NetworkReady.message, /--network none/)
  })

  t.test('pull stores the image and answers its id', async t => {
    const out = await c.crictl('pull', image)
    t.equal(out.code, 0, out.stderr)
    t.match(out.stdout, /^Image is up to date for sha256:[0-9a-f]{64}$/m)
    const list = await c.crictl('images')
    t.match(list.stdout, new RegExp(`${reg}/e2e-test-images/busybox\\s+1\\.29-2\\s+[0-9a-f]{13}`))
  })

  t.test('inspecti shows tags, digests and the image user', async t => {
    const user = `${reg}/k8s-staging-cri-tools/test-image-user-username:latest`
    t.equal((await c.crictl('pull', user)).code, 0)
    const out = await c.crictl('inspecti', user)
    t.equal(out.code, 0, out.stderr)
    const s = (JSON.parse(out.stdout) as { status: { repoTags: string[]; repoDigests: string[]; username: string; size: string } }).status
    t.same(s.repoTags, [user])
    t.match(s.repoDigests[0], new RegExp(`^${reg}/k8s-staging-cri-tools/test-image-user-username@sha256:`))
    t.equal(s.username, 'www-data')
    t.ok(Number(s.size) > 100_000, 'the size of its layers')
    const uid = await c.crictl('inspecti', '-o', 'json', `${reg}/k8s-staging-cri-tools/test-image-user-uid:latest`)
    t.not(uid.code, 0, 'an image not pulled is not there')
    t.equal((await c.crictl('pull', `${reg}/k8s-staging-cri-tools/test-image-user-uid:latest`)).code, 0)
    const byUid = JSON.parse((await c.crictl('inspecti', `${reg}/k8s-staging-cri-tools/test-image-user-uid:latest`)).stdout) as {
      status: { uid: { value: string } }
    }
    t.equal(byUid.status.uid.value, '1002')
  })

  t.test('imagefsinfo counts the store', async t => {
    const out = await c.crictl('imagefsinfo')
    t.equal(out.code, 0, out.stderr)
    const fs = (JSON.parse(out.stdout) as { status: { imageFilesystems: { fsId: { mountpoint: string }; usedBytes: { value: string } }[] } }).status
    t.equal(fs.imageFilesystems[0].fsId.mountpoint, `${c.root}/images`)
    t.ok(Number(fs.imageFilesystems[0].usedBytes.value) > 1_000_000)
  })

  t.test("a pull of a missing image fails with the registry's reason", async t => {
    const out = await c.crictl('pull', `${reg}/no/such-image:1`)
    t.not(out.code, 0)
    t.match(out.stderr, /registry\.manifest: .*no\/such-image:1/)
  })

  t.test('rmi removes by name; the image is gone from images', async t => {
    const out = await c.crictl('rmi', image)
    t.equal(out.code, 0, out.stderr)
    t.match(out.stdout, /Deleted: /)
    const list = await c.crictl('images', '-q')
    t.notMatch(list.stdout, /busybox/)
    const again = await c.crictl('inspecti', image)
    t.not(again.code, 0, 'ImageStatus answers no image')
  })
})
