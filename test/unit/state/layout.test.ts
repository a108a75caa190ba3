import t from 'tap'
import {
  DEFAULT_STATE_ROOT,
  attachDir,
  etcDir,
  logFile,
  podDir,
  recordFile,
  rootfsDir,
  specFile,
  terminationLogFile,
  upperDir,
  volumeDir,
  workDir,
} from '../../../src/state/index.js'

t.test('the pod directory layout is one set of pure paths below <root>/<uid>', async t => {
  const dir = podDir(DEFAULT_STATE_ROOT, 'u1')
  t.equal(dir, '/run/pod-launch/u1')
  t.same(
    [recordFile(dir), specFile(dir), etcDir(dir), volumeDir(dir, 'data'), attachDir(dir), logFile(dir, 'app', 2)],
    [
      '/run/pod-launch/u1/pod.json',
      '/run/pod-launch/u1/spec.json',
      '/run/pod-launch/u1/etc',
      '/run/pod-launch/u1/volumes/data',
      '/run/pod-launch/u1/attach',
      '/run/pod-launch/u1/logs/app/2.log',
    ],
  )
  t.same(
    [rootfsDir(dir), upperDir(dir, 'app'), workDir(dir, 'app'), terminationLogFile(dir, 'app')],
    [
      '/run/pod-launch/u1/rootfs',
      '/run/pod-launch/u1/containers/app/upper',
      '/run/pod-launch/u1/containers/app/work',
      '/run/pod-launch/u1/containers/app.termination-log',
    ],
  )
})

t.test('a placeholder directory gives the paths explain prints', async t => {
  t.equal(rootfsDir('<pod dir>'), '<pod dir>/rootfs')
})
