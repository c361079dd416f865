import type { QueryRunner } from 'typeorm';
import { resolveOutboxOptions } from '../src/outbox/config/resolve-outbox-options.js';
import { OutboxRelayStore } from '../src/outbox/relay/outbox-relay.store.js';
import { outboxOptions } from './support/outbox-options.js';
import { TestOutboxTable } from './support/outbox-table.js';

/**
 * The claim's order check, on PostgreSQL: which locked rows it lets go out, and which it holds
 * back behind an earlier row of their aggregate that this claim did not take.
 */
describe('claiming a batch in aggregate order', () => {
  const table = new TestOutboxTable();
  let store: OutboxRelayStore;
  const open: QueryRunner[] = [];

  beforeAll(async () => {
    await table.create();
    store = new OutboxRelayStore(resolveOutboxOptions(outboxOptions({ table: table.table })));
  });

  afterEach(async () => {
    for (const runner of open.splice(0)) {
      await runner.rollbackTransaction();
      await runner.release();
    }
    await table.dataSource.query(`DELETE FROM "${table.table}"`);
  });

  afterAll(() => table.drop());

  /** Inserts a row of `aggregate`; `n` names it in the assertions. */
  async function row(aggregate: string, n: string, columns: string = '', values: string = '') {
    const [{ id }] = await table.dataSource.query<{ id: string }[]>(
      `INSERT INTO "${table.table}"
         (event_id, event_type, event_version, aggregate_type, aggregate_id, occurred_at,
          payload${columns})
       VALUES (gen_random_uuid(), 'pulse.created', '1', 'pulse', $1, now(), $2${values})
       RETURNING id`,
      [aggregate, JSON.stringify({ n })],
    );
    return id;
  }

  async function transaction(): Promise<QueryRunner> {
    const runner = table.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    open.push(runner);
    return runner;
  }

  /** One claim in a transaction left open (the test's locks); the names of what it returned. */
  async function claim(limit = 10) {
    const runner = await transaction();
    const batch = await store.claim(runner.manager, limit);
    const names = batch.events.map((e) => (e.message.envelope.payload as { n: string }).n);
    return { locked: batch.locked, names };
  }

  it('lets go of the payloads and headers of a batch it released', async () => {
    await row('A', 'A1');
    const runner = await transaction();
    const batch = await store.claim(runner.manager, 10);
    const [event] = batch.events;
    expect(event.message.payloadJson).toBe('{"n": "A1"}');

    batch.release();

    expect(batch.events).toEqual([]);
    expect(event.message.payloadJson).toBeUndefined();
    expect(event.message.headers).toEqual({});
  });

  it('lets every row of the first pending rows go out, in id order', async () => {
    await row('A', 'A1');
    await row('B', 'B1');
    await row('A', 'A2');

    expect(await claim()).toEqual({ locked: 3, names: ['A1', 'B1', 'A2'] });
  });

  it("holds back a row whose aggregate's earlier row another relay holds, and only that one", async () => {
    const a1 = await row('A', 'A1');
    await row('B', 'B1');
    await row('A', 'A2');
    const other = await transaction();
    await other.query(`SELECT id FROM "${table.table}" WHERE id = $1 FOR UPDATE`, [a1]);

    expect(await claim()).toEqual({ locked: 2, names: ['B1'] });
  });

  it('lets a second batch in flight take other aggregates, and holds back those of the first', async () => {
    await row('A', 'A1');
    await row('B', 'B1');
    await row('A', 'A2');
    await row('C', 'C1');
    await row('B', 'B2');

    expect(await claim(2)).toEqual({ locked: 2, names: ['A1', 'B1'] });
    expect(await claim()).toEqual({ locked: 3, names: ['C1'] });
  });

  it('holds back the rows behind one that is not due yet, and not the rows before it', async () => {
    await row('B', 'B1');
    await row('A', 'A1', ', next_attempt_at', ", now() + interval '1 hour'");
    await row('A', 'A2');
    await row('C', 'C1');

    expect(await claim()).toEqual({ locked: 3, names: ['B1', 'C1'] });
  });

  it('skips the rows behind one waiting for a retry before the limit, so that they do not fill the batch', async () => {
    await row('B', 'B1');
    await row('A', 'A1', ', attempts, next_attempt_at', ", 1, now() + interval '1 hour'");
    await row('A', 'A2');
    await row('C', 'C1');

    expect(await claim(2)).toEqual({ locked: 2, names: ['B1', 'C1'] });
  });

  it('holds back the rows behind a dead letter, even one with no attempt counted', async () => {
    // The relay never writes one (giving up counts an attempt), but an operator's UPDATE can.
    await row('A', 'A1', ', failed_at', ', now()');
    await row('A', 'A2');
    await row('B', 'B1');

    expect(await claim()).toEqual({ locked: 2, names: ['B1'] });
  });
});
