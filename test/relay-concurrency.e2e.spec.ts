import { OutboxRelayStore } from '../src/outbox/relay/outbox-relay.store.js';
import { PulseCreated } from './support/events.js';
import { TestStream } from './support/jetstream.js';
import { outboxOn } from './support/outbox-options.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { startRelayApp, type RelayApp } from './support/relay-app.js';

// Never fires during a test run: the one drain here is the test's.
const NEVER = '0 0 0 1 1 *';
const HOT_EVENTS = 12;
const OTHER_EVENTS = 24;

/**
 * `relayConcurrency` batches stay in flight through a drain, also after the order check held
 * a whole batch back behind the relay's other batch. A worker whose batch was held back used
 * to end there, and the drain went on with one batch in flight to its end.
 */
describe('a relay with two batches in flight', () => {
  const table = new TestOutboxTable();
  const stream = new TestStream();
  let app: RelayApp | undefined;

  beforeAll(async () => {
    await table.create();
    await (await stream.connect()).create();
  });

  afterAll(async () => {
    await app?.app.close();
    await stream.destroy();
    await table.drop();
  });

  it('keeps both in flight after a batch is held back behind the other', async () => {
    app = await startRelayApp({
      ...outboxOn(table, stream),
      relayCron: NEVER,
      relayWakeup: 'off',
      // One event a batch: two batches claimed at once take one aggregate's next two events,
      // and the second is held back behind the first.
      batchSize: 1,
      relayConcurrency: 2,
    });
    const hot = Array.from({ length: HOT_EVENTS }, (_, n) => PulseCreated.create('hot', { n }));
    const others = Array.from({ length: OTHER_EVENTS }, (_, n) =>
      PulseCreated.create(`other-${n}`, { n }),
    );
    // The drain the relay starts with finds nothing, and is over before the spy goes in.
    await app.relay.drain();
    // A spy on the real store: which batches are open at once, and which came back held whole.
    const store = app.app.get(OutboxRelayStore, { strict: false });
    let open = 0;
    let heldWhole = 0;
    let mostOpenAfterHeld = 0;
    const openAndClaim = store.openAndClaim.bind(store);
    const commit = store.commit.bind(store);
    store.openAndClaim = async (...args) => {
      open++;
      if (heldWhole > 0) mostOpenAfterHeld = Math.max(mostOpenAfterHeld, open);
      const batch = await openAndClaim(...args);
      if (batch.locked > 0 && batch.events.length === 0) heldWhole++;
      return batch;
    };
    store.commit = async (...args) => {
      try {
        return await commit(...args);
      } finally {
        open--;
      }
    };

    const relayed = app;
    await table.dataSource.transaction((m) => relayed.repository.add(m, [...hot, ...others]));
    await app.relay.drain();

    expect((await table.counts()).pending).toBe(0);
    expect(app.relay.getStatus().publishedTotal).toBe(HOT_EVENTS + OTHER_EVENTS);
    expect(heldWhole).toBeGreaterThan(0);
    expect(mostOpenAfterHeld).toBe(2);
    // Held back, never overtaken: the hot aggregate's events reached the stream in order.
    const hotInStream = (await stream.messages())
      .map((m) => m.body as { aggregate_id: string; payload: { n: number } })
      .filter((body) => body.aggregate_id === 'hot')
      .map((body) => body.payload.n);
    expect(hotInStream).toEqual(hot.map((_, n) => n));
  });
});
