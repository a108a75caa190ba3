// A ts-node transpiler (tsconfig.json "ts-node".transpiler, which the ts-node
// of tap's TypeScript plugin reads) that strips types with esbuild instead of
// TypeScript's transpileModule. Each test file's process transpiles its whole
// import graph: with TypeScript that cost ~5.5 s of CPU per integration file on
// this host (test/helpers/faults.ts + pods.ts + src/index.ts), with esbuild
// ~1.4 s; in the cgroup v2 VM (software emulation) it was minutes per file.
// Types are still checked, by `npm run lint` (tsc -p tsconfig.test.json).
'use strict'
const { transformSync } = require('esbuild')

exports.create = function create({ service, nodeModuleEmitKind }) {
  const o = service.config.options
  const tsconfigRaw = { compilerOptions: { useDefineForClassFields: o.useDefineForClassFields ?? true, verbatimModuleSyntax: o.verbatimModuleSyntax ?? false } }
  const format = nodeModuleEmitKind === 'nodecjs' ? 'cjs' : 'esm'
  return {
    transpile(input, { fileName }) {
      const r = transformSync(input, {
        loader: fileName.endsWith('x') ? 'tsx' : 'ts',
        format,
        target: 'node20',
        sourcefile: fileName,
        sourcemap: 'external',
        tsconfigRaw,
      })
      return { outputText: r.code, sourceMapText: r.map }
    },
  }
}
