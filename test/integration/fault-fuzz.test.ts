// Issue 24, the fault suite: a manifest fuzz. Every run mutates valid
// manifests a few thousand times (a new seed each run, printed; FUZZ_SEED=n
// repeats one) and checks that pod-launch answers each with a result or a
// PodError (never a TypeError, never a stack trace, never "undefined" in a
// message); then a sample of the mutants goes through the real CLI (run -d,
// rm --force) and the run ends with the leak check.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'
import { requires } from '../helpers/requires.js'
import { CLI_BOUND_MS, cliEnv, newRoot, NO_LEAKS, settledLeaks, uniqueParent, writeManifest } from '../helpers/faults.js'
import { explainPod, parseManifestText, PodError } from '../../src/index.js'
import { validatePod } from '../../src/spec/index.js'

const skip = requires('root', 'built')
const CASES = Number(process.env.FUZZ_CASES ?? 3000)
const CLI_SAMPLE = Number(process.env.FUZZ_CLI_SAMPLE ?? 24)
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31)

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from the seed. */
function prng(s: number): () => number {
  return () => {
    s = (s + 0x6d2b79f5) | 0
    let x = Math.imul(s ^ (s >>> 15), 1 | s)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}
const rand = prng(seed)
const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

/** Values that have broken parsers before: wrong types, edges of ranges, paths that escape, quantities out of range. */
const NASTY: Json[] = [
  null,
  true,
  0,
  -1,
  2 ** 31,
  2 ** 53,
  1e308,
  -0.5,
  '',
  ' ',
  '-1',
  '1e11m',
  '12XB',
  '0.0001m',
  '999999999999999999999Ei',
  '..',
  '/..',
  '../../etc/passwd',
  '/dev/zero',
  '/etc/shadow',
  'a'.repeat(300),
  'SIGQIUT',
  'SIGRTMIN+99',
  '__proto__',
  'constructor',
  '\u0000',
  '\u202e',
  '$(HOME)',
  '$$(X)',
  [],
  [null],
  {},
  JSON.parse('{"__proto__": {"polluted": true}}') as Json, // an own key __proto__, as a YAML or JSON manifest can have
  { exec: { command: [] } },
]
/** Keys worth adding: near-misses of real ones, and ones with special meaning in JavaScript. */
const KEYS = [
  'contianers',
  'imagePullPolicy',
  'securityContext',
  'stopSignal',
  'os',
  'name',
  'hostPID',
  'restartPolicy',
  '__proto__',
  'constructor',
  'toString',
  '',
]

/** Every (parent, key) in the tree. */
function slots(v: Json, out: [Json[] | Record<string, Json>, string | number][] = []): [Json[] | Record<string, Json>, string | number][] {
  if (Array.isArray(v)) {
    v.forEach((c, i) => {
      out.push([v, i])
      slots(c, out)
    })
  } else if (v && typeof v === 'object') {
    for (const k of Object.keys(v)) {
      out.push([v, k])
      slots(v[k], out)
    }
  }
  return out
}

/** One to three random edits of a deep copy of `base`. */
function mutate(base: Json): Json {
  const m = JSON.parse(JSON.stringify(base)) as Json
  for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) {
    const all = slots(m)
    if (all.length === 0) break
    const [parent, key] = pick(all)
    const edit = Math.floor(rand() * 6)
    const set = (v: Json) => ((parent as Record<string, Json>)[key as string] = v)
    if (edit === 0) {
      if (Array.isArray(parent)) parent.splice(key as number, 1)
      else delete parent[key as string]
    } else if (edit === 1) set(structuredClone(pick(NASTY)))
    else if (edit === 2)
      set([(parent as Record<string, Json>)[key as string]]) // a value wrapped in a list
    else if (edit === 3 && !Array.isArray(parent)) parent[pick(KEYS)] = structuredClone(pick(NASTY))
    else if (edit === 4 && Array.isArray(parent))
      parent.push(structuredClone(parent[key as number])) // a duplicate entry (names, ports, mountPaths)
    else if (edit === 5) set(typeof parent[key as never] === 'string' ? `${parent[key as never] as string}${pick(['-x', '/..', ' ', ':', 'Ki'])}` : 7)
  }
  return m
}

