import { randomUUID } from 'node:crypto';
import { eventually } from './support/eventually.js';
import { PulseCreated, SubmissionReceived } from './support/events.js';
import { TestStream } from './support/jetstream.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { TEST_RABBITMQ_URL, TestExchange } from './support/rabbitmq.js';
import { startRelayApp, type RelayApp } from './support/relay-app.js';
import { outboxOn } from './support/outbox-options.js';

/**
 * A row that no broker can ever take, written by something other than `add()` (an older
 * version, a migration, another writer): an event type of 5,000 characters. On NATS its subject
 * overflows nats-server's 4 KiB control line, and the server drops the connection on every
 * publish; on RabbitMQ it is longer than a routing key may be.
 */
const HOSTILE_TYPE = `learning_pulse.${'x'.repeat(5_000)}`;

describe('an event the broker can never take', () => {
  const tables: TestOutboxTable[] = [];
  const apps: RelayApp[] = [];
  const streams: TestStream[] = [];
  const exchanges: TestExchange[] = [];

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.app.close()));
  });

  afterAll(async () => {
    await Promise.all(streams.map((s) => s.destroy()));
    await Promise.all(exchanges.map((e) => e.destroy()));
    await Promise.all(tables.map((t) => t.drop()));
  });

  async function newTable() {
    const table = await new TestOutboxTable().create();
    tables.push(table);
    return table;
  }

  /** Inserts the hostile row directly, as another writer would, and returns its event id. */
  async function insertHostileRow(table: TestOutboxTable): Promise<string> {
    const eventId = randomUUID();
    await table.dataSource.query(
      `INSERT INTO "${table.table}"
         (event_id, event_type, event_version, aggregate_type, aggregate_id, occurred_at, payload)
       VALUES ($1, $2, '1.0', 'learning_pulse', 'hostile', now(), '{}')`,
      [eventId, HOSTILE_TYPE],
    );
    return eventId;
  }

  const rowOf = async (table: TestOutboxTable, eventId: string) =>
    (
      await table.dataSource.query<
        { attempts: number; failed_at: Date | null; last_error: string | null }[]
      >(`SELECT attempts, failed_at, last_error FROM "${table.table}" WHERE event_id = $1`, [
        eventId,
      ])
    )[0];

  it('on NATS: the event that breaks the connection becomes a dead letter, and the rest flows', async () => {
    const table = await newTable();
    const stream = await (await new TestStream().connect()).create();
    streams.push(stream);
    // Pending before the relay starts: the hostile row is first in line, others are behind it.
    const before = [1, 2, 3].map((n) => SubmissionReceived.create(`s-${n}`, { n }));
    const hostile = await insertHostileRow(table);
    const app = await startRelayApp({
      ...outboxOn(table, stream),
      relayEnabled: false,
      publishTimeoutMs: 3_000,
    });
    apps.push(app);
    await table.dataSource.transaction((m) => app.repository.add(m, before));
    const relay = await startRelayApp({
      ...outboxOn(table, stream),
      publishTimeoutMs: 3_000,
    });
    apps.push(relay);

    const dead = await eventually(
      async () => {
        const row = await rowOf(table, hostile);
        return row.failed_at !== null && row;
      },
      { what: 'the hostile row dead-lettered', timeoutMs: 30_000 },
    );
    expect(dead.last_error).toMatch(/broke the broker connection/);
    expect(relay.relay.getStatus().deadLetteredTotal).toBe(1);

    // New writes flow too, and the relay is not paused as if the broker were down.
    const after = PulseCreated.create('p-after', { n: 4 });
    await table.dataSource.transaction((m) => relay.repository.add(m, after));
    await eventually(async () => (await stream.count()) === 4, {
      what: 'every other event on the stream',
    });
    const ids = (await stream.messages()).map((m) => m.msgId);
    expect(ids.sort()).toEqual([...before, after].map((e) => e.eventId).sort());
    expect(await table.counts()).toEqual({ total: 5, published: 4, pending: 1 });
    expect(relay.relay.getStatus().pausedUntil).toBeNull();
  });

  it('on RabbitMQ: the event is refused at once, becomes a dead letter, and the rest flows', async () => {
    const table = await newTable();
    const exchange = await new TestExchange().connect();
    exchanges.push(exchange);
    const queue = await exchange.bindQueue('#');
    const hostile = await insertHostileRow(table);
    const app = await startRelayApp({
      transport: 'rabbitmq',
      rabbitmqUrl: TEST_RABBITMQ_URL,
      table: table.table,
      exchange: exchange.exchange,
    });
    apps.push(app);
    const others = [1, 2, 3].map((n) => SubmissionReceived.create(`s-${n}`, { n }));
    await table.dataSource.transaction((m) => app.repository.add(m, others));

    const dead = await eventually(
      async () => {
        const row = await rowOf(table, hostile);
        return row.failed_at !== null && row;
      },
      { what: 'the hostile row dead-lettered' },
    );
    // Refused before it is sent: given up at the first attempt, not after OUTBOX_MAX_ATTEMPTS.
    expect(dead).toMatchObject({ attempts: 1, last_error: expect.stringMatching(/routingKey/) });
    const received: string[] = [];
    await eventually(
      async () => {
        received.push(...(await exchange.take(queue)).map((m) => m.messageId ?? ''));
        return received.length >= others.length;
      },
      { what: 'the other events' },
    );
    expect(received.sort()).toEqual(others.map((e) => e.eventId).sort());
  });
});
