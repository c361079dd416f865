import { InvalidInboxKeyError } from '../errors/invalid-inbox-key.error.js';
import { afterFailure, checkedMaxDeliveries, DEFAULT_MAX_DELIVERIES } from './delivery-limit.js';

describe('afterFailure', () => {
  it('retries until the last delivery, then dead-letters', () => {
    expect(afterFailure(new Error('db down'), 1, 3)).toBe('retry');
    expect(afterFailure(new Error('db down'), 2, 3)).toBe('retry');
    expect(afterFailure(new Error('db down'), 3, 3)).toBe('dead-letter');
    expect(afterFailure({ status: 'error', message: 'boom' }, 7, 3)).toBe('dead-letter');
  });

  it('dead-letters at once what no redelivery can fix, as Nest hands it over', () => {
    const unusable = new InvalidInboxKeyError('the message carries no event id');
    expect(afterFailure(unusable, 1, 5)).toBe('dead-letter');
    expect(afterFailure({ status: 'error', message: unusable.message }, 1, 5)).toBe('dead-letter');
  });

  it('knows such a failure by a message that starts so, and only by a string message', () => {
    const text = 'Cannot de-duplicate this event: no event id';
    expect(afterFailure(new Error(`Handler said: ${text}`), 1, 5)).toBe('retry');
    expect(afterFailure({ message: [text] }, 1, 5)).toBe('retry');
    expect(afterFailure({ message: text }, 1, 5)).toBe('dead-letter');
  });

  it('retries a failure that carries no message at all', () => {
    expect(afterFailure(null, 1, 5)).toBe('retry');
    expect(afterFailure(undefined, 1, 5)).toBe('retry');
    expect(afterFailure('plain text', 4, 5)).toBe('retry');
    expect(afterFailure(null, 5, 5)).toBe('dead-letter');
  });

  it('takes a positive whole number of deliveries, 5 by default', () => {
    expect(checkedMaxDeliveries(undefined, 'X')).toBe(DEFAULT_MAX_DELIVERIES);
    expect(DEFAULT_MAX_DELIVERIES).toBe(5);
    expect(checkedMaxDeliveries(1, 'X')).toBe(1);
    expect(checkedMaxDeliveries(20, 'X')).toBe(20);
    expect(() => checkedMaxDeliveries(0, 'X')).toThrow(
      new TypeError('X maxDeliveries must be a whole number of at least 1: 0'),
    );
    expect(() => checkedMaxDeliveries(2.5, 'X')).toThrow(TypeError);
  });
});
