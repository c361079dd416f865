import { SchedulerRegistry } from '@nestjs/schedule';
import { OutboxRelayService } from '../src/outbox/index.js';
import { OUTBOX_RELAY_JOB } from '../src/outbox/outbox.constants.js';
import { eventually } from './support/eventually.js';
import { startHealthApp, type HealthApp } from './support/health-app.js';
import { TestStream } from './support/jetstream.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { PrivateNatsServer } from './support/private-nats.js';
import { PulseCreated } from './support/events.js';
import { outboxOn } from './support/outbox-options.js';

describe('health indicators', () => {
  const stream = new TestStream();
  const tables: TestOutboxTable[] = [];
  const apps: HealthApp[] = [];
  const nats = new PrivateNatsServer();

  beforeAll(async () => {
    await (await stream.connect()).create();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.app.close()));
  });

  afterAll(async () => {
    await nats.destroy();
    await stream.destroy();
    await Promise.all(tables.map((t) => t.drop()));
  });

  async function newTable(): Promise<TestOutboxTable> {
    const table = await new TestOutboxTable().create();
    tables.push(table);
    return table;
  }

  async function write(app: HealthApp, table: TestOutboxTable, count: number): Promise<void> {
    const events = Array.from({ length: count }, (_, n) => PulseCreated.create(`p-${n}`, { n }));
    await table.dataSource.transaction((m) => app.repository.add(m, events));
  }

  it('reports a backlog over the warn threshold as degraded (200) and over the max as down (503) with the figures', async () => {
    const table = await newTable();
    const app = await startHealthApp({
      ...outboxOn(table, stream),
      relayEnabled: false,
      healthBacklogWarn: 3,
      healthBacklogMax: 6,
    });
    apps.push(app);

    expect((await app.get('/health/ready')).status).toBe(200);
    await write(app, table, 4);
    const degraded = await app.get('/health/ready');
    expect(degraded.status).toBe(200);
    expect(degraded.body.status).toBe('degraded');
    expect(degraded.body.details.outbox_backlog).toMatchObject({
      status: 'degraded',
      pending: 4,
      message: 'pending events over 3',
    });

    await write(app, table, 3);
    const down = await app.get('/health/ready');
    expect(down.status).toBe(503);
    expect(down.body.error?.outbox_backlog).toMatchObject({
      status: 'down',
      pending: 7,
      failed: 0,
      thresholds: { backlogWarn: 3, backlogMax: 6 },
    });
    // Liveness does not care about the backlog.
    expect((await app.get('/health/live')).status).toBe(200);
  });

  it('flags, with the default settings, an outbox whose oldest pending event is over 5 minutes old', async () => {
    const table = await newTable();
    const app = await startHealthApp({ ...outboxOn(table, stream), relayEnabled: false });
    apps.push(app);
    await write(app, table, 1);
    const fresh = await app.get('/health/ready');
    expect(fresh.body.details.outbox_backlog.status).toBe('up');
    // A relay that completes its ticks but publishes nothing: only the age shows it.
    await table.dataSource.query(
      `UPDATE "${table.table}" SET created_at = now() - interval '6 minutes'`,
    );
    const stalled = await app.get('/health/ready');
    expect(stalled.status).toBe(200);
    expect(stalled.body.details.outbox_backlog).toMatchObject({
      status: 'degraded',
      message: 'oldest pending age (ms) over 300000',
    });
  });

  it('reports the age of the oldest pending event against its limits, and caps the count', async () => {
    const table = await newTable();
    const app = await startHealthApp({
      ...outboxOn(table, stream),
      relayEnabled: false,
      healthLagWarnMs: 60_000,
      healthLagMaxMs: 600_000,
      healthCountCap: 5,
    });
    apps.push(app);
    await write(app, table, 8);
    await table.dataSource.query(
      `UPDATE "${table.table}" SET created_at = now() - interval '5 minutes'`,
    );
    const degraded = await app.get('/health/ready');
    expect(degraded.status).toBe(200);
    expect(degraded.body.details.outbox_backlog).toMatchObject({
      status: 'degraded',
      pending: 5,
      pendingAtLeast: true,
      message: 'oldest pending age (ms) over 60000',
    });
    expect(degraded.body.details.outbox_backlog.oldestPendingAgeMs).toBeGreaterThanOrEqual(300_000);

    await table.dataSource.query(
      `UPDATE "${table.table}" SET created_at = now() - interval '1 hour'`,
    );
    const down = await app.get('/health/ready');
    expect(down.status).toBe(503);
    expect(down.body.error?.outbox_backlog.oldestPendingAgeMs).toBeGreaterThanOrEqual(3_600_000);
  });

  it('while NATS is down: ready is 503 naming the broker, live stays 200; after it returns, ready is 200 and the backlog drains', async () => {
    await nats.start();
    const table = await newTable();
    const app = await startHealthApp({
      table: table.table,
      natsServers: [nats.url],
      stream: 'OUTBOX_HEALTH_PRIVATE',
      subjectPrefix: 'health.events',
      publishTimeoutMs: 1_000,
      // Liveness is down after 2 s without a completed tick: the outage below lasts longer.
      healthRelayStallPeriods: 2,
    });
    apps.push(app);
    await eventually(async () => (await app.get('/health/ready')).status === 200, {
      what: 'ready before the outage',
    });

    await nats.stop();
    const down = await eventually(
      async () => {
        const res = await app.get('/health/ready');
        return res.status === 503 && res;
      },
      { timeoutMs: 5_000, what: 'ready to turn 503' },
    );
    expect(down.body.error?.outbox_broker.message).toMatch(/^nats-jetstream: /);
    expect(JSON.stringify(down.body)).not.toMatch(/:\/\/[^/\s]*@/);
    await write(app, table, 10);
    // Ticks keep completing (with errors), so the loop is alive and liveness stays up: watched
    // for three times the stall limit, so a relay whose ticks hung through the outage fails.
    const relay = app.app.get(OutboxRelayService);
    const ticksAtOutage = relay.getStatus().ticksTotal;
    const statuses: number[] = [];
    for (const until = Date.now() + 6_000; Date.now() < until;) {
      statuses.push((await app.get('/health/live')).status);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(relay.getStatus().ticksTotal).toBeGreaterThan(ticksAtOutage + 3);
    expect((await table.counts()).pending).toBe(10);

    await nats.start();
    await eventually(async () => (await app.get('/health/ready')).status === 200, {
      timeoutMs: 20_000,
      what: 'ready after NATS returns',
    });
    await eventually(async () => (await table.counts()).pending === 0, {
      timeoutMs: 20_000,
      what: 'the backlog to drain',
    });
  });

  it('turns liveness 503 when the relay makes no progress for the configured number of periods', async () => {
    const table = await newTable();
    const app = await startHealthApp({
      ...outboxOn(table, stream),
      relayCron: '* * * * * *',
      healthRelayStallPeriods: 2,
    });
    apps.push(app);
    await eventually(async () => (await app.get('/health/live')).status === 200, {
      what: 'live before the stall',
    });

    const stalledAt = Date.now();
    await app.app.get(SchedulerRegistry).getCronJob(OUTBOX_RELAY_JOB).stop();
    const down = await eventually(
      async () => {
        const res = await app.get('/health/live');
        return res.status === 503 && res;
      },
      { timeoutMs: 10_000, what: 'liveness to fail' },
    );
    expect(Date.now() - stalledAt).toBeGreaterThanOrEqual(1_000);
    expect(down.body.error?.outbox_relay).toMatchObject({ status: 'down', stallLimitMs: 2_000 });
    expect(down.body.error?.outbox_relay.message).toMatch(/no relay tick completed for \d+ ms/);
  });
});
