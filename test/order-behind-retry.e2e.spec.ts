import { eventually } from './support/eventually.js';
import { PulseCreated } from './support/events.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { rowState } from './support/outbox-rows.js';
import { takeMessages } from './support/queue-messages.js';
import { TEST_RABBITMQ_URL, TestExchange } from './support/rabbitmq.js';
import { startRelayApp, type RelayApp } from './support/relay-app.js';

describe("an aggregate's order behind an event that is being retried", () => {
  const table = new TestOutboxTable();
  const exchange = new TestExchange();
  let relay: RelayApp | undefined;

  beforeAll(async () => {
    await table.create();
    await exchange.connect();
  });

  afterAll(async () => {
    await relay?.app.close();
    await exchange.destroy();
    await table.drop();
  });

  it('publishes none of the later events while the first one fails and is retried, then all of them in order once it goes through', async () => {
    // A queue that holds one message and makes RabbitMQ nack the next publish: a failure that
    // lasts exactly as long as the test leaves a message in the queue, and is charged as an
    // attempt, not taken for an outage.
    const queue = await exchange.bindQueue('#', {
      'x-max-length': 1,
      'x-overflow': 'reject-publish',
    });
    relay = await startRelayApp({
      transport: 'rabbitmq',
      rabbitmqUrl: TEST_RABBITMQ_URL,
      table: table.table,
      exchange: exchange.exchange,
      retryBaseMs: 50,
      retryMaxMs: 200,
      maxAttempts: 1_000,
      maxInFlight: 8,
    });
    const plug = PulseCreated.create('plug', { n: 0 });
    await table.dataSource.transaction((m) => relay!.repository.add(m, plug));
    await eventually(async () => (await rowState(table, plug.eventId))?.published_at, {
      what: 'the plug in the queue',
    });

    const [first, ...later] = [1, 2, 3].map((n) => PulseCreated.create('A', { n }));
    await table.dataSource.transaction((m) => relay!.repository.add(m, [first, ...later]));
    await eventually(async () => (await rowState(table, first.eventId))!.attempts >= 3, {
      what: 'the first event nacked and retried twice',
    });
    for (const event of later) {
      expect(await rowState(table, event.eventId)).toMatchObject({
        attempts: 0,
        published_at: null,
        failed_at: null,
      });
    }
    expect(await rowState(table, first.eventId)).toMatchObject({
      published_at: null,
      failed_at: null,
    });
    expect(await exchange.ready(queue)).toBe(1);

    // Room for one message at a time: each retry goes through as the queue empties.
    const received = await takeMessages(exchange, queue, 4, { perPoll: 1 });
    expect(received.map((m) => m.messageId)).toEqual([plug, first, ...later].map((e) => e.eventId));
    await eventually(async () => (await table.counts()).pending === 0, {
      what: 'every row marked',
    });
  });
});
