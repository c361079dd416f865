import { eventually } from './support/eventually.js';
import { TestStream } from './support/jetstream.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { startRelayApp, type RelayApp } from './support/relay-app.js';
import { PulseCreated } from './support/events.js';
import { outboxOn } from './support/outbox-options.js';

const EVENTS = 5_000;

describe('shutting down while the relay drains', () => {
  const table = new TestOutboxTable();
  const stream = new TestStream();
  const apps: RelayApp[] = [];

  beforeAll(async () => {
    await table.create();
    await (await stream.connect()).create();
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.app.close()));
    await stream.destroy();
    await table.drop();
  });

  it('finishes and marks the batch in flight, leaves the rest pending, and a restart publishes it', async () => {
    const options = {
      ...outboxOn(table, stream),
      createStream: false,
      batchSize: 50,
      // A slower drain leaves no doubt that close() lands in the middle of it.
      maxInFlight: 4,
    };
    const writer = await startRelayApp({ ...options, relayEnabled: false });
    const events = Array.from({ length: EVENTS }, (_, n) => PulseCreated.create(`p-${n}`, { n }));
    await table.dataSource.transaction((m) => writer.repository.add(m, events));
    await writer.app.close();

    const first = await startRelayApp(options);
    apps.push(first);
    await eventually(
      () => first.relay.getStatus().running && first.relay.getStatus().publishedTotal > 0,
      { intervalMs: 5, what: 'the relay mid-drain' },
    );
    await first.app.close();

    // close() returned only after the drain stopped, without errors from closed connections.
    const status = first.relay.getStatus();
    expect(status.running).toBe(false);
    expect(first.logger.errors()).toEqual([]);
    const counts = await table.counts();
    expect(counts.published).toBe(status.publishedTotal);
    expect(counts.pending).toBeGreaterThan(0);
    // Marked implies acknowledged: every marked row is in the stream. And the batch in flight
    // was marked, not rolled back: the stream holds exactly the published rows, no more.
    const stored = new Set((await stream.messages()).map((m) => m.msgId));
    for (const id of await table.publishedEventIds()) expect(stored.has(id)).toBe(true);
    expect(await stream.count()).toBe(counts.published);
    // No row was left locked: another session can lock every pending row without waiting.
    await table.dataSource.transaction(async (manager) => {
      const rows = await manager.query<unknown[]>(
        `SELECT id FROM "${table.table}" WHERE published_at IS NULL FOR UPDATE NOWAIT`,
      );
      expect(rows).toHaveLength(counts.pending);
    });

    const second = await startRelayApp(options);
    apps.push(second);
    await eventually(async () => (await table.counts()).published === EVENTS, {
      timeoutMs: 60_000,
      what: 'the rest published after restart',
    });
    const all = await stream.messages();
    expect(new Set(all.map((m) => m.msgId)).size).toBe(EVENTS);
  });
});
