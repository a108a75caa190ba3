// What a foreground `pod-launch run` loads before it knows the pod needs it: the modules reached
// from src/cli/run.ts, src/cli/manifest-run.ts and the foreground start through static imports (dynamic `await import()`
// and `import type` load nothing at start). The registry client, tar and the image import and
// unpack code load only when a pod pulls or an image is imported; the CNI code only for a pod with CNI
// (its plan for --network none and hostNetwork is net/settings.ts); the detached-pod code (engine client,
// shim launch, --persist) only for run -d, down and boot; node:crypto (~3.5 ms to load) only when a
// hash or a workload's random name is made (issue 21: the CLI's fixed cost).
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const SRC = fileURLToPath(new URL('../../../src', import.meta.url))

/** Every module reached from `roots` through static value imports, each with the module that imported it first. */
function staticGraph(roots: string[]): Map<string, string | undefined> {
  const seen = new Map<string, string | undefined>(roots.map(r => [join(SRC, r), undefined]))
  const queue = [...seen.keys()]
  for (let file = queue.shift(); file; file = queue.shift()) {
    const source = readFileSync(file, 'utf8')
    for (const m of source.matchAll(/^(import|export)\s+(type\s)?[^;]*?from\s+'([^']+)'|^import\s+'([^']+)'/gms)) {
      if (m[2]) continue // import type / export type: erased
      const spec = m[3] ?? m[4]
      // Packages count by name (tar, fzstd); ours resolve from .js to .ts.
      const target = spec.startsWith('.') ? join(dirname(file), spec.replace(/\.js$/, '.ts')) : spec
      if (spec.startsWith('.') && !existsSync(target)) continue
      if (!seen.has(target)) {
        seen.set(target, file)
        if (spec.startsWith('.')) queue.push(target)
      }
    }
  }
  return seen
}

const chain = (graph: Map<string, string | undefined>, f: string): string => {
  const names: string[] = []
  for (let at: string | undefined = f; at; at = graph.get(at)) names.unshift(at.startsWith('/') ? relative(SRC, at) : at)
  return names.join(' -> ')
}

t.test('a foreground run of a host-image pod loads no registry client, tar, image import, CNI, detached-pod code or node:crypto', t => {
  const graph = staticGraph(['cli/run.ts', 'cli/manifest-run.ts', 'manage/foreground.ts'])
  t.ok(graph.has(join(SRC, 'pod/sandbox.ts')), 'the graph reaches the sandbox (the walk itself works)')
  const unwanted = [...graph.keys()].filter(
    f =>
      f === 'tar' ||
      f === 'fzstd' ||
      f === 'smol-toml' ||
      f === 'node:crypto' ||
      f.startsWith(join(SRC, 'rootfs/images/registry/')) ||
      /rootfs\/images\/(extract|import|ingest|index)\.ts$|manage\/(detach|persist|engine-client)\.ts$|shim\/launch\.ts$|net\/(index|pod-network|cni|exec)\.ts$/.test(
        f,
      ),
  )
  t.same(
    unwanted.map(f => chain(graph, f)),
    [],
    'each of these loads at start: import it where it is used (await import) or import a leaf module instead of a barrel',
  )
  t.end()
})
