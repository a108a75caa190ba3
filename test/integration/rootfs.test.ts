// Container filesystems: the root, /proc, masked paths, volumes, read-only
// mounts, directory images, and nothing left mounted on the host.
import t from 'tap'
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startPod } from '../../src/index.js'
import { requires } from '../helpers/requires.js'
import { manifest, run, terminated, uniqueName } from '../helpers/pods.js'

const skip = requires('root', 'built')
const sh = (name: string, script: string, extra: object = {}) => ({ name, command: ['sh', '-c', script], ...extra })

t.test('a container has its own root: pivot_root done, the host root invisible, /proc of its pid namespace only', { skip }, async t => {
  const secret = join(t.testdir(), 'host-only-file')
  writeFileSync(secret, 'x')
  const { lines } = await run(
    t,
    manifest(uniqueName('root'), [
      sh(
        'c',
        `readlink /proc/1/root; test -e ${secret} && echo sees-host-file || echo no-host-file; ls /proc | grep -cE '^[0-9]+$'; grep -c ' / / ' /proc/self/mountinfo`,
      ),
    ]),
  )
  t.same(lines('c'), ['/', 'no-host-file', lines('c')[2], '1'])
  t.ok(Number(lines('c')[2]) < 10, `only a few pids in its /proc (${lines('c')[2]})`)
})

t.test('masked paths are masked and read-only paths are read-only, as runc does', { skip }, async t => {
  const { lines } = await run(
    t,
    manifest(uniqueName('mask'), [
      sh(
        'c',
        'stat -c %t:%T /proc/keys; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo wrote || echo refused; mount | grep -c " /sys .*ro,"',
      ),
    ]),
  )
  t.same(lines('c'), ['1:3', '0', 'refused', '1'], '/proc/keys is /dev/null, /sys/firmware empty, /proc/sys read-only, /sys read-only')
})

t.test('two containers share an emptyDir; a readOnly mount refuses writes', { skip }, async t => {
  const { lines, result } = await run(
    t,
    manifest(
      uniqueName('emptydir'),
      [
        sh('writer', 'echo from-writer > /data/msg; echo written', { volumeMounts: [{ name: 'data', mountPath: '/data' }] }),
        sh('reader', 'until [ -s /in/msg ]; do sleep 0.05; done; cat /in/msg; echo x > /in/other 2>/dev/null && echo wrote || echo read-only', {
          volumeMounts: [{ name: 'data', mountPath: '/in', readOnly: true }],
        }),
      ],
      { volumes: [{ name: 'data', emptyDir: {} }] },
    ),
  )
  t.equal(result.phase, 'Succeeded')
  t.same(lines('reader'), ['from-writer', 'read-only'])
})

t.test('emptyDir medium Memory is a tmpfs of its sizeLimit, unmounted with the pod', { skip }, async t => {
  const { lines, pod } = await run(
    t,
    manifest(uniqueName('memdir'), [sh('c', "stat -f -c '%T %b %S' /scratch", { volumeMounts: [{ name: 's', mountPath: '/scratch' }] })], {
      volumes: [{ name: 's', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } }],
    }),
  )
  const [type, blocks, bsize] = lines('c')[0].split(' ')
  t.equal(type, 'tmpfs')
  t.equal(Number(blocks) * Number(bsize), 8 * 1024 * 1024)
  t.notMatch(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(pod.spec.uid), 'no mount of the pod is left on the host')
})

t.test('readOnlyRootFilesystem refuses writes to / while an emptyDir at /tmp works', { skip }, async t => {
  const { lines } = await run(
    t,
    manifest(
      uniqueName('rofs'),
      [
        sh('c', 'touch /new 2>/dev/null && echo wrote-root || echo root-read-only; echo ok > /tmp/f && cat /tmp/f', {
          securityContext: { readOnlyRootFilesystem: true },
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        }),
      ],
      { volumes: [{ name: 'tmp', emptyDir: {} }] },
    ),
  )
  t.same(lines('c'), ['root-read-only', 'ok'])
})

