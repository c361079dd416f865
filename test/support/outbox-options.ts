import type { OutboxModuleOptions } from '../../src/outbox/index.js';
import { groupOutboxOptions, type FlatOutboxOptions } from '../../tools/flat-outbox-options.js';
import { TEST_RABBITMQ_URL } from './rabbitmq.js';
import { TEST_NATS_URL } from './test-env.js';

/** The settings a test names, flat; the brokers default to the machine's test services. */
export type TestOutboxOptions = FlatOutboxOptions;

/** `OutboxModule.forRoot()`'s options from a test's flat ones, on the test brokers. */
export function outboxOptions(flat: TestOutboxOptions = {}): OutboxModuleOptions {
  return groupOutboxOptions({
    natsServers: [TEST_NATS_URL],
    rabbitmqUrl: TEST_RABBITMQ_URL,
    ...flat,
  });
}
