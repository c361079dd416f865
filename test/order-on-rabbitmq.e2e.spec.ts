import { eventually } from './support/eventually.js';
import { PulseCreated } from './support/events.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { sequencesByAggregate, takeMessages } from './support/queue-messages.js';
import { TEST_RABBITMQ_URL, TestExchange } from './support/rabbitmq.js';
import { startRelayApp, type RelayApp } from './support/relay-app.js';

const AGGREGATES = 12;
const EVENTS_PER_AGGREGATE = 40;
const EVENTS = AGGREGATES * EVENTS_PER_AGGREGATE;

describe('per-aggregate order on RabbitMQ', () => {
  const table = new TestOutboxTable();
  const exchange = new TestExchange();
  const relays: RelayApp[] = [];

  beforeAll(async () => {
    await table.create();
    await exchange.connect();
  });

  afterAll(async () => {
    await Promise.all(relays.map((r) => r.app.close()));
    await exchange.destroy();
    await table.drop();
  });

  it("delivers each aggregate's events in write order from two relays with concurrent batches, maxInFlight > 1 and aggregates interleaved", async () => {
    const queue = await exchange.bindQueue('#');
    const options = {
      transport: 'rabbitmq' as const,
      rabbitmqUrl: TEST_RABBITMQ_URL,
      table: table.table,
      exchange: exchange.exchange,
      // Small batches split each aggregate over many of them, and several batches of two
      // relays are in flight at once: only the hold-back keeps a later one from overtaking.
      batchSize: 10,
      relayConcurrency: 4,
      maxInFlight: 8,
    };
    // The whole backlog is written first, by a writer-only app, one transaction per step:
    // each transaction holds the next event of every aggregate, so commit order is write order.
    const writer = await startRelayApp({ ...options, relayEnabled: false });
    try {
      for (let n = 0; n < EVENTS_PER_AGGREGATE; n++) {
        const step = Array.from({ length: AGGREGATES }, (_, a) =>
          PulseCreated.create(`order-${a}`, { n }),
        );
        await table.dataSource.transaction((m) => writer.repository.add(m, step));
      }
    } finally {
      await writer.app.close();
    }
    relays.push(...(await Promise.all([startRelayApp(options), startRelayApp(options)])));

    const received = await takeMessages(exchange, queue, EVENTS);
    await eventually(async () => (await table.counts()).published === EVENTS, {
      what: 'every row marked',
    });
    expect(await exchange.take(queue)).toEqual([]);
    expect(new Set(received.map((m) => m.messageId)).size).toBe(EVENTS);
    const inWriteOrder = Array.from({ length: EVENTS_PER_AGGREGATE }, (_, n) => n);
    const sequences = sequencesByAggregate(received);
    expect(sequences.size).toBe(AGGREGATES);
    for (const [aggregate, sequence] of sequences) {
      expect({ aggregate, sequence }).toEqual({ aggregate, sequence: inWriteOrder });
    }
    // Both relays took part, so their batches did overlap.
    for (const r of relays) expect(r.relay.getStatus().publishedTotal).toBeGreaterThan(0);
  });
});
