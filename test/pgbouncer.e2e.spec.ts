import { OutboxRelayHealthIndicator } from '../src/outbox/index.js';
import { eventually } from './support/eventually.js';
import { PulseCreated } from './support/events.js';
import { TestStream } from './support/jetstream.js';
import { outboxOn } from './support/outbox-options.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { TestPgBouncer } from './support/pgbouncer.js';
import { startRelayApp, type RelayApp } from './support/relay-app.js';
import { TEST_DATABASE_URL } from './support/test-env.js';

// Never fires during a test run: whatever gets published was woken by a notification.
const NEVER = '0 0 0 1 1 *';

/** Behind PgBouncer in transaction pooling mode, as services in Kubernetes usually run. */
describe('behind PgBouncer in transaction mode', () => {
  const pgbouncer = new TestPgBouncer();
  const stream = new TestStream();
  const tables: TestOutboxTable[] = [];
  const apps: RelayApp[] = [];

  beforeAll(async () => {
    await pgbouncer.start();
    await (await stream.connect()).create();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.app.close()));
  });

  afterAll(async () => {
    await stream.destroy();
    await Promise.all(tables.map((t) => t.drop()));
    await pgbouncer.destroy();
  });

  async function relayThroughPgBouncer(options: Parameters<typeof startRelayApp>[0] = {}) {
    const table = await new TestOutboxTable().create();
    tables.push(table);
    const app = await startRelayApp(
      { ...outboxOn(table, stream), ...options },
      { databaseUrl: pgbouncer.url },
    );
    apps.push(app);
    return { table, app };
  }

  const wakeupOf = (app: RelayApp) =>
    app.app.get(OutboxRelayHealthIndicator).isHealthy().outbox_relay.wakeup as {
      listening: boolean;
      degraded?: string;
    };

  it('writes and relays correctly; the wake-up finds out it cannot listen, says why once, and the cron relays', async () => {
    const { table, app } = await relayThroughPgBouncer();
    const events = Array.from({ length: 50 }, (_, n) =>
      PulseCreated.create(`pgb-cron-${n % 5}`, { n }),
    );
    await table.dataSource.transaction((m) => app.repository.add(m, events.slice(0, 25)));
    await eventually(() => wakeupOf(app).degraded, { what: 'the self-check to fail' });
    const committedAt = Date.now();
    await table.dataSource.transaction((m) => app.repository.add(m, events.slice(25)));
    await eventually(async () => (await table.counts()).published === 50, {
      what: 'every event published through PgBouncer',
    });
    console.log('PgBouncer, no wake-up URL: commit to published (ms)', Date.now() - committedAt);

    const stored = (await stream.messages()).filter((m) =>
      String(m.body.aggregate_id).startsWith('pgb-cron-'),
    );
    expect(new Set(stored.map((m) => m.msgId))).toEqual(new Set(events.map((e) => e.eventId)));
    expect(wakeupOf(app)).toMatchObject({
      listening: false,
      degraded: expect.stringMatching(/relaying on the cron tick/),
    });
    // Readiness stays up: the cron still relays.
    expect(app.app.get(OutboxRelayHealthIndicator).isHealthy().outbox_relay.status).toBe('up');
    const warnings = app.logger.entries.filter(
      (e) => e.level === 'warn' && /self-check failed/.test(e.message),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toMatch(/OUTBOX_WAKEUP_DATABASE_URL/);
    expect(warnings[0].message).toMatch(/transaction-pooling proxy \(PgBouncer/);
    expect(app.logger.entries.map((e) => e.message)).not.toContainEqual(
      expect.stringMatching(/^Listening for new events/),
    );
    // PgBouncer may or may not have moved a client to another server connection here; if it
    // did, the prepared claim was lost, and that is said once, whatever the batches.
    expect(
      app.logger.entries.filter((e) => /prepared claim was lost/.test(e.message)).length,
    ).toBeLessThanOrEqual(1);
  });

  it('with a direct OUTBOX_WAKEUP_DATABASE_URL, a commit is published in milliseconds, with no cron tick', async () => {
    const { table, app } = await relayThroughPgBouncer({
      relayCron: NEVER,
      wakeupDatabaseUrl: TEST_DATABASE_URL,
    });
    await eventually(() => wakeupOf(app).listening, { what: 'the wake-up listening' });
    expect(wakeupOf(app).degraded).toBeUndefined();
    const event = PulseCreated.create('pgb-direct', { n: 1 });
    const committedAt = Date.now();
    await table.dataSource.transaction((m) => app.repository.add(m, event));
    await eventually(async () => (await table.publishedEventIds()).includes(event.eventId), {
      intervalMs: 5,
      what: 'the event published with no cron tick',
    });
    console.log(
      'PgBouncer, direct wake-up URL: commit to published (ms)',
      Date.now() - committedAt,
    );
  });
});
