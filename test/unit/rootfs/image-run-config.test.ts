// The image config's part in a container's argv, env and workingDir (Kubernetes rules).
import t from 'tap'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { imageAdditionalGids, imageArgv, imageEnv, imageWorkingDir } from '../../../src/rootfs/images/index.js'

const nginx = {
  entrypoint: ['/docker-entrypoint.sh'],
  cmd: ['nginx', '-g', 'daemon off;'],
  env: ['PATH=/bin', 'NGINX_VERSION=1.27', 'EMPTY='],
  workingDir: '/srv',
}

t.test('no command, no args: Entrypoint + Cmd', async t => {
  t.same(imageArgv(nginx), ['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;'])
  t.same(imageArgv({ cmd: ['sh'] }), ['sh'])
  t.same(imageArgv({}), [])
})

t.test('command only replaces Entrypoint and drops Cmd', async t => {
  t.same(imageArgv(nginx, ['sleep', '1']), ['sleep', '1'])
})

t.test('args only keep Entrypoint and replace Cmd', async t => {
  t.same(imageArgv(nginx, undefined, ['nginx-debug']), ['/docker-entrypoint.sh', 'nginx-debug'])
  t.same(imageArgv({ cmd: ['sh'] }, undefined, ['-c', 'true']), ['-c', 'true'])
})

t.test('command and args: both from the manifest', async t => {
  t.same(imageArgv(nginx, ['sh', '-c'], ['echo hi']), ['sh', '-c', 'echo hi'])
})

t.test('image Env first, the container’s on top', async t => {
  t.same(
    [
      ...imageEnv(
        nginx,
        new Map([
          ['PATH', '/usr/bin'],
          ['A', '1'],
        ]),
      ),
    ],
    [
      ['PATH', '/usr/bin'],
      ['NGINX_VERSION', '1.27'],
      ['EMPTY', ''],
      ['A', '1'],
    ],
  )
})

t.test('workingDir: the manifest’s, else the image’s, else /', async t => {
  t.equal(imageWorkingDir(nginx, '/data'), '/data')
  t.equal(imageWorkingDir(nginx), '/srv')
  t.equal(imageWorkingDir({}), '/')
})

t.test('the groups the image lists a user in are found by uid, across layers, its own group excluded', async t => {
  const base = mkdtempSync(join(tmpdir(), 'pl-gids-'))
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  const layer = (name: string, files: Record<string, string>) => {
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(join(base, name, dirname(rel)), { recursive: true })
      writeFileSync(join(base, name, rel), text)
    }
    return join(base, name)
  }
  const l1 = layer('l1', { 'etc/passwd': 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n', 'etc/group': 'old:x:9:app\n' })
  const l2 = layer('l2', { 'etc/group': 'root:x:0:\napp:x:1000:app\nwheel:x:10:root,app\naudio:x:29:other\nvideo:x:44:app,x\n' })
  t.same(imageAdditionalGids([l1, l2], 1000), [10, 44], "the upper layer's /etc/group wins")
  t.same(imageAdditionalGids([l1, l2], 0), [10])
  t.same(imageAdditionalGids([l1, l2], 4242), [], 'a uid the image does not know has none')
})
