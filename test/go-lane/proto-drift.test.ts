// The Go lane's drift test: our proto/cri-runtime-v1.proto against upstream's
// api.proto of the k8s.io/cri-api version that critest is built with (the one
// test/go/critools/go.sum pins), read from the Go module cache. Needs Go; run
// by scripts/go-lane.sh, never by `npm test`.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadProto, protoDrift } from '../helpers/proto-drift.js'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const wrapper = join(repo, 'test/go/critools')

/** Upstream fields we leave out on purpose, with the reason. */
const OMITTED: Record<string, string> = {
  'runtime.v1.PodSandboxConfig.windows': 'Windows',
  'runtime.v1.ContainerConfig.windows': 'Windows',
  'runtime.v1.ContainerResources.windows': 'Windows',
  'runtime.v1.UpdateContainerResourcesRequest.windows': 'Windows',
  'runtime.v1.PodSandboxStats.windows': 'Windows',
}

function criApiVersion(): string {
  const mod = readFileSync(join(wrapper, 'go.mod'), 'utf8')
  const m = /^\s*k8s\.io\/cri-api (v\S+)/m.exec(mod)
  if (!m) throw new Error(`${wrapper}/go.mod names no k8s.io/cri-api version`)
  return m[1]
}

t.test('our .proto has the field names, numbers and types of upstream k8s.io/cri-api', t => {
  const version = criApiVersion()
  const info = JSON.parse(execFileSync('go', ['mod', 'download', '-json', `k8s.io/cri-api@${version}`], { cwd: wrapper, encoding: 'utf8' })) as {
    Dir: string
  }
  const upstream = join(info.Dir, 'pkg/apis/runtime/v1/api.proto')
  const drift = protoDrift(loadProto(join(repo, 'proto/cri-runtime-v1.proto')), loadProto(upstream), new Set(Object.keys(OMITTED)))
  t.same(drift, [], `drift against ${upstream}:\n${drift.join('\n')}`)
  t.end()
})
