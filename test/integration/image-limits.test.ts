// Issue 24, item 8: decompression bombs and a full store, as root on the real
// kernel. A gzip layer that expands past --max-layer-size (or layers past
// --max-image-size) is refused naming image, layer and limit, leaving
// nothing; an import that would fill the store's filesystem stops at the
// free-space floor; gc removes what an interrupted import left and never a
// live import. Every test uses its own --root. No image of
// scripts/make-test-images.sh is needed, so the cgroup v2 lane runs this file
// without the rest of image-store.test.ts.
import t, { type Test } from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beginIngest, listImages } from '../../src/rootfs/images/index.js'
import { BIN, cli } from '../helpers/cli.js'
import { imageRoots, ociLayout, sha } from '../helpers/image-layouts.js'
import { makeTar } from '../helpers/tar-writer.js'
import { requires } from '../helpers/requires.js'

const skip = requires('root', 'built')
const { newRoot, leakCheck } = imageRoots('pl-image-limits')

/** A gzip layer of one file of `mib` MiB of zeros (about 1000:1). */
function zeroLayer(mib: number): Buffer {
  const body = Buffer.alloc(mib * 2 ** 20)
  return makeTar([{ path: 'zeros', body }])
}

function storeIsEmpty(t: Test, root: string): void {
  t.same(readdirSync(join(root, 'images/layers')), [], 'no layer stored')
  t.same(readdirSync(join(root, 'images/images')), [], 'no image record')
  t.same(readdirSync(join(root, 'images/tmp')), [], 'nothing left in tmp/')
}

t.test('a gzip layer that expands past --max-layer-size is refused naming image, layer and limit, leaving nothing', { skip }, async t => {
  const root = newRoot()
  const base = t.testdir({})
  const layer = zeroLayer(12)
  const layout = ociLayout(join(base, 'l'), [{ names: ['docker.io/library/bomb:1'], layers: [layer], cmd: ['sh'] }])
  const gz = readdirSync(join(layout, 'blobs/sha256'))
    .map(f => readFileSync(join(layout, 'blobs/sha256', f)))
    .find(b => b[0] === 0x1f)!
  t.ok(gz.length < 200_000, `the gzip blob is small (${gz.length} bytes)`)
  const r = await cli(root, 'image', 'import', '--max-layer-size', '8MiB', layout)
  t.equal(r.code, 1)
  const [line, hint] = r.stderr.trimEnd().split('\n')
  t.match(line, new RegExp(`^pod-launch: image\\.unpack: bomb:1: layer ${sha(gz)}: expands past the layer size limit of 8\\.0 MiB$`))
  t.match(hint, /^hint: nothing was stored; .*--max-layer-size or POD_LAUNCH_MAX_LAYER_SIZE=SIZE/)
  storeIsEmpty(t, root)
  // The same limit from the environment; the default lets it in.
  const viaEnv = await new Promise<number>(resolve =>
    spawn(process.execPath, [BIN, '--root', root, 'image', 'import', layout], {
      env: { ...process.env, POD_LAUNCH_MAX_LAYER_SIZE: '8Mi' },
      stdio: 'ignore',
    }).on('exit', c => resolve(c ?? -1)),
  )
  t.equal(viaEnv, 1)
  storeIsEmpty(t, root)
  t.equal((await cli(root, 'image', 'import', layout)).code, 0, 'under the 8 GiB default it imports')
})

t.test('layers that together expand past --max-image-size are refused, leaving nothing', { skip }, async t => {
  const root = newRoot()
  const base = t.testdir({})
  const a = makeTar([{ path: 'a', body: Buffer.alloc(5 * 2 ** 20) }])
  const b = makeTar([{ path: 'b', body: Buffer.alloc(5 * 2 ** 20, 1) }])
  const layout = ociLayout(join(base, 'l'), [{ names: ['docker.io/library/big:1'], layers: [a, b], cmd: ['sh'] }])
  const r = await cli(root, 'image', 'import', '--max-image-size', '8MiB', layout)
  t.equal(r.code, 1)
  t.match(r.stderr, /^pod-launch: image\.unpack: big:1: layer sha256:[0-9a-f]{64}: expands past the image size limit of 8\.0 MiB\n/)
  storeIsEmpty(t, root)
})

