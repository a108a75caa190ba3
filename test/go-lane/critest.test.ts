// cri-tools' critest, the CRI validation suite containerd and CRI-O run,
// against `pod-launch cri` on a CNI network in 198.18.0.0/24, with the images
// under their own names (registry.k8s.io/..., gcr.io/...) pulled from the
// lane's registry as a mirror. (critest's --registry-prefix would drop every
// tag when the registry has a port, and its image specs compare tags with the
// unprefixed names.) Only the specs test/go-lane/critest-skips.txt
// names (each with its reason) are not run; every other spec must pass. Each
// spec that ran is its own assertion, named (passed or failed), so critest's
// results are counted in the lane's totals; the specs critest skips itself
// (AppArmor, SELinux, NRI where the host has none) are named in comments.
// Alone: bash scripts/go-lane.sh test/go-lane/critest.test.ts
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { guardHost, testNetwork } from '../helpers/cni.js'
import { critestBin, requiresGoLane, startCri, type CriServer } from '../helpers/cri.js'

const skip = requiresGoLane()
const BRIDGE = 'pltcri2'

interface SpecReport {
  LeafNodeType: string
  LeafNodeText: string
  ContainerHierarchyTexts: string[] | null
  State: string
  Failure?: { Message: string; Location: { FileName: string; LineNumber: number } }
}

/** The skip list: one ginkgo --skip regular expression per line, `# reason` after it. */
export function critestSkips(): { re: string; reason: string }[] {
  const file = fileURLToPath(new URL('./critest-skips.txt', import.meta.url))
  return readFileSync(file, 'utf8')
    .split('\n')
    .map(l => l.trim())
    .filter(l => l && !l.startsWith('#'))
    .map(l => {
      const i = l.indexOf('#')
      return { re: l.slice(0, i).trim(), reason: l.slice(i + 1).trim() }
    })
}

t.test('critest passes against pod-launch cri', { skip, timeout: 3 * 3600_000 }, async t => {
  guardHost(t, [BRIDGE])
  const net = testNetwork(t, { name: 'pl-cri-critest', bridge: BRIDGE })
  let cri: CriServer | undefined
  t.teardown(async () => {
    await cri?.destroy()
  })
  cri = await startCri({ cniConfDir: net.confDir, cgroupParent: 'pl-cri-critest', mirrors: true })
  const report = join(cri.dir, 'critest.json')
  const skips = critestSkips()
  const args = [
    `-runtime-endpoint=${cri.endpoint}`,
    `-image-endpoint=${cri.endpoint}`,
    `-ginkgo.json-report=${report}`,
    '-ginkgo.no-color',
    ...skips.map(s => `-ginkgo.skip=${s.re}`),
  ]
  const out = await new Promise<string>(resolve =>
    execFile(critestBin(), args, { cwd: cri.dir, maxBuffer: 1 << 28 }, (_e, stdout, stderr) => resolve(`${stdout}${stderr}`)),
  )
  const specs = (JSON.parse(readFileSync(report, 'utf8')) as { SpecReports: SpecReport[] }[]).flatMap(s => s.SpecReports).filter(s => s.LeafNodeType === 'It')
  const name = (s: SpecReport) => [...(s.ContainerHierarchyTexts ?? []), s.LeafNodeText].join(' ')
  const by = (state: (s: string) => boolean) => specs.filter(s => state(s.State))
  const passed = by(s => s === 'passed')
  const failed = by(s => s !== 'passed' && s !== 'skipped' && s !== 'pending')
  const skipped = by(s => s === 'skipped' || s === 'pending')
  // The lane prints this line beside its totals.
  console.log(
    `critest: ${passed.length} passed, ${failed.length} failed, ${skipped.length} skipped (of ${specs.length}; the skip list names ${skips.length} patterns)`,
  )
  for (const s of skipped) t.comment(`skipped: ${name(s)}`)
  t.ok(specs.length > 50, `critest ran its suite (${specs.length} specs)`, specs.length <= 50 ? { output: out.slice(-4000) } : {})
  for (const s of passed) t.pass(`critest: ${name(s)}`)
  for (const s of failed) {
    const where = s.Failure ? `${s.Failure.Location.FileName}:${s.Failure.Location.LineNumber}` : ''
    t.fail(`critest: ${name(s)}`, { failure: s.Failure?.Message.slice(0, 2000), where })
  }
  for (const s of skips)
    t.ok(
      specs.some(x => new RegExp(s.re).test(name(x)) && x.State === 'skipped'),
      `skip list entry matches a spec: ${s.re} (${s.reason})`,
    )
})
