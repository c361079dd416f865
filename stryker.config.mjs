// Mutation testing of the pure modules (`npm run test:mutation`; a few minutes, not run in CI).
// Only the unit specs under src/ run against the mutants: test/ needs real services.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'jest.unit.config.cjs',
    enableFindRelatedTests: true,
  },
  coverageAnalysis: 'perTest',
  concurrency: 2,
  mutate: [
    'src/outbox/relay/relay-decisions.ts',
    'src/outbox/config/setting.ts',
    'src/outbox/config/setting-schemas.ts',
    'src/outbox/config/resolve-outbox-options.ts',
    'src/outbox/write/event-validation.ts',
    'src/outbox/events/domain-event.ts',
    'src/outbox/nats/nats-envelope.serializer.ts',
    'src/outbox/nats/pub-ack-reader.ts',
    'src/outbox/rabbitmq/rmq-envelope.serializer.ts',
    'src/outbox/message/cloud-event.ts',
    'src/outbox/inbox/delivery-limit.ts',
  ],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  thresholds: { high: 90, low: 80, break: 80 },
  // The sandbox needs src/ and the configs only.
  ignorePatterns: [
    '/dist',
    '/test',
    '/bench',
    '/docs',
    '/deploy',
    '/migrations',
    '/tools',
    '/coverage',
    '/reports',
  ],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
