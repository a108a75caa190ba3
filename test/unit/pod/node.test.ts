import t from 'tap'
import { cpus, totalmem } from 'node:os'
import { nodeAllocatable } from '../../../src/pod/node.js'

t.test("allocatable: the node's online cpus (as os.cpus() counts them) and MemTotal", async t => {
  const a = nodeAllocatable()
  t.equal(a.cpuMilli, cpus().length * 1000)
  t.equal(a.memoryBytes, totalmem())
  t.ok(a.ephemeralStorageBytes > 0, 'the root filesystem has a size')
})
