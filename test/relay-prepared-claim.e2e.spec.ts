import { DataSource } from 'typeorm';
import { PreparedClaimLostError } from '../src/outbox/relay/prepared-claim-lost.error.js';
import { resolveOutboxOptions } from '../src/outbox/config/resolve-outbox-options.js';
import { OutboxRelayStore } from '../src/outbox/relay/outbox-relay.store.js';
import { PulseCreated } from './support/events.js';
import { outboxOn, outboxOptions } from './support/outbox-options.js';
import { startRelayApp } from './support/relay-app.js';
import { relayTestbed } from './support/relay-testbed.js';

// Never fires during a test run: every batch here is a drain the test asks for.
const NEVER = '0 0 0 1 1 *';

const preparedClaims = async (query: (sql: string) => Promise<{ n: number }[]>) =>
  (
    await query(
      `SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'outbox_claim_%'`,
    )
  )[0].n;

/**
 * The relay's claim as a prepared statement, and what happens when the server connection no
 * longer has it, as behind PgBouncer in transaction mode. `DEALLOCATE ALL` on the
 * connection that prepared it makes that loss happen on purpose.
 */
describe('the prepared claim', () => {
  const bed = relayTestbed();
  const { table, stream } = bed;

  it('is prepared once on its connection, and a lost statement fails the claim and turns preparing off', async () => {
    const store = new OutboxRelayStore(resolveOutboxOptions(outboxOptions({ table: table.table })));
    const runner = table.dataSource.createQueryRunner();
    try {
      const claimOnce = async (limit = 10) => {
        await runner.startTransaction();
        try {
          return await store.claim(runner.manager, limit);
        } finally {
          await runner.rollbackTransaction();
        }
      };
      await claimOnce();
      await claimOnce();
      expect(await preparedClaims((sql) => runner.query(sql))).toBe(1);
      // Another batch size is another statement, prepared beside the first.
      await claimOnce(3);
      await claimOnce(10);
      expect(await preparedClaims((sql) => runner.query(sql))).toBe(2);

      await runner.query('DEALLOCATE ALL');
      await expect(claimOnce()).rejects.toBeInstanceOf(PreparedClaimLostError);

      expect((await claimOnce()).locked).toBe(0);
      expect(await preparedClaims((sql) => runner.query(sql))).toBe(0);
    } finally {
      await runner.release();
    }
  });

  it('a relay whose prepared claim is lost claims the batch again unprepared, loses nothing, and warns once', async () => {
    // One connection, so the DEALLOCATE below runs where the relay prepared its claim.
    const app = (bed.app = await startRelayApp(
      { ...outboxOn(table, stream), relayCron: NEVER, relayWakeup: 'off' },
      { poolSize: 1 },
    ));
    const events = [1, 2, 3].map((n) => PulseCreated.create('prepared-claim', { n }));
    const publishOne = async (n: number) => {
      await table.dataSource.transaction((m) => app.repository.add(m, events[n]));
      await app.relay.drain();
    };

    await publishOne(0);
    await app.app.get(DataSource).query('DEALLOCATE ALL');
    await publishOne(1);
    await publishOne(2);

    expect(await table.publishedEventIds()).toEqual(
      expect.arrayContaining(events.map((e) => e.eventId)),
    );
    expect((await table.counts()).pending).toBe(0);
    expect(app.relay.getStatus().lastError).toBeNull();
    const warnings = app.logger.entries.filter((e) => /prepared claim was lost/.test(e.message));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn' });
    expect(warnings[0].message).toMatch(/OUTBOX_PREPARED_STATEMENTS=false/);
    expect(app.logger.entries.filter((e) => e.level === 'error')).toEqual([]);
  });
});
