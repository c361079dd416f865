import { OutboxRetentionScheduler } from '../src/outbox/retention/outbox-retention.scheduler.js';
import { PulseCreated } from './support/events.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { startRelayApp, type RelayApp } from './support/relay-app.js';
import { uniqueName } from './support/test-env.js';

const OLD = 30;
const BATCH = 7;

describe('retention', () => {
  const table = new TestOutboxTable();
  // Every DELETE statement on the table, as PostgreSQL ran it: the rows it removed, oldest
  // first, and how many were left right after it.
  const log = uniqueName('purge_log');
  const recordDelete = uniqueName('record_delete');
  let app: RelayApp | undefined;

  beforeAll(async () => {
    await table.create();
    await table.dataSource.query(
      `CREATE TABLE "${log}" (seq serial PRIMARY KEY, deleted text[] NOT NULL, remaining int NOT NULL)`,
    );
    await table.dataSource.query(
      `CREATE FUNCTION "${recordDelete}"() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO "${log}" (deleted, remaining)
         SELECT (SELECT array_agg(aggregate_id ORDER BY published_at) FROM gone),
                (SELECT count(*) FROM "${table.table}");
         RETURN NULL;
       END $$`,
    );
    await table.dataSource.query(
      `CREATE TRIGGER record_delete AFTER DELETE ON "${table.table}"
         REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION "${recordDelete}"()`,
    );
  });

  afterAll(async () => {
    await app?.app.close();
    if (table.dataSource.isInitialized) {
      // CASCADE: the trigger goes with its function.
      await table.dataSource.query(`DROP FUNCTION IF EXISTS "${recordDelete}"() CASCADE`);
      await table.dataSource.query(`DROP TABLE IF EXISTS "${log}"`);
    }
    await table.drop();
  });

  it(`purges published rows past the retention in statements of at most ${BATCH} rows, oldest first, keeping the rest`, async () => {
    // No relay: the purge is run by hand, and nothing else deletes.
    app = await startRelayApp({
      table: table.table,
      relayEnabled: false,
      retentionMs: 60_000,
      purgeBatchSize: BATCH,
    });
    const old = Array.from({ length: OLD }, (_, n) => PulseCreated.create(`old-${n}`, { n }));
    const recent = PulseCreated.create('recent', { n: 0 });
    const deadLetter = PulseCreated.create('dead', { n: 0 });
    const pending = PulseCreated.create('pending', { n: 0 });
    await table.dataSource.transaction((m) =>
      app!.repository.add(m, [...old, recent, deadLetter, pending]),
    );
    // Published an hour ago, one second apart and in the reverse of their write order, so
    // "oldest first" differs from the order of the rows in the table.
    await table.dataSource.query(
      `UPDATE "${table.table}" o SET published_at = now() - interval '1 hour' - v.n * interval '1 second'
         FROM unnest($1::uuid[]) WITH ORDINALITY AS v(event_id, n) WHERE o.event_id = v.event_id`,
      [old.map((e) => e.eventId)],
    );
    await table.dataSource.query(
      `UPDATE "${table.table}" SET published_at = now() WHERE event_id = $1`,
      [recent.eventId],
    );
    await table.dataSource.query(
      `UPDATE "${table.table}" SET failed_at = now() - interval '1 hour', attempts = 5 WHERE event_id = $1`,
      [deadLetter.eventId],
    );
    const total = OLD + 3;

    expect(await app.app.get(OutboxRetentionScheduler).purge()).toBe(OLD);

    const statements = await table.dataSource.query<{ deleted: string[]; remaining: number }[]>(
      `SELECT deleted, remaining FROM "${log}" ORDER BY seq`,
    );
    // 30 rows in batches of 7: four full statements, then one of 2 that ends the run; after
    // the first, exactly 7 fewer rows are left.
    const oldestFirst = old.map((e) => e.aggregateId).reverse();
    const batches = [0, 1, 2, 3, 4].map((b) => oldestFirst.slice(b * BATCH, (b + 1) * BATCH));
    expect(statements).toEqual([
      { deleted: batches[0], remaining: total - BATCH },
      { deleted: batches[1], remaining: total - 2 * BATCH },
      { deleted: batches[2], remaining: total - 3 * BATCH },
      { deleted: batches[3], remaining: total - 4 * BATCH },
      { deleted: batches[4], remaining: 3 },
    ]);
    expect(batches[4]).toHaveLength(OLD - 4 * BATCH);
    const left = await table.dataSource.query<{ event_id: string }[]>(
      `SELECT event_id FROM "${table.table}" ORDER BY id`,
    );
    expect(left.map((r) => r.event_id)).toEqual(
      [recent, deadLetter, pending].map((e) => e.eventId),
    );
  });
});
