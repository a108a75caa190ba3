// The image config's part in a container's argv, env and workingDir (Kubernetes rules).
import t from 'tap'
import { imageArgv, imageEnv, imageWorkingDir } from '../../../src/rootfs/images/index.js'

const nginx = { entrypoint: ['/docker-entrypoint.sh'], cmd: ['nginx', '-g', 'daemon off;'], env: ['PATH=/bin', 'NGINX_VERSION=1.27', 'EMPTY='], workingDir: '/srv' }

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
  t.same([...imageEnv(nginx, new Map([['PATH', '/usr/bin'], ['A', '1']]))], [['PATH', '/usr/bin'], ['NGINX_VERSION', '1.27'], ['EMPTY', ''], ['A', '1']])
})

t.test('workingDir: the manifest’s, else the image’s, else /', async t => {
  t.equal(imageWorkingDir(nginx, '/data'), '/data')
  t.equal(imageWorkingDir(nginx), '/srv')
  t.equal(imageWorkingDir({}), '/')
})
