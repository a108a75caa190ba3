// Pods from imported images: busybox built from Debian's busybox-static by
// scripts/make-test-images.sh, exported as an OCI layout and a docker-archive,
// imported, and run with Kubernetes' command/args rules on an overlay.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { importImage } from '../../src/index.js'
import { requires } from '../helpers/requires.js'
import { run, terminated, uniqueName } from '../helpers/pods.js'

const skip = requires('root', 'built')
const script = fileURLToPath(new URL('../../scripts/make-test-images.sh', import.meta.url))

const pod = (name: string, containers: object[]) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 2, containers },
})

t.test('a pod runs from an imported OCI layout and from a docker-archive', { skip }, async t => {
  const work = mkdtempSync(join(tmpdir(), 'pl-images-'))
  const root = mkdtempSync(join(tmpdir(), 'pl-store-'))
  t.teardown(() => {
    rmSync(work, { recursive: true, force: true })
    rmSync(root, { recursive: true, force: true })
  })
  execFileSync('bash', [script, work], { stdio: 'ignore' })
  const oci = await importImage(join(work, 'busybox-oci.tar'), { root, name: 'busybox:oci' })
  const docker = await importImage(join(work, 'busybox-docker.tar'), { root, name: 'busybox:docker' })
  t.equal(oci.id, docker.id, 'the same image either way')
  const layersBefore = readdirSync(join(root, 'images', 'layers')).sort()

  const { lines, result } = await run(
    t,
    pod(uniqueName('imgpod'), [
      { name: 'cmd-default', image: 'busybox:oci' },
      { name: 'args-only', image: 'docker.io/library/busybox:docker', args: ['echo', 'args replace Cmd'] },
      {
        name: 'layers',
        image: 'busybox',
        command: [
          'sh',
          '-c',
          'cat /hello; test -e /etc/gone && echo gone-is-back || echo whiteout-holds; ls /data/opaque; pwd; echo scribble > /hello; cat /hello',
        ],
      },
    ]),
    { stateRoot: root },
  )
  t.equal(result.phase, 'Succeeded')
  t.equal(terminated(result, 'cmd-default')?.exitCode, 0, "the image's Cmd (sh) ran")
  t.same(lines('args-only'), ['args replace Cmd'])
  t.same(
    lines('layers'),
    ['hello from layer 2', 'whiteout-holds', 'new', '/root', 'scribble'],
    'layer 2 on top, its whiteout and opaque dir honoured, the image WorkingDir used, the root writable',
  )
  t.same(readdirSync(join(root, 'images', 'layers')).sort(), layersBefore, 'the store is unchanged')
  t.equal(readFileSync(join(oci.layers.at(-1)!, 'hello'), 'utf8'), 'hello from layer 2\n', "the container's write went to its own upper layer, not the image")
})
