import { OutboxRelayStore } from '../src/outbox/relay/outbox-relay.store.js';
import { PulseCreated } from './support/events.js';
import { outboxOn } from './support/outbox-options.js';
import { startRelayApp, type RelayApp } from './support/relay-app.js';
import { relayTestbed } from './support/relay-testbed.js';

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
  const bed = relayTestbed();
  const { table, stream } = bed;

  /**
   * One event a batch, two batches in flight: two batches claimed at once take one aggregate's
   * next two events, and the second is held back behind the first. Only the test drains.
   */
  const startTwoBatchRelay = () =>
    startRelayApp({
      ...outboxOn(table, stream),
      relayCron: NEVER,
      relayWakeup: 'off',
      batchSize: 1,
      relayConcurrency: 2,
    });

  /** Counts the relay's claims, calling through to the real store. */
  function countClaims(relay: RelayApp): { claims: number } {
    const store = relay.app.get(OutboxRelayStore, { strict: false });
    const openAndClaim = store.openAndClaim.bind(store);
    const counter = { claims: 0 };
    store.openAndClaim = (...args) => {
      counter.claims++;
      return openAndClaim(...args);
    };
    return counter;
  }

  it('keeps both in flight after a batch is held back behind the other', async () => {
    const app = (bed.app = await startTwoBatchRelay());
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

    await table.dataSource.transaction((m) => app.repository.add(m, [...hot, ...others]));
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

  it('ends its drain when another relay holds the batch back, rather than claiming it over and over', async () => {
    const app = (bed.app = await startTwoBatchRelay());
    await app.relay.drain();
    const [first, ...rest] = Array.from({ length: 4 }, (_, n) =>
      PulseCreated.create('held-elsewhere', { n }),
    );
    const free = PulseCreated.create('free', { n: 0 });
    await table.dataSource.transaction((m) => app.repository.add(m, [first, free, ...rest]));
    // "Another relay": a transaction that holds the aggregate's first event, unpublished.
    const other = table.dataSource.createQueryRunner();
    const counter = countClaims(app);
    try {
      await other.startTransaction();
      await other.query(`SELECT id FROM "${table.table}" WHERE event_id = $1 FOR UPDATE`, [
        first.eventId,
      ]);
      // The free event makes a full batch with a publish, so a second batch goes in flight;
      // then both come back held whole, behind the row this relay does not hold.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        app.relay.drain(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the drain did not end: ${counter.claims} claims so far`)),
            5_000,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      expect(await table.publishedEventIds()).toEqual([free.eventId]);
      // The free one's claim, then at most one held claim per worker and a last empty look.
      expect(counter.claims).toBeLessThanOrEqual(4);
    } finally {
      await other.rollbackTransaction();
      await other.release();
    }
    await app.relay.drain();
    expect((await table.counts()).pending).toBe(0);
  });
});
