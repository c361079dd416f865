import { OutboxBrokerHealthIndicator } from '../src/outbox/index.js';
import { eventually } from './support/eventually.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { TEST_RABBITMQ_URL, TestExchange, type ReceivedMessage } from './support/rabbitmq.js';
import { startRelayApp, type RelayApp } from './support/relay-app.js';
import { AuditLogged, PulseCreated, SubmissionReceived } from './support/events.js';

describe('the RabbitMQ transport', () => {
  const tables: TestOutboxTable[] = [];
  const exchanges: TestExchange[] = [];
  const apps: RelayApp[] = [];

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.app.close()));
  });

  afterAll(async () => {
    await Promise.all(exchanges.map((e) => e.destroy()));
    await Promise.all(tables.map((t) => t.drop()));
  });

  /** `before` runs once the exchange's name is known, before any relay starts. */
  async function setup(
    options: Parameters<typeof startRelayApp>[0] = {},
    relays = 1,
    before?: (exchange: TestExchange) => Promise<void>,
  ) {
    const table = await new TestOutboxTable().create();
    tables.push(table);
    const exchange = await new TestExchange().connect();
    exchanges.push(exchange);
    await before?.(exchange);
    const config = {
      transport: 'rabbitmq' as const,
      rabbitmqUrl: TEST_RABBITMQ_URL,
      table: table.table,
      exchange: exchange.exchange,
      ...options,
    };
    const started = await Promise.all(Array.from({ length: relays }, () => startRelayApp(config)));
    apps.push(...started);
    return { table, exchange, relays: started, app: started[0] };
  }

  async function collect(exchange: TestExchange, queue: string, count: number) {
    const received: ReceivedMessage[] = [];
    await eventually(
      async () => {
        received.push(...(await exchange.take(queue)));
        return received.length >= count;
      },
      { timeoutMs: 60_000, what: `${count} messages on ${queue}` },
    );
    return received;
  }

  it('publishes committed events to the topic exchange: routing key = type, messageId = event id, persistent JSON envelope', async () => {
    // Queues are bound before anything is written, so nothing is routed to the unroutable queue.
    const { table, exchange, app: relay } = await setup();
    const all = await exchange.bindQueue('#');
    const pulsesOnly = await exchange.bindQueue('learning_pulse.*');

    const pulses = [1, 2, 3].map((n) => PulseCreated.create(`p-${n}`, { n }));
    const submissions = [1, 2].map((n) => SubmissionReceived.create(`s-${n}`, { n }));
    await table.dataSource.transaction((m) => relay.repository.add(m, [...pulses, ...submissions]));
    const rolledBack = PulseCreated.create('p-x', { n: 0 });
    await table.dataSource
      .transaction(async (m) => {
        await relay.repository.add(m, rolledBack);
        throw new Error('roll back');
      })
      .catch(() => undefined);

    const received = await collect(exchange, all, 5);
    await eventually(async () => (await table.counts()).pending === 0, { what: 'rows marked' });
    expect(await exchange.take(all)).toEqual([]);
    expect(received.map((m) => m.messageId).sort()).toEqual(
      [...pulses, ...submissions].map((e) => e.eventId).sort(),
    );
    const first = received.find((m) => m.messageId === pulses[0].eventId)!;
    expect(first).toMatchObject({
      routingKey: 'learning_pulse.created',
      deliveryMode: 2,
      contentType: 'application/json',
      headers: { 'Event-Type': 'learning_pulse.created', 'Event-Version': '1.0' },
      body: {
        event_id: pulses[0].eventId,
        event_type: 'learning_pulse.created',
        event_version: '1.0',
        aggregate_type: 'learning_pulse',
        aggregate_id: 'p-1',
        occurred_at: pulses[0].occurredAt.toISOString(),
        payload: { n: 1 },
      },
    });
    const onlyPulses = await collect(exchange, pulsesOnly, 3);
    expect(onlyPulses.map((m) => m.routingKey)).toEqual(Array(3).fill('learning_pulse.created'));
    expect(received.map((m) => m.messageId)).not.toContain(rolledBack.eventId);
  });

  it('two relays deliver 2,000 events, each id exactly once', async () => {
    const { table, exchange, relays } = await setup({ batchSize: 100 }, 2);
    const queue = await exchange.bindQueue('#');
    const events = Array.from({ length: 2_000 }, (_, n) =>
      PulseCreated.create(`p-${n % 300}`, { n }),
    );
    await table.dataSource.transaction((m) => relays[0].repository.add(m, events));

    const received = await collect(exchange, queue, 2_000);
    await eventually(async () => (await table.counts()).pending === 0, { what: 'rows marked' });
    expect(await exchange.take(queue)).toEqual([]);
    expect(new Set(received.map((m) => m.messageId)).size).toBe(2_000);
    const [a, b] = relays.map((r) => r.relay.getStatus().publishedTotal);
    expect(a + b).toBe(2_000);
    // A shared two-core machine under a full suite: well past its usual 10 s.
  }, 180_000);

  it('keeps nacked events pending and retries them until the broker takes them', async () => {
    const { table, exchange, app } = await setup({
      retryBaseMs: 50,
      retryMaxMs: 200,
      maxAttempts: 1_000,
    });
    const queue = await exchange.bindQueue('#', {
      'x-max-length': 1,
      'x-overflow': 'reject-publish',
    });
    const events = Array.from({ length: 5 }, (_, n) => PulseCreated.create(`p-${n}`, { n }));
    await table.dataSource.transaction((m) => app.repository.add(m, events));

    // The queue holds one message: the others are nacked, stay pending, and count attempts.
    await eventually(
      async () => {
        const [r] = await table.dataSource.query<{ retried: number; published: number }[]>(
          `SELECT count(*) FILTER (WHERE attempts > 0 AND published_at IS NULL)::int AS retried,
                count(published_at)::int AS published FROM "${table.table}"`,
        );
        return r.retried === 4 && r.published === 1;
      },
      { what: 'four nacked events pending with attempts' },
    );
    expect(app.relay.getStatus().failedPublishesTotal).toBeGreaterThanOrEqual(4);

    // Make room one message at a time: every event gets through.
    const received: ReceivedMessage[] = [];
    await eventually(
      async () => {
        received.push(...(await exchange.take(queue, 1)));
        return received.length === 5;
      },
      { timeoutMs: 30_000, what: 'all five delivered' },
    );
    expect(new Set(received.map((m) => m.messageId))).toEqual(
      new Set(events.map((e) => e.eventId)),
    );
    // The last row is marked after its confirm arrives, so possibly after the message.
    await eventually(async () => (await table.counts()).pending === 0, {
      what: 'every row to be marked',
    });
  });

  it('keeps unroutable events in <exchange>.unroutable instead of losing them, and reports them', async () => {
    const { table, exchange, app } = await setup();
    await exchange.bindQueue('learning_pulse.*');
    const audit = AuditLogged.create('g-1', { n: 1 });
    await table.dataSource.transaction((m) => app.repository.add(m, audit));

    const [kept] = await collect(exchange, `${exchange.exchange}.unroutable`, 1);
    expect(kept).toMatchObject({ messageId: audit.eventId, routingKey: 'grading.audit_logged' });
    // The row is marked right after the confirm, in the claim's commit.
    await eventually(async () => (await table.counts()).published === 1, { what: 'row marked' });

    await table.dataSource.transaction((m) =>
      app.repository.add(m, AuditLogged.create('g-2', { n: 2 })),
    );
    const health = app.app.get(OutboxBrokerHealthIndicator);
    const result = await eventually(
      async () => {
        const r = await health.isHealthy();
        return r.outbox_broker.unroutableMessages === 1 && r;
      },
      { what: 'the unroutable count in health' },
    );
    expect(result.outbox_broker).toMatchObject({ status: 'up', transport: 'rabbitmq' });
    expect(JSON.stringify(result)).not.toContain('guest:guest');
  });

  it('takes an unroutable queue declared beforehand as it is, a quorum queue included', async () => {
    // On a cluster a classic queue lives on one node; a quorum queue survives any one of them.
    const { table, exchange, app } = await setup({}, 1, (e) =>
      e.declareUnroutableQueue({ 'x-queue-type': 'quorum' }),
    );
    await table.dataSource.transaction((m) =>
      app.repository.add(m, AuditLogged.create('g-q', { n: 1 })),
    );

    await eventually(async () => (await table.counts()).published === 1, { what: 'row marked' });
    expect(app.relay.getStatus().lastError).toBeNull();
    const [kept] = await collect(exchange, `${exchange.exchange}.unroutable`, 1);
    expect(kept.routingKey).toBe('grading.audit_logged');
  });

  it('dead-letters an event the broker keeps refusing after OUTBOX_MAX_ATTEMPTS', async () => {
    const { table, exchange, app } = await setup({
      retryBaseMs: 20,
      retryMaxMs: 50,
      maxAttempts: 3,
    });
    await exchange.bindQueue('#', {
      'x-max-length': 1,
      'x-overflow': 'reject-publish',
    });
    const first = PulseCreated.create('p-1', { n: 1 });
    await table.dataSource.transaction((m) => app.repository.add(m, first));
    await eventually(async () => (await table.counts()).published === 1, { what: 'first in' });
    // The queue is full now: the next event is nacked on every try.
    const refused = PulseCreated.create('p-2', { n: 2 });
    await table.dataSource.transaction((m) => app.repository.add(m, refused));
    const [row] = await eventually(
      async () => {
        const rows = await table.dataSource.query<{ attempts: number; last_error: string }[]>(
          `SELECT attempts, last_error FROM "${table.table}" WHERE event_id = $1 AND failed_at IS NOT NULL`,
          [refused.eventId],
        );
        return rows.length === 1 && rows;
      },
      { what: 'the refused event dead-lettered' },
    );
    expect(row.attempts).toBe(3);
    expect(row.last_error).toMatch(/nack/i);
  });

  it('reports, without crashing, an exchange that exists with other arguments', async () => {
    const { table, app } = await setup({}, 1, (e) => e.declarePlain());
    await table.dataSource.transaction((m) =>
      app.repository.add(m, PulseCreated.create('p', { n: 1 })),
    );
    await eventually(
      () => /exists with other arguments/.test(app.relay.getStatus().lastError ?? ''),
      {
        what: 'the relay to report the exchange',
      },
    );
    expect(await table.counts()).toMatchObject({ published: 0, pending: 1 });
    const health = await app.app.get(OutboxBrokerHealthIndicator).isHealthy();
    expect(health.outbox_broker.status).toBe('down');
  });
});
