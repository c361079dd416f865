import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { eventually } from '../support/eventually.js';
import { TestStream } from '../support/jetstream.js';
import { TestOutboxTable } from '../support/outbox-table.js';
import { PrivateNatsServer } from '../support/private-nats.js';
import { HeldMarks } from './held-marks.js';
import { RelayBackends } from './relay-backends.js';
import { startRelayApp, type RelayApp } from '../support/relay-app.js';
import { uniqueName } from '../support/test-env.js';
import {
  emptyWorkload,
  verify,
  writeBacklog,
  writeEvents,
  expectEveryCommittedEventOnceInOrder,
} from './workload.js';
import { outboxOn } from '../support/outbox-options.js';

const EVENTS = 20_000;

/** Attempts charged to the table's events, published or not. */
async function chargedAttempts(table: TestOutboxTable): Promise<number> {
  const [{ charged }] = await table.dataSource.query<{ charged: number }[]>(
    `SELECT coalesce(sum(attempts), 0)::int AS charged FROM "${table.table}"`,
  );
  return charged;
}

describe('faults of the broker and the database', () => {
  const apps: RelayApp[] = [];
  const tables: TestOutboxTable[] = [];

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.app.close()));
  });

  afterAll(async () => {
    await Promise.all(tables.map((t) => t.drop()));
  });

  async function newTable(): Promise<TestOutboxTable> {
    const table = await new TestOutboxTable().create();
    tables.push(table);
    return table;
  }

  it('loses nothing when the broker is killed and restarted in the middle of a 20,000-event run', async () => {
    const nats = await new PrivateNatsServer().start();
    const stream = new TestStream(nats.url);
    try {
      const table = await newTable();
      await (await stream.connect()).create();
      const relay = await startRelayApp({
        table: table.table,
        natsServers: [nats.url],
        stream: stream.stream,
        subjectPrefix: stream.subjectPrefix,
        createStream: false,
        // Slow enough that the kill lands mid-run.
        batchSize: 100,
        maxInFlight: 8,
        publishTimeoutMs: 1_000,
        retryBaseMs: 100,
        retryMaxMs: 1_000,
      });
      apps.push(relay);
      const workload = emptyWorkload();
      await writeEvents(table.dataSource, relay.repository, workload, {
        events: EVENTS,
        aggregates: 200,
      });

      await eventually(async () => (await table.counts()).published > 2_000, {
        intervalMs: 5,
        what: 'the run under way',
      });
      await nats.stop();
      const atKill = await table.counts();
      // The kill landed mid-run: events were published before it and left pending by it.
      expect(atKill.published).toBeGreaterThan(0);
      expect(atKill.pending).toBeGreaterThan(0);
      await eventually(() => relay.relay.getStatus().pausedUntil !== null, {
        what: 'the relay to notice the outage',
      });
      // Pending through the outage, and charged no attempt for it.
      expect(await chargedAttempts(table)).toBe(0);
      await nats.start();
      await eventually(async () => (await table.counts()).pending === 0, {
        timeoutMs: 120_000,
        what: 'the drain to finish after the broker returned',
      });
      await stream.reconnect();

      const verdict = verify(await stream.messages(), workload);
      const status = relay.relay.getStatus();
      console.log('broker restart:', {
        ...verdict,
        publishedAtKill: atKill.published,
        duplicatesDropped: status.duplicatesTotal,
      });
      expectEveryCommittedEventOnceInOrder(verdict, workload);
      // The outage cost the events no attempts, from the kill to the end of the drain, and
      // dead-lettered nothing.
      expect(await chargedAttempts(table)).toBe(0);
      expect(status.failedPublishesTotal).toBe(0);
      expect(status.deadLetteredTotal).toBe(0);
    } finally {
      await stream.destroy();
      await nats.destroy();
    }
  });

  it("loses nothing when the relay's PostgreSQL connections are terminated mid-run", async () => {
    const table = await newTable();
    const stream = new TestStream();
    await (await stream.connect()).create();
    try {
      const applicationName = uniqueName('fault_relay');
      // A backlog first, so that each fault below lands with events published and pending.
      const workload = await writeBacklog(table, stream, { events: EVENTS, aggregates: 200 });
      const relay = await startRelayApp(
        {
          ...outboxOn(table, stream),
          createStream: false,
        },
        { applicationName },
      );
      apps.push(relay);

      // Each time, the relay's marks are held until it has published a batch and waits to mark
      // it; then every session of the relay is terminated. That batch's mark cannot land: the
      // relay must publish it again, and JetStream must drop each copy as a duplicate.
      const backends = new RelayBackends(table.dataSource, table.table, applicationName);
      let terminated = 0;
      let acknowledgedNotMarked = 0;
      for (const threshold of [3_000, 8_000, 13_000]) {
        await eventually(async () => (await table.counts()).published >= threshold, {
          intervalMs: 5,
          timeoutMs: 60_000,
          what: `${threshold} published`,
        });
        const held = await HeldMarks.hold(table.dataSource, table.table);
        try {
          const marking = await eventually(
            async () => {
              const pids = await backends.waitingToMark();
              return pids.length > 0 && pids;
            },
            { intervalMs: 5, what: 'the relay to wait to mark a published batch' },
          );
          const atFault = await table.counts();
          const acknowledged = (await stream.count()) - atFault.published;
          const sessions = await backends.terminateAll();
          const ended = sessions.filter((s) => s.terminated).map((s) => s.pid);
          expect(ended).toEqual(expect.arrayContaining(marking));
          expect(atFault.published).toBeGreaterThan(0);
          expect(atFault.pending).toBeGreaterThan(0);
          expect(acknowledged).toBeGreaterThan(0);
          terminated += ended.length;
          acknowledgedNotMarked += acknowledged;
        } finally {
          await held.release();
        }
        // The relay published that batch again, and JetStream reported every copy.
        await eventually(() => relay.relay.getStatus().duplicatesTotal >= acknowledgedNotMarked, {
          what: 'the cut-off batch published again',
        });
      }
      await eventually(async () => (await table.counts()).pending === 0, {
        timeoutMs: 120_000,
        what: 'the drain to finish',
      });

      const verdict = verify(await stream.messages(), workload);
      const status = relay.relay.getStatus();
      const tickFailures = relay.logger.errors().filter((e) => /^Relay tick failed/.test(e));
      console.log('pg_terminate_backend:', {
        ...verdict,
        connectionsTerminated: terminated,
        tickFailures: tickFailures.length,
        acknowledgedNotMarked,
        duplicatesDropped: status.duplicatesTotal,
      });
      expectEveryCommittedEventOnceInOrder(verdict, workload);
      // Every batch cut off failed, and was published again: JetStream dropped the copies.
      expect(tickFailures.length).toBeGreaterThanOrEqual(3);
      expect(status.duplicatesTotal).toBe(acknowledgedNotMarked);
    } finally {
      await stream.destroy();
    }
  });

  it('dead-letters 1 % poison events and publishes everything else in order', async () => {
    const table = await newTable();
    const stream = new TestStream();
    await stream.connect();
    const nc = await connect({ servers: stream.natsUrl });
    try {
      await (
        await jetstreamManager(nc)
      ).streams.add({
        name: stream.stream,
        subjects: [`${stream.subjectPrefix}.>`],
        max_msg_size: 2_000,
      });
      const relay = await startRelayApp({
        ...outboxOn(table, stream),
        createStream: false,
      });
      apps.push(relay);
      const workload = emptyWorkload();
      const poison = await writeEvents(table.dataSource, relay.repository, workload, {
        events: 10_000,
        aggregates: 200,
        poisonEvery: 100,
      });
      await eventually(async () => (await table.counts()).published === workload.committed.size, {
        timeoutMs: 120_000,
        what: 'every healthy event published',
      });
      const failed = await table.dataSource.query<{ event_id: string }[]>(
        `SELECT event_id FROM "${table.table}" WHERE failed_at IS NOT NULL`,
      );
      expect(new Set(failed.map((f) => f.event_id))).toEqual(new Set(poison));
      expect(poison.length).toBeGreaterThanOrEqual(80);

      const verdict = verify(await stream.messages(), workload);
      console.log('1% poison:', { ...verdict, deadLettered: failed.length });
      expectEveryCommittedEventOnceInOrder(verdict, workload);
    } finally {
      await nc.close();
      await stream.destroy();
    }
  });
});
