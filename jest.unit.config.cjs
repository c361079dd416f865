// The unit specs only (src/**/*.spec.ts): pure logic, no PostgreSQL, NATS or RabbitMQ.
// Stryker runs these (stryker.config.mjs); the transform is the main config's.
const base = require('./jest.config.cjs');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/src'],
  testRegex: 'src/.*\\.spec\\.ts$',
  testTimeout: 10_000,
  // Pure logic spawns nothing compiled, and Stryker's sandbox holds no test/ folder.
  globalSetup: undefined,
  // Stryker runs this config inside its sandbox, under .stryker-tmp/.
  testPathIgnorePatterns: ['/node_modules/'],
  modulePathIgnorePatterns: [],
};
