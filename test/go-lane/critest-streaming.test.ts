// critest's five streaming specs (exec with and without a tty, attach,
// port-forward in the pod's network and in the host's) against
// `pod-launch cri`, over SPDY and then over WebSockets (critest's
// --websocket-exec/-attach/-portforward), on a CNI network in 198.18.0.0/24
// with the critest images from the lane's registry. The whole suite
// (test/go-lane/critest.test.ts) runs them over SPDY only; this file adds the
// WebSocket forms and names the five specs, so none can drop out unseen.
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { guardHost, testNetwork } from '../helpers/cni.js'
import { critestBin, requiresGoLane, startCri } from '../helpers/cri.js'

const skip = requiresGoLane()
const BRIDGE = 'pltcri3'

interface SpecReport {
  LeafNodeType: string
  LeafNodeText: string
  State: string
  Failure?: { Message: string }
}

for (const [transport, flags] of [
  ['SPDY', []],
  ['WebSocket', ['-websocket-exec', '-websocket-attach', '-websocket-portforward']],
] as const) {
  t.test(`critest's streaming specs over ${transport}`, { skip }, async t => {
    guardHost(t, [BRIDGE])
    const net = testNetwork(t, { name: 'pl-cri-critest-stream', bridge: BRIDGE })
    const cri = await startCri({ cniConfDir: net.confDir, cgroupParent: 'pl-cri-critest-stream', mirrors: true })
    t.teardown(() => cri.destroy())
    const report = join(cri.dir, 'critest.json')
    const args = [`-runtime-endpoint=${cri.endpoint}`, `-image-endpoint=${cri.endpoint}`, `-ginkgo.json-report=${report}`, '-ginkgo.no-color']
    const out = await new Promise<string>(resolve =>
      execFile(critestBin(), [...args, '-ginkgo.focus=Streaming', ...flags], { cwd: cri.dir, maxBuffer: 1 << 26 }, (_e, stdout, stderr) =>
        resolve(`${stdout}${stderr}`),
      ),
    )
    const specs = (JSON.parse(readFileSync(report, 'utf8')) as { SpecReports: SpecReport[] }[])
      .flatMap(s => s.SpecReports)
      .filter(s => s.LeafNodeType === 'It' && s.State !== 'skipped')
    t.same(
      specs.map(s => s.LeafNodeText.replace(/ \[Conformance\]$/, '')).sort(),
      [
        'runtime should support attach',
        'runtime should support exec with tty=false and stdin=false',
        'runtime should support exec with tty=true and stdin=true',
        'runtime should support portforward',
        'runtime should support portforward in host network',
      ],
      'the five streaming specs ran',
      specs.length === 0 ? { output: out.slice(-4000) } : {},
    )
    for (const s of specs) t.equal(s.State, 'passed', s.LeafNodeText, s.Failure ? { failure: s.Failure.Message.slice(0, 2000) } : {})
  })
}
