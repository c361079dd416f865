import { OutboxPublishError } from '../errors/outbox-publish.error.js';
import type { PublishFailure } from '../transport/outbox-transport.js';
import type { FailedOutcome } from './outbox-publisher.js';
import {
  chargedFailures,
  loopStep,
  mayHideConnectionBreaker,
  nextStep,
  outageOf,
  outagePauseMs,
  QUICK_OUTAGE_PAUSE_MS,
  QUICK_OUTAGE_RETRIES,
  retryDelayMs,
} from './relay-decisions.js';

const failed = (id: string, failure: PublishFailure, cause: unknown = 'boom'): FailedOutcome => ({
  id,
  status: 'failed',
  failure,
  error: new OutboxPublishError(`e-${id}`, cause),
});
const policy = { maxAttempts: 3, retryBaseMs: 1_000, retryMaxMs: 600_000 };

describe('retryDelayMs', () => {
  it('doubles per attempt between half and the whole ceiling, and stops at the maximum', () => {
    expect(retryDelayMs(1, 1_000, 60_000, () => 0)).toBe(500);
    expect(retryDelayMs(1, 1_000, 60_000, () => 1)).toBe(1_000);
    expect(retryDelayMs(3, 1_000, 60_000, () => 1)).toBe(4_000);
    expect(retryDelayMs(3, 1_000, 60_000, () => 0)).toBe(2_000);
    expect(retryDelayMs(30, 1_000, 60_000, () => 1)).toBe(60_000);
  });

  it('spreads delays with jitter', () => {
    const delays = new Set(Array.from({ length: 50 }, () => retryDelayMs(4, 1_000, 60_000)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(4_000);
      expect(d).toBeLessThanOrEqual(8_000);
    }
  });
});

describe('outageOf', () => {
  it('is an outage when every failure is on the broker side, even with acknowledgements', () => {
    const down = [failed('1', 'unavailable'), failed('2', 'connection-lost', 'other')];
    expect(outageOf(down, 5)).toBe(down[0]);
  });

  it('is no outage when only part of the batch failed on the broker side', () => {
    const mixed = [failed('1', 'unavailable', 'a'), failed('2', 'retry', 'b')];
    expect(outageOf(mixed, 3)).toBeUndefined();
    expect(outageOf(mixed, 0)).toBeUndefined();
    // The same cause everywhere with nothing acknowledged is an outage all the same.
    const same = [failed('1', 'retry', 'a'), failed('2', 'connection-lost', 'a')];
    expect(outageOf(same, 0)).toBe(same[0]);
  });

  it('is an outage when nothing was acknowledged and every publish failed the same way', () => {
    const same = [failed('1', 'retry', new Error('x')), failed('2', 'retry', new Error('x'))];
    expect(outageOf(same, 0)).toBe(same[0]);
    // Not with an acknowledgement, not with one failure alone, not with different causes.
    expect(outageOf(same, 1)).toBeUndefined();
    expect(outageOf([same[0]], 0)).toBeUndefined();
    expect(outageOf([same[0], failed('2', 'retry', new Error('y'))], 0)).toBeUndefined();
  });

  it('is never an outage when an event can never be taken, or nothing failed', () => {
    expect(outageOf([failed('1', 'unavailable'), failed('2', 'never')], 0)).toBeUndefined();
    expect(outageOf([], 0)).toBeUndefined();
  });
});

describe('chargedFailures', () => {
  it('charges the events for their own failures only, and nothing in an outage', () => {
    const mixed = [failed('1', 'retry'), failed('2', 'never'), failed('3', 'unavailable')];
    expect(chargedFailures(mixed, undefined).map((f) => f.id)).toEqual(['1', '2']);
    expect(chargedFailures(mixed, mixed[2])).toEqual([]);
    expect(chargedFailures([failed('4', 'connection-lost')], undefined)).toEqual([]);
  });
});

describe('nextStep', () => {
  it('retries with backoff until the last attempt, then gives up', () => {
    expect(nextStep(failed('1', 'retry'), 0, policy, () => 1)).toEqual({
      retryInMs: 1_000,
      giveUp: false,
    });
    expect(nextStep(failed('1', 'retry'), 1, policy, () => 1)).toEqual({
      retryInMs: 2_000,
      giveUp: false,
    });
    expect(nextStep(failed('1', 'retry'), 2, policy).giveUp).toBe(true);
  });

  it('gives up at once on an event the broker can never take', () => {
    expect(nextStep(failed('1', 'never'), 0, policy).giveUp).toBe(true);
  });
});

describe('outagePauseMs', () => {
  it('retries quickly through the first outages in a row, as a failover lasts seconds', () => {
    for (let streak = 1; streak <= QUICK_OUTAGE_RETRIES; streak++) {
      expect(outagePauseMs(streak, policy, () => 1)).toBe(QUICK_OUTAGE_PAUSE_MS);
      expect(outagePauseMs(streak, policy, () => 0)).toBe(QUICK_OUTAGE_PAUSE_MS / 2);
    }
    // Never slower than the retry base, when that is lower.
    expect(outagePauseMs(1, { ...policy, retryBaseMs: 100 }, () => 1)).toBe(100);
  });

  it('then backs off per outage in a row, and never beyond 30 s', () => {
    expect(outagePauseMs(QUICK_OUTAGE_RETRIES + 1, policy, () => 1)).toBe(1_000);
    expect(outagePauseMs(QUICK_OUTAGE_RETRIES + 3, policy, () => 1)).toBe(4_000);
    expect(outagePauseMs(50, policy, () => 1)).toBe(30_000);
  });
});

describe('mayHideConnectionBreaker', () => {
  it('is true only when a message was in flight as the connection was lost', () => {
    expect(mayHideConnectionBreaker([failed('1', 'connection-lost')])).toBe(true);
    expect(mayHideConnectionBreaker([failed('1', 'unavailable'), failed('2', 'retry')])).toBe(
      false,
    );
    expect(mayHideConnectionBreaker([{ id: '1', status: 'acknowledged', duplicate: false }])).toBe(
      false,
    );
    expect(
      mayHideConnectionBreaker([
        { id: '1', status: 'acknowledged', duplicate: false },
        failed('2', 'connection-lost'),
        { id: '3', status: 'blocked' },
      ]),
    ).toBe(true);
    expect(mayHideConnectionBreaker([])).toBe(false);
  });
});

describe('loopStep', () => {
  const batch = (locked: number, heldBack: number, heldElsewhere: number, published: number) => ({
    locked,
    heldBack,
    heldElsewhere,
    published,
  });

  it('goes on after a full batch that published, and ends after one that was not full', () => {
    expect(loopStep(batch(10, 0, 0, 10), 10, 0)).toEqual({ step: 'next', crowded: 0 });
    expect(loopStep(batch(4, 0, 0, 4), 10, 0)).toEqual({ step: 'end', crowded: 0 });
    expect(loopStep(batch(0, 0, 0, 0), 10, 1)).toEqual({ step: 'end', crowded: 1 });
  });

  it('ends after a full batch that was held back in part and published nothing (it failed)', () => {
    expect(loopStep(batch(10, 4, 4, 0), 10, 0).step).toBe('end');
  });

  it('tells a batch held back whole behind its own batches from one behind other relays', () => {
    expect(loopStep(batch(10, 10, 0, 0), 10, 0).step).toBe('after-own');
    expect(loopStep(batch(10, 10, 3, 0), 10, 0).step).toBe('after-progress');
  });

  it('calls two mostly held-back batches in a row crowded only when other relays hold some', () => {
    const first = loopStep(batch(10, 6, 1, 4), 10, 0);
    expect(first).toEqual({ step: 'next', crowded: 1 });
    expect(loopStep(batch(10, 6, 1, 4), 10, first.crowded)).toEqual({
      step: 'crowded',
      crowded: 2,
    });
    // Behind this relay's own batches only: never crowded.
    expect(loopStep(batch(10, 9, 0, 1), 10, 1)).toEqual({ step: 'next', crowded: 0 });
    // Half held back is not most; a batch in between resets the count.
    expect(loopStep(batch(10, 5, 5, 5), 10, 1)).toEqual({ step: 'next', crowded: 0 });
  });
});