t.test('hostPath types are enforced before anything runs', { skip }, async t => {
  const dir = t.testdir({ 'a-file': 'x' })
  const cases: [object, RegExp][] = [
    [{ path: join(dir, 'missing'), type: 'Directory' }, /volume\.hostpath: .*missing: does not exist/],
    [{ path: join(dir, 'a-file'), type: 'Directory' }, /is a File, not a Directory/],
    [{ path: dir, type: 'File' }, /is a Directory, not a File/],
    [{ path: join(dir, 'missing-too') }, /does not exist/],
  ]
  for (const [hostPath, re] of cases) {
    const m = manifest(uniqueName('hostpath'), [sh('c', 'true', { volumeMounts: [{ name: 'h', mountPath: '/h' }] })], { volumes: [{ name: 'h', hostPath }] })
    const e = (await startPod(m as never, { onOutput: () => {}, onManifestWarning: () => {} }).catch(e => e)) as Error
    t.match(e.message, re)
  }
  const made = join(dir, 'made', 'here')
  const { result } = await run(
    t,
    manifest(uniqueName('hostpath'), [sh('c', 'echo hi > /h/f', { volumeMounts: [{ name: 'h', mountPath: '/h' }] })], {
      volumes: [{ name: 'h', hostPath: { path: made, type: 'DirectoryOrCreate' } }],
    }),
  )
  t.equal(result.phase, 'Succeeded')
  t.equal(readFileSync(join(made, 'f'), 'utf8'), 'hi\n', 'DirectoryOrCreate made it, and the container wrote through')
})

t.test('a subPath mounts one directory of a volume', { skip }, async t => {
  const dir = t.testdir({ sub: { 'in-sub': 'yes' }, 'at-top': 'no' })
  const { lines } = await run(
    t,
    manifest(uniqueName('subpath'), [sh('c', 'ls /v', { volumeMounts: [{ name: 'h', mountPath: '/v', subPath: 'sub' }] })], {
      volumes: [{ name: 'h', hostPath: { path: dir } }],
    }),
  )
  t.same(lines('c'), ['in-sub'])
})

t.test('a directory image runs on an overlay: writes land in the pod, never in the image', { skip }, async t => {
  // A tiny root filesystem: Debian's static busybox and its applet links.
  const image = t.testdir()
  mkdirSync(join(image, 'bin'))
  copyFileSync('/usr/bin/busybox', join(image, 'bin', 'busybox'))
  for (const applet of ['sh', 'ls', 'cat', 'echo', 'touch']) symlinkSync('busybox', join(image, 'bin', applet))
  const m = manifest(uniqueName('dirimage'), [sh('c', 'echo changed > /bin/new-file; ls /; cat /bin/new-file', { image: `dir:${image}` })])
  m.spec.containers[0].volumeMounts = [] // the fixtures volume needs no host programs here
  const { lines, result } = await run(t, m)
  t.equal(result.phase, 'Succeeded')
  t.match(lines('c'), ['bin', 'dev', 'etc', 'proc', 'sys', 'tmp'])
  t.equal(lines('c').at(-1), 'changed')
  t.notOk(existsSync(join(image, 'bin', 'new-file')), 'the image directory is untouched')
})

t.test('an image that cannot be pulled fails the pod before anything runs, with the way out', { skip }, async t => {
  // .invalid never resolves (RFC 2606): the pull fails at once, wherever the test runs.
  const e = (await startPod(manifest(uniqueName('noimage'), [sh('c', 'true', { image: 'registry.invalid/nginx:1.27' })]) as never, {
    onOutput: () => {},
    onManifestWarning: () => {},
  }).catch(e => e)) as { message: string; hint: string }
  t.match(e.message, /^registry\.ping: registry\.invalid\/nginx:1\.27: registry\.invalid: .*\((ENOTFOUND|EAI_AGAIN)\) \(spec\.containers\[0\]\.image\)$/)
  t.match(e.hint, /does not resolve/)
  const r = await run(t, manifest(uniqueName('fallback'), [sh('c', 'echo on host view', { image: 'registry.invalid/nginx:1.27' })]), { imageFallback: 'host' })
  t.equal(terminated(r.result, 'c')?.exitCode, 0)
})
