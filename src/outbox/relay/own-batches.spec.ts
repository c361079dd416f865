import { aggregateKey } from '../message/aggregate-key.js';
import type { ClaimedEvent } from '../message/claimed-event.js';
import { OwnBatches } from './own-batches.js';

/** A claimed event of aggregate `order-<n>`: only its envelope's aggregate matters here. */
const event = (n: number): ClaimedEvent => ({
  id: String(n),
  attempts: 0,
  createdAtMs: 0,
  message: {
    envelope: {
      event_id: `e-${n}`,
      event_type: 'order.placed',
      event_version: '1',
      aggregate_type: 'order',
      aggregate_id: `order-${n}`,
      occurred_at: '2026-11-30T00:00:00.000Z',
      payload: {},
    },
    headers: {},
  },
});
const key = (n: number) => aggregateKey('order', `order-${n}`);

describe('OwnBatches', () => {
  it('explains rows held back behind the events of a batch still in flight', () => {
    const own = new OwnBatches();
    const first = own.start();
    expect(own.claimed(first, [event(1), event(2)], [])).toBe(0);
    const second = own.start();
    expect(own.claimed(second, [event(3)], [key(1), key(2), key(9)])).toBe(1);
  });

  it('explains rows held back behind rows the other batch holds back itself', () => {
    const own = new OwnBatches();
    const first = own.start();
    own.claimed(first, [event(1)], [key(5)]);
    const second = own.start();
    expect(own.claimed(second, [], [key(5)])).toBe(0);
  });

  it('counts a batch that ended while the claim ran, not one that ended before it began', () => {
    const own = new OwnBatches();
    const before = own.start();
    own.claimed(before, [event(1)], []);
    const during = own.start();
    own.claimed(during, [event(2)], []);
    own.end(before);
    const claim = own.start();
    own.end(during);
    expect(own.claimed(claim, [], [key(1), key(2)])).toBe(1);
  });

  it('holds nothing against a relay alone with its batch', () => {
    const own = new OwnBatches();
    const only = own.start();
    expect(own.claimed(only, [event(1)], [key(2), key(3)])).toBe(2);
    own.end(only);
    const next = own.start();
    expect(own.claimed(next, [], [key(1)])).toBe(1);
  });
});
