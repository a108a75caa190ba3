#!/usr/bin/env node
// bundle.mjs - the CLI as one CommonJS file, dist/cli/pod-launch.cjs, and its V8
// code cache, dist/cli/pod-launch.cjs.cache; bin/pod-launch runs them (see its
// comment). Run after `tsc -b` (npm run build and prepare do): it bundles the
// compiled dist/cli/main.js, so the bundle is exactly what tsc emitted.
//
// Why: Node resolving and compiling ~100 ESM modules at every start was most of
// a CLI call's fixed cost (issue 21). One CommonJS file can be compiled from a
// code cache (vm.Script cachedData; Node 20 has no module compile cache), which
// ESM cannot. esbuild (a devDependency, never loaded at run time) is the
// bundler that does this in one call with no plugins.
//
// The bundle sits at dist/cli/, the same depth as every compiled module, so the
// paths they build from import.meta.url (the addon, package.json, proto/, bin/)
// point where they did. Left out of it, loaded from node_modules when used:
// yaml (already a runtime require, YAML input only) and the gRPC stack (the
// `cri` server only).
import { build, transform } from 'esbuild'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

// What yargs costs at load for its help output alone: string-width makes two
// Intl.Segmenters and /\p{RGI_Emoji}/v-style regexps at its top level (ICU data
// and huge character sets: ~40 ms of CPU here), wrap-ansi builds ansi-styles'
// tables, and its platform shim loads node:assert for two checks. Those modules
// are loaded on first call instead: the shim below exports a function that requires the
// real module (still in the bundle) when help text is first measured.
const LAZY = /^(string-width|wrap-ansi|assert|node:assert)$/
const lazyModules = {
  name: 'lazy-modules',
  setup(b) {
    b.onResolve({ filter: LAZY }, async a => {
      if (a.pluginData === 'real' || !/[/\\]node_modules[/\\]/.test(a.importer)) return undefined
      if (a.path.endsWith('assert')) return /[/\\]yargs[/\\]/.test(a.importer) ? { path: 'assert', namespace: 'lazy-assert' } : undefined
      const real = await b.resolve(a.path, { resolveDir: a.resolveDir, kind: a.kind, pluginData: 'real' })
      return { path: real.path, namespace: 'lazy' }
    })
    b.onResolve({ filter: /.*/, namespace: 'lazy' }, a => ({ path: a.path }))
    // string-width's answer for printable ASCII is its length (all our help text): it loads only for other text.
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, a => ({
      contents: `let real
const load = () => (real ??= require(${JSON.stringify(a.path)}).default)
export default ${/string-width/.test(a.path) ? '(s, o) => (typeof s === "string" && /^[\\x20-\\x7e]*$/.test(s) ? s.length : load()(s, o))' : '(...args) => load()(...args)'}`,
      loader: 'js',
    }))
    b.onLoad({ filter: /.*/, namespace: 'lazy-assert' }, () => ({
      // yargs checks its own invariants on every parse: node:assert only when one fails.
      contents: `exports.strictEqual = (a, b, m) => Object.is(a, b) || require('node:assert').strictEqual(a, b, m)
exports.notStrictEqual = (a, b, m) => Object.is(a, b) && require('node:assert').notStrictEqual(a, b, m)`,
      loader: 'js',
    }))
  },
}

