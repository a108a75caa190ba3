// typescript-eslint, type-aware, with a small rule set: what tsc does not
// catch and that has bitten runtimes (a promise nobody awaits, a value
// nobody reads). Style is the formatter's (prettier), not eslint's.
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'node_modules/', '.tap/', 'bench/', 'test/fixtures/'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      'no-shadow-restricted-names': 'error',
      // A local named `process` hides Node's global from the code below it.
      'no-restricted-syntax': [
        'error',
        {
          selector: "VariableDeclarator > Identifier.id[name='process'], :function > Identifier.params[name='process']",
          message: "a local named `process` shadows Node's global: name what it holds (child, pause, handle)",
        },
      ],
    },
  },
  {
    // prettier breaks code at 160 columns but never a string or a comment: those are ours to break.
    files: ['src/**/*.ts'],
    rules: { 'max-len': ['error', { code: 160, ignoreUrls: true }] },
  },
  {
    // tap tracks every t.test() it was handed and awaits it: a top-level t.test is not a floating promise.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
)
