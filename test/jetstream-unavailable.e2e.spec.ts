import { eventually } from './support/eventually.js';
import { freePort } from './support/ports.js';
import { TestStream } from './support/jetstream.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { startRelayApp, type RelayApp } from './support/relay-app.js';
import { PulseCreated } from './support/events.js';
import { outboxOn } from './support/outbox-options.js';

describe('when JetStream cannot take the events', () => {
  const tables: TestOutboxTable[] = [];
  const streams: TestStream[] = [];
  const apps: RelayApp[] = [];

  /** A table and a stream (not created) of the test's own. */
  async function fresh(): Promise<{ table: TestOutboxTable; stream: TestStream }> {
    const table = await new TestOutboxTable().create();
    tables.push(table);
    const stream = await new TestStream().connect();
    streams.push(stream);
    return { table, stream };
  }

  // Nest's logger is process-wide: close each test's relay before the next test starts.
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.app.close()));
  });

  afterAll(async () => {
    await Promise.all(streams.map((s) => s.destroy()));
    await Promise.all(tables.map((t) => t.drop()));
  });

  async function writeEvents(
    table: TestOutboxTable,
    relayApp: RelayApp,
    count: number,
  ): Promise<void> {
    // One aggregate: only its first event is tried, the rest wait behind it, so a batch
    // fails with a single error; that must still count as the broker's failure.
    const events = Array.from({ length: count }, (_, n) => PulseCreated.create('p-1', { n }));
    await table.dataSource.transaction((m) => relayApp.repository.add(m, events));
  }

  it('keeps rows pending while no stream captures the subject, logs once per tick, then publishes when the stream appears', async () => {
    const { table, stream } = await fresh();
    const relayApp = await startRelayApp({
      ...outboxOn(table, stream),
      createStream: false,
      publishTimeoutMs: 500,
      retryBaseMs: 100,
      retryMaxMs: 400,
    });
    apps.push(relayApp);
    await writeEvents(table, relayApp, 5);
    const errors = await eventually(
      () => {
        const logged = relayApp.logger.errors('OutboxRelayService');
        return logged.length >= 3 && logged;
      },
      { what: 'three failing ticks' },
    );

    expect(await table.counts()).toMatchObject({ total: 5, published: 0 });
    const status = relayApp.relay.getStatus();
    // Five events fail on every tick, yet each tick logs a single line.
    expect(relayApp.logger.errors('OutboxRelayService').length).toBeLessThanOrEqual(
      status.ticksTotal,
    );
    for (const line of errors) {
      expect(line).toMatch(/5 events not acknowledged and left pending \(broker unavailable/);
    }
    // An outage is not the events' fault: no attempt was charged to them.
    const [{ attempts }] = await table.dataSource.query<{ attempts: number }[]>(
      `SELECT max(attempts)::int AS attempts FROM "${table.table}"`,
    );
    expect(attempts).toBe(0);
    expect(status.publishedTotal).toBe(0);

    await stream.create();
    await eventually(async () => (await table.counts()).published === 5, {
      what: 'rows published once the stream exists',
    });
    expect(await stream.count()).toBe(5);
  });

  it('keeps rows pending while the NATS server is unreachable', async () => {
    const { table, stream } = await fresh();
    const relayApp = await startRelayApp({
      table: table.table,
      natsServers: [`nats://127.0.0.1:${await freePort()}`],
      stream: stream.stream,
      subjectPrefix: stream.subjectPrefix,
      retryBaseMs: 100,
      retryMaxMs: 400,
    });
    apps.push(relayApp);
    await writeEvents(table, relayApp, 3);
    await eventually(() => relayApp.logger.errors('OutboxRelayService').length >= 2, {
      what: 'two failing ticks',
    });

    expect(await table.counts()).toMatchObject({ total: 3, published: 0 });
    expect(relayApp.relay.getStatus().lastError).toMatch(/broker unavailable, no attempt counted/);
    expect(relayApp.logger.errors('OutboxRelayService').length).toBeLessThanOrEqual(
      relayApp.relay.getStatus().ticksTotal,
    );
  });
});