// yargs answers --version with the "version" of the first package.json above its main file, which its
// platform shim takes as the part of its own path before "node_modules", else the working directory: in
// the bundle (no "node_modules" in the path of a checkout; an installed copy's is the project's that
// installed it) `pod-launch --version` printed the version of whatever project the user stood in, and
// every start listed the working directory and its parents. Here the main file is the package's root.
// The shim also read process.stdout.columns at load, which makes Node's stdout stream (and loads
// node:stream) at every start even when the CLI writes stdout directly (src/cli/output.ts): it is a
// getter here, read when yargs measures the terminal (help text).
const YARGS_MAIN = "const mainFilename = __dirname.substring(0, __dirname.lastIndexOf('node_modules'));"
const YARGS_COLUMNS = "stdColumns: typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null"
const yargsMain = {
  name: 'yargs-main',
  setup(b) {
    b.onLoad({ filter: /[/\\]yargs[/\\]lib[/\\]platform-shims[/\\]esm\.mjs$/ }, a => {
      const text = readFileSync(a.path, 'utf8')
      if (!text.includes(YARGS_MAIN) || !text.includes(YARGS_COLUMNS))
        return { errors: [{ text: `yargs-main: ${a.path} no longer has the lines this plugin replaces` }] }
      return {
        contents: text
          .replace(YARGS_MAIN, "const mainFilename = fileURLToPath(new URL('../../', import.meta.url));")
          .replace(YARGS_COLUMNS, `get ${YARGS_COLUMNS.replace(': ', '() { return ')} }`),
        loader: 'js',
      }
    })
  },
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(root, 'dist', 'cli')
const chunks = join(cli, 'pod-launch')
// The warm caches (bin/pod-launch makes them as a command exits) go with the files they were made from.
for (const old of [join(cli, 'pod-launch.cjs'), join(cli, 'pod-launch.cjs.cache'), join(cli, 'pod-launch.cjs.warm.cache'), chunks])
  rmSync(old, { recursive: true, force: true })
// Split: the entry (main.ts, yargs, the modules every command loads) and one chunk per lazily imported
// command module and per group of modules they share, so `--version` and `ps` read and compile only
// theirs (about a fifth of the whole) and `run` the pod code. esbuild splits ESM output only; each
// chunk is then made CommonJS on its own (imports between chunks become require calls, which
// bin/pod-launch resolves to the chunk files; every module still runs once).
const split = await build({
  entryPoints: { 'pod-launch': join(cli, 'main.js') },
  outdir: chunks,
  write: false,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  chunkNames: '[hash]',
  outExtension: { '.js': '.cjs' },
  external: ['@grpc/grpc-js', '@grpc/proto-loader'],
  define: { 'import.meta.url': 'import_meta_url' },
  plugins: [lazyModules, yargsMain],
  // Smaller source, smaller cache, less to read and collect at start (-30%); names are kept for stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  metafile: true,
  logLevel: 'warning',
})
mkdirSync(chunks, { recursive: true })
// Every file as CommonJS: one function expression, the module wrapper written out, so that bin/pod-launch
// compiles it as it is (no string concatenation at every start); import_meta_url is the entry's URL
// (dist/cli/pod-launch.cjs: at the depth of every compiled module, so the paths built from it hold).
// Node modules that only a pull, a probe or the CRI server uses (network, TLS, compression, workers):
// their requires become require('lazy:<id>'), which bin/pod-launch answers with a proxy that loads the
// module on first use (`run` of a host-image pod never does). esbuild's __toESM(require(x)) (a
// namespace or default import) would read all their keys at once, so it goes too: the proxy's
// `default` is the module, as __toESM's is.
const LAZY_BUILTINS = ['http', 'https', 'http2', 'tls', 'dns', 'zlib', 'worker_threads', 'dgram']
const ids = `(?:node:)?(?:${LAZY_BUILTINS.join('|')})`
const LAZY_REQUIRE = new RegExp(`__toESM\\(require\\("(${ids})"\\)(?:, *1)?\\)|require\\("(${ids})"\\)`, 'g')
const wrapped = new Map()
for (const f of split.outputFiles) {
  const { code } = await transform(f.text, {
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // import() of a chunk: a require inside a promise (bin/pod-launch's require finds the chunk).
    supported: { 'dynamic-import': false },
    minifyWhitespace: true,
    minifySyntax: true,
    banner: '(function (exports, require, module, __filename, __dirname, import_meta_url) {\n"use strict";',
    footer: '})',
  })
  wrapped.set(
    basename(f.path),
    code.trimEnd().replace(LAZY_REQUIRE, (_, a, b) => `require("lazy:${a ?? b}")`),
  )
}
// The entry and the chunks it imports statically (the modules every command loads, about 20 small
// files) go into one file, dist/cli/pod-launch.cjs, as an object of wrappers by chunk name: one read
// and one code cache at start instead of twenty. The others stay files of their own, read when used.
const outputs = split.metafile.outputs
const byName = new Map(Object.keys(outputs).map(k => [basename(k), outputs[k]]))
const eager = new Set(['pod-launch.cjs'])
for (const name of eager)
  for (const i of byName.get(name).imports) if (i.kind === 'import-statement' && byName.has(basename(i.path))) eager.add(basename(i.path))
writeFileSync(join(cli, 'pod-launch.cjs'), `({\n${[...eager].map(n => `${JSON.stringify(n)}: ${wrapped.get(n)},\n`).join('')}})\n`)
for (const [name, code] of wrapped) if (!eager.has(name)) writeFileSync(join(chunks, name), `${code}\n`)
// The unpack worker (src/rootfs/images/unpack-thread.ts) as the bundle's sibling: a pull's worker
// thread loads one file, not the compiled modules. A plain CommonJS file (its own start is off the
// main thread; no code cache).
await build({
  entryPoints: [join(root, 'dist', 'rootfs', 'images', 'unpack-worker.js')],
  outfile: join(root, 'dist', 'cli', 'unpack-worker.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  define: { 'import.meta.url': 'import_meta_url' },
  banner: { js: 'var import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
})
// The code cache: bin/pod-launch, with POD_LAUNCH_WRITE_CODE_CACHE=1, compiles the bundle, parses
// `--version` (printing nothing) and writes it.
execFileSync(process.execPath, [join(root, 'bin', 'pod-launch')], { env: { ...process.env, POD_LAUNCH_WRITE_CODE_CACHE: '1' }, stdio: 'inherit' })
