// One jest config for the whole monorepo.
// NestJS 12 ships ESM-only packages; Node 20's jest cannot require(esm), so @swc/jest
// compiles those packages (and our TypeScript) to CommonJS. See docs/adr/0001-toolchain.md.
const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test', '<rootDir>/prisma'],
  testMatch: ['**/*.spec.ts', '**/*.e2e.ts'],
  transform: { '^.+\\.(t|m?j|cj)s$': swc },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|@electric-sql|pglite-prisma-adapter)/)'],
  moduleNameMapper: {
    '^@berth/(domain|config|proto|catalog|templates|testing|node-daemon)$': '<rootDir>/libs/$1/src',
  },
  testTimeout: 120000,
};
