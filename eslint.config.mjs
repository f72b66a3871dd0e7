// Boundaries (HOUSE_STYLE.md): every outside system behind one class of ours.
import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';

// Layers (docs/layers.md): each may import its own layer and the ones below it, never one above.
// Top first. The coordinator's feature folders, then the libraries; apps never import each other.
const COORDINATOR_LAYERS = [
  ['edges', ['web', 'admin', 'health', 'metrics', 'marketplace']],
  ['accounts', ['accounts']],
  ['slots', ['slots']],
  ['deployments', ['deployments']],
  ['nodes', ['nodes']],
  ['scheduler', ['scheduler']],
  ['services', ['registry', 'images', 'custom-images', 'secrets', 'audit', 'auth']],
  ['base', ['slot-model', 'database', 'config', 'common']],
];
const LIB_LAYERS = [
  ['node-daemon', ['node-daemon']],
  ['templates', ['templates']],
  ['proto', ['proto']],
  ['base', ['domain', 'config', 'catalog']],
];
const layerElements = (prefix, root, layers) =>
  layers.map(([name, dirs]) => ({ type: `${prefix}-${name}`, pattern: `${root}/${dirs.length > 1 ? `@(${dirs.join('|')})` : dirs[0]}` }));
const layerPolicies = (prefix, layers, alsoAllowed) =>
  layers.map(([name], i) => ({
    from: { element: { type: `${prefix}-${name}` } },
    allow: { to: { element: { types: { anyOf: [...layers.slice(i).map(([n]) => `${prefix}-${n}`), ...alsoAllowed] } } } },
  }));
const LIBS = LIB_LAYERS.map(([n]) => `lib-${n}`);
// The coordinator's features use the shared libraries; only its root starts the in-process node daemon.
const LIBS_FOR_FEATURES = LIBS.filter((l) => l !== 'lib-node-daemon');
const layering = {
  files: ['apps/**/*.ts', 'libs/**/*.ts'],
  // Specs may set up fixtures through a higher layer (a deployments spec signs a customer up).
  ignores: ['**/*.spec.ts', '**/*.e2e.ts', '**/test/**'],
  plugins: { boundaries },
  settings: {
    'import/resolver': { typescript: { project: './tsconfig.json' } },
    'boundaries/elements': [
      ...layerElements('coordinator', 'apps/coordinator/src', COORDINATOR_LAYERS),
      // What is left of the coordinator: its composition root (main.ts, app.ts, app.module.ts, local-node.ts).
      { type: 'coordinator-root', pattern: 'apps/coordinator' },
      { type: 'node-agent-app', pattern: 'apps/node-agent' },
      ...layerElements('lib', 'libs', LIB_LAYERS),
      { type: 'lib-testing', pattern: 'libs/testing' },
    ],
  },
  rules: {
    'boundaries/dependencies': [
      'error',
      {
        default: 'disallow',
        policies: [
          { from: { element: { type: 'coordinator-root' } }, allow: { to: { element: { types: { anyOf: [...COORDINATOR_LAYERS.map(([n]) => `coordinator-${n}`), 'coordinator-root', ...LIBS] } } } } },
          ...layerPolicies('coordinator', COORDINATOR_LAYERS, LIBS_FOR_FEATURES),
          { from: { element: { type: 'node-agent-app' } }, allow: { to: { element: { types: { anyOf: ['node-agent-app', 'lib-node-daemon'] } } } } },
          ...layerPolicies('lib', LIB_LAYERS, []),
          { from: { element: { type: 'lib-testing' } }, allow: { to: { element: { types: { anyOf: ['lib-testing', ...LIBS] } } } } },
          // Last, so it wins: a library is used through its public entry (`@berth/<lib>` = libs/<lib>/src/index.ts).
          ...[...LIBS, 'lib-testing'].map((lib) => ({
            from: { element: { type: `!${lib}` } },
            disallow: { to: { element: { type: lib, fileInternalPath: '!src/index.ts' } } },
          })),
        ],
      },
    ],
  },
};

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
    ['libs/node-daemon/src/runtime/docker.runtime.ts', 'libs/node-daemon/src/runtime/docker/**', 'libs/testing/**', 'scripts/images/**'],
    ['dockerode'],
    'dockerode only in runtime/docker.runtime.ts and runtime/docker/',
  ),
  only(
    '@typescript-eslint/no-restricted-imports',
    ['**/*.repository.ts', 'apps/coordinator/src/database/**', 'libs/testing/**'],
    ['@prisma/client', '@prisma/adapter-pg', 'pglite-prisma-adapter', '@electric-sql/pglite', 'pg'],
    'the database only in *.repository.ts and database/',
  ),
  layering,
);
