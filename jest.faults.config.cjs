// Fault tests: slow, they kill relays, brokers and connections. `npm run test:faults`.
const base = require('./jest.config.cjs');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testRegex: 'test/faults/.*\\.fault-spec\\.ts$',
  testTimeout: 300_000,
  maxWorkers: 1,
};
