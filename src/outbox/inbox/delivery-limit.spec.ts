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

  it('takes a positive whole number of deliveries, 5 by default', () => {
    expect(checkedMaxDeliveries(undefined, 'X')).toBe(DEFAULT_MAX_DELIVERIES);
    expect(checkedMaxDeliveries(1, 'X')).toBe(1);
    expect(() => checkedMaxDeliveries(0, 'X')).toThrow(/X maxDeliveries/);
    expect(() => checkedMaxDeliveries(2.5, 'X')).toThrow(TypeError);
  });
});
