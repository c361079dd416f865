import { eventually } from './support/eventually.js';
import { TestStream } from './support/jetstream.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { startRelayApp, type RelayApp } from './support/relay-app.js';
import { SubmissionReceived } from './support/events.js';
import { outboxOn } from './support/outbox-options.js';

const EVENTS = 10_000;

describe('two relays draining one table', () => {
  const table = new TestOutboxTable();
  const stream = new TestStream();
  const relays: RelayApp[] = [];

  beforeAll(async () => {
    await table.create();
    await (await stream.connect()).create();
  });

  afterAll(async () => {
    await Promise.all(relays.map((r) => r.app.close()));
    await stream.destroy();
    await table.drop();
  });

  it('publishes every event exactly once between them, and both take part', async () => {
    const events = Array.from({ length: EVENTS }, (_, n) =>
      SubmissionReceived.create(`submission-${n % 500}`, { n }),
    );
    // Writing needs only the repository: an app with the relay turned off provides it.
    const writer = await startRelayApp({
      ...outboxOn(table, stream),
      relayEnabled: false,
    });
    await table.dataSource.transaction((manager) => writer.repository.add(manager, events));
    await writer.app.close();

    const options = {
      ...outboxOn(table, stream),
      createStream: false,
      batchSize: 100,
      relayCron: '*/1 * * * * *',
    };
    relays.push(...(await Promise.all([startRelayApp(options), startRelayApp(options)])));

    await eventually(async () => (await table.counts()).published === EVENTS, {
      timeoutMs: 60_000,
      what: `${EVENTS} rows marked published`,
    });

    const messages = await stream.messages();
    expect(messages).toHaveLength(EVENTS);
    expect(new Set(messages.map((m) => m.msgId)).size).toBe(EVENTS);
    expect(new Set(messages.map((m) => m.msgId))).toEqual(new Set(events.map((e) => e.eventId)));

    const [a, b] = relays.map((r) => r.relay.getStatus().publishedTotal);
    // SKIP LOCKED: neither relay published a row the other held, so the counts add up exactly.
    expect(a + b).toBe(EVENTS);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
  });
});
