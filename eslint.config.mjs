// Boundaries (HOUSE_STYLE.md): every outside system behind one class of ours.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Each boundary uses its own rule name so that one never overrides the other.
const only = (rule, files, pkgs, why) => ({
  files: ['apps/**/*.ts', 'libs/**/*.ts'],
  ignores: [...files, '**/*.spec.ts', '**/*.e2e.ts'],
  rules: {
    [rule]: ['error', { paths: pkgs.map((name) => ({ name, message: why })) }],
  },
});

export default tseslint.config(
  { files: ['*.js'], languageOptions: { globals: { module: 'writable', require: 'readonly', __dirname: 'readonly', process: 'readonly' } } },
  { ignores: ['dist/**', 'node_modules/**', 'libs/proto/src/gen/**', 'prisma/generated/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  only(
    'no-restricted-imports',
    ['libs/node-daemon/src/runtime/docker.runtime.ts', 'libs/node-daemon/src/runtime/docker/**', 'libs/testing/**'],
    ['dockerode'],
    'dockerode only in runtime/docker.runtime.ts and runtime/docker/',
  ),
  only(
    '@typescript-eslint/no-restricted-imports',
    ['**/*.repository.ts', 'apps/coordinator/src/database/**', 'libs/testing/**'],
    ['@prisma/client', '@prisma/adapter-pg', 'pglite-prisma-adapter', '@electric-sql/pglite', 'pg'],
    'the database only in *.repository.ts and database/',
  ),
);
