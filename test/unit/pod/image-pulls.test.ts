// Pull-on-run as kubelet retries it: the order of attempts, ErrImagePull and
// ImagePullBackOff, and kubelet's wording (the pulls themselves faked).
import t, { type Test } from 'tap'
import { PodError } from '../../../src/errors.js'
import type { ImagePullEvent } from '../../../src/pod/image-pulls.js'
import * as forPod from '../../../src/rootfs/images/registry/for-pod.js'
import type { PlannedPull } from '../../../src/rootfs/images/registry/index.js'
import { parseManifest } from '../../../src/spec/index.js'

const spec = parseManifest({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p' },
  spec: {
    containers: [
      { name: 'a', image: 'reg.test/app:1' },
      { name: 'b', image: 'reg.test/app:1' },
      { name: 'c', image: 'host', command: ['true'] },
    ],
  },
}).spec

/** ensurePodImages with the pulls faked: `results` in turn (an Error is thrown). */
async function loader(t: Test, results: (Error | 'pulled')[], planned: Partial<PlannedPull> = {}) {
  const calls: number[] = []
  const mod = await t.mockImport<typeof import('../../../src/pod/image-pulls.js')>('../../../src/pod/image-pulls.js', {
    '../../../src/rootfs/images/registry/for-pod.js': {
      ...forPod,
      planPodPulls: (): PlannedPull[] => [
        {
          image: 'reg.test/app:1',
          policy: 'IfNotPresent',
          present: false,
          pull: true,
          users: [
            { image: 'reg.test/app:1', where: 'spec.containers[0].image', container: 'a' },
            { image: 'reg.test/app:1', where: 'spec.containers[1].image', container: 'b' },
          ],
          ...planned,
        },
      ],
      pullPodImage: async () => {
        calls.push(Date.now())
        const r = results.shift()
        if (r instanceof Error) throw r
        return { result: 'pulled', sizeBytes: 1234 }
      },
    },
  })
  return { ...mod, calls }
}

const notFound = () =>
  new PodError('registry.manifest: reg.test/app:1: tag "1": manifest unknown (404 Not Found) (spec.containers[0].image)', {
    step: 'registry.manifest',
    code: 'MANIFEST_UNKNOWN',
    cause: new PodError('registry.manifest: reg.test/app:1: tag "1": manifest unknown (404 Not Found)', { step: 'registry.manifest' }),
  })

t.test('failed pulls are retried after 1x, 2x, 4x the initial delay; ErrImagePull turns into ImagePullBackOff after one resync', async t => {
  const { ensurePodImages } = await loader(t, [notFound(), notFound(), notFound(), 'pulled'])
  const events: ImagePullEvent[] = []
  await ensurePodImages(spec, {
    root: '/nonexistent',
    warn: () => {},
    backoff: { initialMs: 40, maxMs: 1000, resetAfterMs: 2000 },
    emit: e => void events.push(e),
  })
  t.same(
    events.map(e => e.state),
    ['pulling', 'failed', 'pulling', 'failed', 'backoff', 'pulling', 'failed', 'backoff', 'pulling', 'pulled'],
  )
  t.same(
    events.filter(e => e.state === 'failed').map(e => e.retryInMs),
    [40, 80, 160],
  )
  t.same(events[1].containers, ['a', 'b'], 'one pull for both containers of the image')
  t.equal(events[1].error, 'registry.manifest: reg.test/app:1: tag "1": manifest unknown (404 Not Found)', "the pull's own error, without the field")
  t.match(events.at(-1), { state: 'pulled', sizeBytes: 1234 })
})

t.test('without a back-off the first failure throws', async t => {
  const { ensurePodImages } = await loader(t, [notFound()])
  await t.rejects(ensurePodImages(spec, { root: '/nonexistent', warn: () => {}, emit: () => {} }), { code: 'MANIFEST_UNKNOWN' })
})

t.test('bad input (exit 2) is not retried', async t => {
  const bad = new PodError('registry.config: /etc/pod-launch/registries.json: insecure: must be a list of host[:port]', {
    step: 'registry.config',
    exitCode: 2,
  })
  const { ensurePodImages, calls } = await loader(t, [bad])
  await t.rejects(ensurePodImages(spec, { root: '/nonexistent', warn: () => {}, backoff: { initialMs: 10, maxMs: 100, resetAfterMs: 200 }, emit: () => {} }), {
    message: /^registry\.config: /,
  })
  t.equal(calls.length, 1)
})

t.test('an abort ends the wait with image.pull EINTR (exit 130)', async t => {
  const { ensurePodImages } = await loader(t, [notFound(), notFound()])
  const ac = new AbortController()
  const p = ensurePodImages(spec, {
    root: '/nonexistent',
    warn: () => {},
    signal: ac.signal,
    backoff: { initialMs: 60_000, maxMs: 60_000, resetAfterMs: 120_000 },
    emit: e => {
      if (e.state === 'failed') setImmediate(() => ac.abort())
    },
  })
  await t.rejects(p, {
    step: 'image.pull',
    code: 'EINTR',
    exitCode: 130,
    message: /^image\.pull: reg\.test\/app:1: interrupted while waiting to pull; nothing was started$/,
  })
})

t.test("kubelet's words for each state, and the containers' Waiting reasons", async t => {
  const { imagePullView } = await loader(t, [])
  const base = { type: 'image-pull' as const, image: 'nginx:1', containers: ['a'] }
  t.same(imagePullView({ ...base, state: 'pulling' }), {
    waiting: { reason: 'ContainerCreating' },
    events: [{ type: 'Normal', reason: 'Pulling', message: 'Pulling image "nginx:1"' }],
  })
  t.same(imagePullView({ ...base, state: 'present' }).events, [
    { type: 'Normal', reason: 'Pulled', message: 'Container image "nginx:1" already present on machine' },
  ])
  t.same(imagePullView({ ...base, state: 'pulled', elapsedMs: 1234.6, sizeBytes: 42 }).events, [
    { type: 'Normal', reason: 'Pulled', message: 'Successfully pulled image "nginx:1" in 1.235s (1.235s including waiting). Image size: 42 bytes.' },
  ])
  t.same(
    imagePullView({ ...base, state: 'pulled', elapsedMs: 532, sizeBytes: 42 }).events[0].message,
    'Successfully pulled image "nginx:1" in 532ms (532ms including waiting). Image size: 42 bytes.',
  )
  t.same(imagePullView({ ...base, state: 'failed', error: 'boom' }), {
    waiting: { reason: 'ErrImagePull', message: 'boom' },
    events: [
      { type: 'Warning', reason: 'Failed', message: 'Failed to pull image "nginx:1": boom' },
      { type: 'Warning', reason: 'Failed', message: 'Error: ErrImagePull' },
    ],
  })
  t.same(imagePullView({ ...base, state: 'backoff', error: 'boom' }), {
    waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "nginx:1": ErrImagePull: boom' },
    events: [
      { type: 'Normal', reason: 'BackOff', message: 'Back-off pulling image "nginx:1"' },
      { type: 'Warning', reason: 'Failed', message: 'Error: ImagePullBackOff' },
    ],
  })
})
