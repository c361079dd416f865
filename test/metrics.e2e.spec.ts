import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import { OutboxMetricsModule } from '../src/outbox/metrics/index.js';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxModule } from '../src/outbox/index.js';
import { natsTransport } from '../src/outbox/nats/index.js';
import type { TestOutboxOptions } from './support/outbox-options.js';
import { OutboxBacklogReader } from '../src/outbox/table/outbox-backlog.reader.js';
import { eventually } from './support/eventually.js';
import { PulseCreated, SubmissionReceived } from './support/events.js';
import { TestStream } from './support/jetstream.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { sampleSum, sampleValue } from './support/prometheus-text.js';
import { TEST_RABBITMQ_URL, TestExchange } from './support/rabbitmq.js';
import { startRelayApp, type RelayApp } from './support/relay-app.js';
import { TEST_DATABASE_URL } from './support/test-env.js';
import { outboxOn } from './support/outbox-options.js';

describe('Prometheus metrics', () => {
  const stream = new TestStream();
  const tables: TestOutboxTable[] = [];
  const exchanges: TestExchange[] = [];
  const apps: RelayApp[] = [];

  beforeAll(async () => {
    // Messages over 2,000 bytes are refused: a way to make a real poison event.
    await (await stream.connect()).create({ max_msg_size: 2_000 });
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.app.close()));
  });

  afterAll(async () => {
    await stream.destroy();
    await Promise.all(exchanges.map((e) => e.destroy()));
    await Promise.all(tables.map((t) => t.drop()));
  });

  /** A relay app (OutboxModule not global) with the metrics module on a registry of its own. */
  async function setup(options: TestOutboxOptions = {}, registry = new Registry()) {
    const table = await new TestOutboxTable().create();
    tables.push(table);
    const app = await startRelayApp(
      {
        ...outboxOn(table, stream),
        createStream: false,
        retryBaseMs: 50,
        retryMaxMs: 100,
        ...options,
      },
      { imports: [OutboxMetricsModule.forRoot({ registry })] },
    );
    apps.push(app);
    return { table, app, registry, scrape: () => registry.metrics() };
  }

  const pending = async (table: TestOutboxTable) =>
    (
      await table.dataSource.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM "${table.table}" WHERE published_at IS NULL AND failed_at IS NULL`,
      )
    )[0].n;

  async function write(app: RelayApp, table: TestOutboxTable, pulses: number, submissions = 0) {
    const events = [
      ...Array.from({ length: pulses }, (_, n) => PulseCreated.create(`p-${n}`, { n })),
      ...Array.from({ length: submissions }, (_, n) => SubmissionReceived.create(`s-${n}`, { n })),
    ];
    await table.dataSource.transaction((m) => app.repository.add(m, events));
  }

  it('after relaying N events of two types reports N written and published by type, the attempts and both histograms', async () => {
    const { table, app, scrape } = await setup();
    await write(app, table, 7, 5);

    await eventually(async () => (await table.counts()).published === 12, {
      what: '12 events published',
    });
    // The batch is reported right after its commit, so the table can be a moment ahead.
    const text = await eventually(
      async () => {
        const t = await scrape();
        return sampleSum(t, 'outbox_events_published_total') === 12 && t;
      },
      { what: 'outbox_events_published_total to reach 12' },
    );

    const pulses = { event_type: 'learning_pulse.created' };
    const submissions = { event_type: 'submission.received' };
    expect(sampleValue(text, 'outbox_events_published_total', pulses)).toBe(7);
    expect(sampleValue(text, 'outbox_events_published_total', submissions)).toBe(5);
    expect(sampleValue(text, 'outbox_events_written_total', pulses)).toBe(7);
    expect(sampleValue(text, 'outbox_events_written_total', submissions)).toBe(5);
    expect(sampleValue(text, 'outbox_publish_attempts_total')).toBeGreaterThanOrEqual(12);
    expect(sampleSum(text, 'outbox_events_failed_total')).toBe(0);
    expect(sampleValue(text, 'outbox_batch_duration_seconds_count')).toBeGreaterThan(0);
    expect(sampleValue(text, 'outbox_batch_duration_seconds_sum')).toBeGreaterThan(0);
    expect(sampleValue(text, 'outbox_publish_lag_seconds_count')).toBe(12);
    expect(sampleValue(text, 'outbox_publish_lag_seconds_sum')).toBeGreaterThan(0);
    // The +Inf bucket holds every observation.
    expect(sampleValue(text, 'outbox_publish_lag_seconds_bucket', { le: '+Inf' })).toBe(12);
    // Nothing left: the backlog gauges agree with the table.
    expect(await pending(table)).toBe(0);
    expect(sampleValue(text, 'outbox_backlog_events')).toBe(0);
    expect(sampleValue(text, 'outbox_oldest_pending_age_seconds')).toBe(0);
    expect(sampleValue(text, 'outbox_backlog_up')).toBe(1);
  });

  it('reports the backlog from one capped query per scrape, matching the table, on a writer-only replica', async () => {
    const { table, app, scrape } = await setup({ relayEnabled: false });
    const backlog = jest.spyOn(app.app.get(OutboxBacklogReader), 'backlog');
    await write(app, table, 6, 3);

    const text = await scrape();
    expect(backlog).toHaveBeenCalledTimes(1);
    expect(await pending(table)).toBe(9);
    expect(sampleValue(text, 'outbox_backlog_events')).toBe(9);
    expect(sampleValue(text, 'outbox_dead_letters')).toBe(0);
    expect(sampleValue(text, 'outbox_backlog_up')).toBe(1);
    expect(sampleSum(text, 'outbox_events_written_total')).toBe(9);
    expect(sampleSum(text, 'outbox_events_published_total')).toBe(0);
    // created_at is the writing transaction's start, so the age grows from there.
    await eventually(
      async () => sampleValue(await scrape(), 'outbox_oldest_pending_age_seconds')! > 0,
      {
        what: 'a positive oldest pending age',
      },
    );

    // Two rows become dead letters: they leave the backlog and show as such.
    await table.dataSource.query(
      `UPDATE "${table.table}" SET failed_at = now() WHERE id IN (SELECT id FROM "${table.table}" ORDER BY id LIMIT 2)`,
    );
    backlog.mockClear();
    const after = await scrape();
    expect(backlog).toHaveBeenCalledTimes(1);
    expect(await pending(table)).toBe(7);
    expect(sampleValue(after, 'outbox_backlog_events')).toBe(7);
    expect(sampleValue(after, 'outbox_dead_letters')).toBe(2);
  });

  it('caps the backlog count at OUTBOX_HEALTH_COUNT_CAP', async () => {
    const { table, app, scrape } = await setup({ relayEnabled: false, healthCountCap: 3 });
    await write(app, table, 5);
    expect(await pending(table)).toBe(5);
    expect(sampleValue(await scrape(), 'outbox_backlog_events')).toBe(3);
  });

  it('answers a scrape within the timeout while the table is locked (NaN gauges, backlog_up 0), without piling up queries, then recovers', async () => {
    const { table, app, scrape } = await setup({ relayEnabled: false, healthTimeoutMs: 300 });
    await write(app, table, 2);
    const backlog = jest.spyOn(app.app.get(OutboxBacklogReader), 'backlog');
    const locker = table.dataSource.createQueryRunner();
    await locker.connect();
    await locker.startTransaction();
    try {
      await locker.query(`LOCK TABLE "${table.table}" IN ACCESS EXCLUSIVE MODE`);
      // The lock is held until the finally below: a scrape that waited for its query would
      // not return at all. How fast it returns is the bench's business.
      for (let i = 0; i < 2; i++) {
        const text = await scrape();
        expect(sampleValue(text, 'outbox_backlog_up')).toBe(0);
        expect(sampleValue(text, 'outbox_backlog_events')).toBeNaN();
        expect(sampleValue(text, 'outbox_oldest_pending_age_seconds')).toBeNaN();
        // The counters do not depend on the database.
        expect(sampleSum(text, 'outbox_events_written_total')).toBe(2);
      }
      // The second scrape waited for the first one's query instead of starting another.
      expect(backlog).toHaveBeenCalledTimes(1);
    } finally {
      await locker.rollbackTransaction();
      await locker.release();
    }
    const text = await eventually(
      async () => {
        const t = await scrape();
        return sampleValue(t, 'outbox_backlog_up') === 1 && t;
      },
      { what: 'the backlog query to answer again' },
    );
    expect(sampleValue(text, 'outbox_backlog_events')).toBe(2);
  });

  it('counts a charged failure and a dead letter by event type', async () => {
    const { table, app, scrape } = await setup();
    const poison = PulseCreated.create('poison', { text: 'x'.repeat(4_000) });
    await table.dataSource.transaction((m) =>
      app.repository.add(m, [poison, SubmissionReceived.create('s-1', { n: 1 })]),
    );

    const text = await eventually(
      async () => {
        const t = await scrape();
        return sampleValue(t, 'outbox_dead_letters') === 1 &&
          sampleSum(t, 'outbox_events_published_total') === 1
          ? t
          : undefined;
      },
      { what: 'one dead letter and one published event' },
    );
    const pulses = { event_type: 'learning_pulse.created' };
    expect(sampleValue(text, 'outbox_events_failed_total', pulses)).toBe(1);
    expect(sampleValue(text, 'outbox_events_dead_lettered_total', pulses)).toBe(1);
    expect(sampleSum(text, 'outbox_events_failed_total')).toBe(1);
    expect(
      sampleValue(text, 'outbox_events_published_total', { event_type: 'submission.received' }),
    ).toBe(1);
    expect(sampleValue(text, 'outbox_publish_attempts_total')).toBe(2);
    expect(sampleValue(text, 'outbox_broker_outage_batches_total')).toBe(0);
    expect(sampleValue(text, 'outbox_backlog_events')).toBe(0);
  });

  it('counts publishes on RabbitMQ the same way', async () => {
    const exchange = await new TestExchange().connect();
    exchanges.push(exchange);
    await exchange.bindQueue('#');
    const { table, app, scrape } = await setup({
      transport: 'rabbitmq',
      rabbitmqUrl: TEST_RABBITMQ_URL,
      exchange: exchange.exchange,
    });
    await write(app, table, 3, 2);
    await eventually(async () => sampleSum(await scrape(), 'outbox_events_published_total') === 5, {
      what: '5 events published to RabbitMQ',
    });
    expect((await table.counts()).published).toBe(5);
  });

  it('applies the prefix, and frees its names at shutdown so a next application can use the registry', async () => {
    const registry = new Registry();
    const first = await setup({ relayEnabled: false }, registry);
    expect(registry.getSingleMetric('outbox_events_published_total')).toBeDefined();
    await apps.splice(0)[0].app.close();
    expect(registry.getMetricsAsArray()).toHaveLength(0);

    const table = first.table;
    const second = await startRelayApp(
      { table: table.table, relayEnabled: false },
      { imports: [OutboxMetricsModule.forRoot({ registry, prefix: 'shop_' })] },
    );
    apps.push(second);
    await write(second, table, 1);
    const text = await registry.metrics();
    expect(
      sampleValue(text, 'shop_outbox_events_written_total', {
        event_type: 'learning_pulse.created',
      }),
    ).toBe(1);
    expect(sampleValue(text, 'shop_outbox_backlog_events')).toBe(1);
    expect(registry.getSingleMetric('outbox_events_written_total')).toBeUndefined();
  });

  it('refuses to start without an OutboxModule, saying so', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [OutboxMetricsModule.forRoot({ registry: new Registry() })],
    }).compile();
    await expect(moduleRef.init()).rejects.toThrow(
      /OutboxMetricsModule: needs OutboxModule\.forRoot\(\) in the same application/,
    );
    await moduleRef.close();
  });

  it('refuses to start with two OutboxModules, since it instruments exactly one', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: TEST_DATABASE_URL, retryAttempts: 0 }),
        OutboxModule.forRoot({
          table: 'outbox_a',
          relay: { enabled: false },
          transport: natsTransport(),
        }),
        OutboxModule.forRoot({
          table: 'outbox_b',
          relay: { enabled: false },
          transport: natsTransport(),
        }),
        OutboxMetricsModule.forRoot({ registry: new Registry() }),
      ],
    }).compile();
    await expect(moduleRef.init()).rejects.toThrow(/found 2 OutboxModule instances/);
    await moduleRef.close();
  });
});
