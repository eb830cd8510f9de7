// ESLint over src/, webview/, test/ and bench/, run by `npm test` (pretest: `npm run lint`) at zero
// warnings. typescript-eslint's `strict` set (syntactic rules); the type-checked sets are not on:
// on this code base they take minutes per run (see docs/architecture.md, "Lint").
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test/e2e/fixtures/**', '**/*.mjs', '**/*.js', 'scripts/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Deliberate: src/shared/text.ts and the config guards match control characters to strip them.
      'no-control-regex': 'off',
    },
  },
  {
    // Tests assert presence with `!` after checking it, and delete keys of fixtures on purpose.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-dynamic-delete': 'off',
    },
  },
);
