import { jetstream } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { OutboxMetricsModule } from '../src/outbox/metrics/index.js';
import { eventually } from './support/eventually.js';
import { PulseCreated } from './support/events.js';
import { TestStream } from './support/jetstream.js';
import type { TestOutboxOptions } from './support/outbox-options.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { PrivateNatsServer } from './support/private-nats.js';
import { sampleSum, sampleValue } from './support/prometheus-text.js';
import { startRelayApp, type RelayApp } from './support/relay-app.js';

describe("the relay's duplicate and outage counters", () => {
  const tables: TestOutboxTable[] = [];
  const streams: TestStream[] = [];
  const apps: RelayApp[] = [];
  const nats = new PrivateNatsServer();

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.app.close()));
  });

  afterAll(async () => {
    await Promise.all(streams.map((s) => s.destroy()));
    await Promise.all(tables.map((t) => t.drop()));
    await nats.destroy();
  });

  /** A relay with the metrics module on a registry of its own, and a table of its own. */
  async function setup(options: TestOutboxOptions) {
    const table = await new TestOutboxTable().create();
    tables.push(table);
    const registry = new Registry();
    const app = await startRelayApp(
      { table: table.table, ...options },
      { imports: [OutboxMetricsModule.forRoot({ registry })] },
    );
    apps.push(app);
    return { table, app, scrape: () => registry.metrics() };
  }

  it('counts a publish the broker reports as a duplicate, in the status and in outbox_events_duplicate_total', async () => {
    const stream = await (await new TestStream().connect()).create();
    streams.push(stream);
    const { table, app, scrape } = await setup({
      stream: stream.stream,
      subjectPrefix: stream.subjectPrefix,
    });
    const event = PulseCreated.create('dup', { n: 1 });
    // The stream already holds the event's id, as after a relay that crashed before its mark.
    const h = headers();
    h.set('Nats-Msg-Id', event.eventId);
    const first = await jetstream(stream.connection()).publish(
      `${stream.subjectPrefix}.${event.eventType}`,
      JSON.stringify({ event_id: event.eventId }),
      { headers: h },
    );
    expect(first.duplicate).toBe(false);

    await table.dataSource.transaction((m) => app.repository.add(m, event));
    const text = await eventually(
      async () => {
        const t = await scrape();
        return sampleSum(t, 'outbox_events_published_total') === 1 && t;
      },
      { what: 'the event published' },
    );
    expect(sampleValue(text, 'outbox_events_duplicate_total')).toBe(1);
    expect(app.relay.getStatus()).toMatchObject({ duplicatesTotal: 1, publishedTotal: 1 });
    expect(await table.publishedEventIds()).toEqual([event.eventId]);
    expect((await stream.messages()).filter((m) => m.msgId === event.eventId)).toHaveLength(1);
  });

  it('counts the batches that met a broker outage in outbox_broker_outage_batches_total, charging nothing to the events', async () => {
    await nats.start();
    const { table, app, scrape } = await setup({
      natsServers: [nats.url],
      stream: 'OUTBOX_COUNTERS',
      subjectPrefix: 'counters.events',
      publishTimeoutMs: 1_000,
      retryBaseMs: 100,
      retryMaxMs: 400,
    });
    const before = PulseCreated.create('before', { n: 0 });
    await table.dataSource.transaction((m) => app.repository.add(m, before));
    await eventually(async () => (await table.counts()).published === 1, {
      what: 'an event published before the outage',
    });
    expect(sampleValue(await scrape(), 'outbox_broker_outage_batches_total')).toBe(0);

    await nats.stop();
    const during = [1, 2, 3].map((n) => PulseCreated.create(`during-${n}`, { n }));
    await table.dataSource.transaction((m) => app.repository.add(m, during));
    const text = await eventually(
      async () => {
        const t = await scrape();
        return sampleValue(t, 'outbox_broker_outage_batches_total')! >= 2 && t;
      },
      { what: 'two batches counted as outages' },
    );
    expect(sampleSum(text, 'outbox_events_failed_total')).toBe(0);
    expect(sampleSum(text, 'outbox_events_published_total')).toBe(1);
    expect(app.relay.getStatus().failedPublishesTotal).toBe(0);
    const [{ attempts }] = await table.dataSource.query<{ attempts: number }[]>(
      `SELECT max(attempts)::int AS attempts FROM "${table.table}"`,
    );
    expect(attempts).toBe(0);
    expect(await table.counts()).toMatchObject({ published: 1, pending: 3 });

    await nats.start();
    await eventually(async () => (await table.counts()).published === 4, {
      what: 'the events published once the broker is back',
    });
  });
});
