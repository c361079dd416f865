import { resolveOutboxOptions } from '../config/resolve-outbox-options.js';
import type { OutboxTransportFactory } from '../transport/outbox-transport.js';
import { OutboxRelayStore } from './outbox-relay.store.js';

const transport = (() => {
  throw new Error('not used');
}) as unknown as OutboxTransportFactory;

const store = (retention?: number) =>
  new OutboxRelayStore(
    resolveOutboxOptions({ table: 'event_outbox', transport, retention: { keepFor: retention } }),
  );

describe('OutboxRelayStore.markStatement', () => {
  it('writes the ids into one UPDATE, or one DELETE with a retention of 0', () => {
    expect(store().markStatement(['1', '22', '333'])).toBe(
      `UPDATE "event_outbox" SET published_at = now() WHERE id = ANY('{1,22,333}'::bigint[])`,
    );
    expect(store(0).markStatement(['7'])).toBe(
      `DELETE FROM "event_outbox" WHERE id = ANY('{7}'::bigint[])`,
    );
  });

  it.each([[['1', '2); DROP TABLE event_outbox; --']], [['']], [[]], [['-1']]])(
    'refuses ids that are not integers: %j',
    (ids) => {
      expect(() => store().markStatement(ids)).toThrow('row ids must be integers');
    },
  );
});
