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

/** Points a relay at a test's own table and stream: the settings every relay test names. */
export function outboxOn(
  table: { readonly table: string },
  stream: { readonly stream: string; readonly subjectPrefix: string },
): TestOutboxOptions {
  return { table: table.table, stream: stream.stream, subjectPrefix: stream.subjectPrefix };
}