/** The manifests the fuzz starts from: the examples shipped, and one that touches most fields. */
function bases(): Json[] {
  const dir = fileURLToPath(new URL('../../examples/', import.meta.url))
  const shipped = ['seeds-pod.yaml', 'sidecar-logshipper.yaml', 'two-servers.yaml', 'web-hostport.yaml', 'interactive-shell.yaml'].map(
    f => parseYaml(readFileSync(dir + f, 'utf8')) as Json,
  )
  const rich = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'fuzz', labels: { a: 'b' }, annotations: { x: 'y' } },
    spec: {
      os: { name: 'linux' },
      restartPolicy: 'OnFailure',
      terminationGracePeriodSeconds: 3,
      shareProcessNamespace: true,
      hostname: 'h',
      securityContext: { runAsUser: 1000, fsGroup: 2000, sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '80' }] },
      volumes: [
        { name: 'data', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
        { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
      ],
      initContainers: [{ name: 'side', image: 'host', restartPolicy: 'Always', command: ['sleep', '1'] }],
      containers: [
        {
          name: 'app',
          image: 'host',
          command: ['sh', '-c', 'true'],
          env: [
            { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'X', value: '$(IP)' },
          ],
          ports: [{ containerPort: 80, protocol: 'TCP' }],
          resources: { limits: { cpu: '500m', memory: '64Mi' }, requests: { cpu: '100m' } },
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
          lifecycle: { stopSignal: 'SIGQUIT', preStop: { exec: { command: ['true'] } } },
          livenessProbe: { exec: { command: ['true'] }, periodSeconds: 5 },
          securityContext: { capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
        },
      ],
    },
  }
  return [rich as unknown as Json, ...shipped]
}

/** What is wrong with pod-launch's answer to one mutant, or undefined when it is a clean result or a clean refusal. */
function judge(m: Json): string | undefined {
  for (const strict of [true, false]) {
    let r: ReturnType<typeof validatePod>
    try {
      r = validatePod(m, { strict })
    } catch (e) {
      return `validatePod threw ${(e as Error).stack}`
    }
    for (const p of r.problems) {
      if (typeof p.path !== 'string' || typeof p.message !== 'string' || !p.message) return `a problem without path or message: ${JSON.stringify(p)}`
      if (/undefined|\[object Object\]|NaN/.test(p.message)) return `a problem message leaks internals: ${p.path}: ${p.message}`
    }
    if (r.result) {
      try {
        explainPod(r.result.spec, { network: 'none', stateRoot: '/nonexistent-pl-fuzz' })
      } catch (e) {
        if (!(e instanceof PodError)) return `explain threw ${(e as Error).stack}`
      }
    }
  }
  // The text path too: the mutant as JSON text, cut short at a random byte.
  const text = JSON.stringify(m)
  try {
    parseManifestText(text.slice(0, Math.floor(rand() * text.length)), 'cut.json')
  } catch (e) {
    if (!(e instanceof PodError)) return `parseManifestText threw ${(e as Error).stack}`
  }
  return undefined
}

t.test(`${CASES} mutated manifests (seed ${seed}): each a result or a clean refusal; a CLI sample runs and is removed without a trace`, { skip }, async t => {
  const starts = bases()
  for (const b of starts) t.ok(validatePod(b, { strict: true }).result, 'a base is valid')
  const failures: string[] = []
  const sample: Json[] = []
  let accepted = 0
  for (let i = 0; i < CASES; i++) {
    const m = mutate(starts[i % starts.length])
    const bad = judge(m)
    if (bad) failures.push(`case ${i}: ${bad}\n  manifest: ${JSON.stringify(m).slice(0, 2000)}`)
    if (validatePod(m, { strict: true }).result) accepted++
    // The CLI sample: mutants of the first base only (short host commands; the examples run servers).
    if (sample.length < CLI_SAMPLE && i % starts.length === 0 && i % Math.floor(CASES / CLI_SAMPLE) < starts.length) sample.push(m)
  }
  t.same(failures.slice(0, 5), [], `every case answered cleanly (${failures.length} failed; replay with FUZZ_SEED=${seed})`)
  t.comment(`seed ${seed}: ${CASES} cases, ${accepted} accepted, ${CASES - accepted} refused`)

  // The CLI end to end, on the sample: a refusal is exit 2 and one `spec.*` message with no stack; a start is removed by rm --force.
  const root = newRoot(t)
  const parent = uniqueParent(t, 'fuzz')
  let ran = 0
  for (const [i, m] of sample.entries()) {
    const file = writeManifest(t, m as object, `fuzz-${i}.json`)
    const r = await cliEnv(root, {}, 'run', '-d', '--cgroup-parent', parent, file)
    t.equal(r.signal, null, `case ${i}: run -d returned (seed ${seed}; killed after ${CLI_BOUND_MS / 1000} s: ${JSON.stringify(m)})`)
    t.notMatch(r.stderr, /\n\s+at \S+ \(/, `case ${i}: no stack trace`)
    t.ok([0, 1, 2].includes(r.code), `case ${i}: exit ${r.code}`)
    if (r.code === 0) {
      ran++
      const rm = await cliEnv(root, {}, 'rm', '--force', r.stdout.trim().split('\n').pop()!)
      t.equal(rm.code, 0, `case ${i}: rm --force (seed ${seed}): ${rm.signal ?? ''} ${rm.stderr} ${JSON.stringify(m)}`)
    }
  }
  t.comment(`CLI sample: ${sample.length} manifests, ${ran} started and removed`)
  t.same(await settledLeaks(root, parent), NO_LEAKS, 'nothing left')
})