t.test('an import that would fill the store filesystem stops at the free-space floor, leaving nothing', { skip }, async t => {
  const root = newRoot()
  const base = t.testdir({})
  const layout = ociLayout(join(base, 'l'), [{ names: ['docker.io/library/fill:1'], layers: [zeroLayer(40)], cmd: ['sh'] }])
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', root])
  t.teardown(() => execFileSync('umount', ['-l', root]))
  const r = await cli(root, 'image', 'import', layout)
  t.equal(r.code, 1)
  t.match(
    r.stderr,
    /^pod-launch: image\.unpack: fill:1: layer sha256:[0-9a-f]{64}: the store's filesystem is nearly full \([\d.]+ \w+ free, 1\.6 MiB kept free\)\nhint: nothing was stored/,
  )
  storeIsEmpty(t, root)
})

/** The pid of a process that has exited (so no process has it now, until reuse). */
function deadPid(): number {
  const pid = Number(execFileSync('sh', ['-c', 'sh -c "echo \\$\\$"'], { encoding: 'utf8' }).trim())
  return pid
}

t.test('gc removes what an interrupted import left and never a live import', { skip }, async t => {
  const root = newRoot()
  const tmp = join(root, 'images/tmp')
  // A real interrupted import: SIGKILL while it unpacks a big layer.
  const base = t.testdir({})
  const layout = ociLayout(join(base, 'l'), [
    { names: ['docker.io/library/slow:1'], layers: [makeTar([{ path: 'r', body: Buffer.alloc(200 * 2 ** 20, 7) }])], cmd: ['sh'] },
  ])
  const child = spawn(process.execPath, [BIN, '--root', root, 'image', 'import', layout], { stdio: 'ignore' })
  const exited = new Promise(resolve => child.on('exit', resolve))
  const started = Date.now()
  let seen = ''
  while (!seen && Date.now() - started < 60_000) {
    seen = existsSync(tmp) ? (readdirSync(tmp).find(n => n.startsWith(`import-${child.pid}-`) && existsSync(join(tmp, n, 'layer-0', 'r'))) ?? '') : ''
    if (!seen) await new Promise(r => setTimeout(r, 20))
  }
  t.ok(seen, 'the import was caught writing its layer')
  child.kill('SIGKILL')
  await exited
  // Leftovers of other dead owners: a dead pid, and our own pid with another start time (a recycled pid).
  const dead = deadPid()
  mkdirSync(join(tmp, `pull-${dead}-12345-abcdef`, 'blobs'), { recursive: true })
  writeFileSync(join(tmp, `pull-${dead}-12345-abcdef`, 'blobs', 'partial'), 'half a blob')
  mkdirSync(join(tmp, `import-${process.pid}-1-recycled`))
  // A live import in this process: never touched.
  const live = beginIngest(root, 'pull')
  t.teardown(() => live.close())
  writeFileSync(live.path('blobs', 'partial'), 'downloading')
  const dry = await cli(root, 'gc', '--dry-run', '--json')
  t.equal(dry.code, 0, dry.stderr)
  const planned = (JSON.parse(dry.stdout) as { kind: string; target: string }[]).filter(a => a.kind.startsWith('image-'))
  t.same(planned.map(a => a.target).sort(), [join(tmp, seen), join(tmp, `import-${process.pid}-1-recycled`), join(tmp, `pull-${dead}-12345-abcdef`)].sort())
  t.ok(existsSync(join(tmp, seen)), '--dry-run removed nothing')
  const r = await cli(root, 'gc')
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /image-tmp\s+\S+pull-\d+-12345-abcdef\s+removed\s+an interrupted pull \(its process ended\)/)
  t.same(readdirSync(tmp), [live.dir.split('/').pop()], 'only the live ingest is left')
  t.equal(readFileSync(live.path('blobs', 'partial'), 'utf8'), 'downloading')
  t.same(listImages(root), [], 'the killed import stored no image')
})

t.test('leak check: no mount, tmp entry or pod left under any root of this file', { skip }, async t => {
  leakCheck(t)
})
