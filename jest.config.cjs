// Nest 12 packages are ESM-only and Jest's CJS loader cannot require(esm) on Node 20,
// so SWC compiles both our TypeScript and those packages to CommonJS (nest12-notes §7, setup B).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j|mj)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2023',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|@standard-schema|file-type|strtok3|token-types|@tokenizer|@borewit|uint8array-extras|tinyglobby|fdir|ansis)/)',
  ],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testRegex: '(src|test)/.*\\.spec\\.ts$',
  // Stryker's sandboxes are copies of src/ and must not run as tests of their own.
  testPathIgnorePatterns: ['/node_modules/', '/\\.stryker-tmp/'],
  modulePathIgnorePatterns: ['/\\.stryker-tmp/'],
  // Builds dist/ when it is older than the sources: some tests spawn compiled files.
  globalSetup: '<rootDir>/test/global-setup.ts',
  testEnvironmentOptions: { globalsCleanup: 'off' },
  testTimeout: 60_000,
  maxWorkers: 2,
};
