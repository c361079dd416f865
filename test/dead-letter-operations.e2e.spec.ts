import type { DomainEvent } from '../src/outbox/index.js';
import { OutboxDeadLetterService } from '../src/outbox/index.js';
import { PulseCreated, SubmissionReceived } from './support/events.js';
import { runOutboxCli } from './support/outbox-cli.js';
import { rowState } from './support/outbox-rows.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { startRelayApp, type RelayApp } from './support/relay-app.js';
import { TEST_DATABASE_URL } from './support/test-env.js';

const PULSE = 'learning_pulse.created';

/** Rows of every state: three dead letters of two types, a row awaiting a retry, a published one. */
interface Fixture {
  readonly deadPulses: DomainEvent[];
  readonly deadSubmission: DomainEvent;
  readonly retrying: DomainEvent;
  readonly published: DomainEvent;
}

describe('dead-letter operations', () => {
  const tables: TestOutboxTable[] = [];
  const apps: RelayApp[] = [];

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.app.close()));
    await Promise.all(tables.map((t) => t.drop()));
  });

  /**
   * A table holding the fixture's rows, written through the library and given their states
   * directly: what the relay does to reach them is other tests' subject. No relay runs, so
   * nothing moves but what the operation under test changes.
   */
  async function setup(): Promise<{ table: TestOutboxTable; app: RelayApp; rows: Fixture }> {
    const table = await new TestOutboxTable().create();
    tables.push(table);
    const app = await startRelayApp({ table: table.table, relayEnabled: false });
    apps.push(app);
    const rows: Fixture = {
      deadPulses: [1, 2].map((n) => PulseCreated.create(`dead-${n}`, { n })),
      deadSubmission: SubmissionReceived.create('dead-s', { n: 3 }),
      retrying: PulseCreated.create('retrying', { n: 4 }),
      published: PulseCreated.create('published', { n: 5 }),
    };
    const all = [...rows.deadPulses, rows.deadSubmission, rows.retrying, rows.published];
    await table.dataSource.transaction((m) => app.repository.add(m, all));
    const ids = (events: DomainEvent[]) => events.map((e) => e.eventId);
    await table.dataSource.query(
      `UPDATE "${table.table}" SET attempts = 5, failed_at = now(), last_error = 'refused'
        WHERE event_id = ANY($1::uuid[])`,
      [ids([...rows.deadPulses, rows.deadSubmission])],
    );
    await table.dataSource.query(
      `UPDATE "${table.table}" SET attempts = 2, next_attempt_at = now() + interval '1 hour'
        WHERE event_id = $1`,
      [rows.retrying.eventId],
    );
    await table.dataSource.query(
      `UPDATE "${table.table}" SET published_at = now() WHERE event_id = $1`,
      [rows.published.eventId],
    );
    return { table, app, rows };
  }

  const eventIds = async (table: TestOutboxTable) =>
    (
      await table.dataSource.query<{ event_id: string }[]>(
        `SELECT event_id FROM "${table.table}" ORDER BY id`,
      )
    ).map((r) => r.event_id);

  /** The rows that are no dead letter keep their state through any dead-letter operation. */
  async function expectOthersUntouched(table: TestOutboxTable, rows: Fixture) {
    expect(await rowState(table, rows.retrying.eventId)).toMatchObject({
      attempts: 2,
      failed_at: null,
      published_at: null,
    });
    expect((await rowState(table, rows.published.eventId))?.published_at).not.toBeNull();
  }

  describe('purge', () => {
    it('through the service deletes exactly the dead letters named, by event id or by type', async () => {
      const { table, app, rows } = await setup();
      const deadLetters = app.app.get(OutboxDeadLetterService);

      // Neither a pending nor a published row is a dead letter, even when named.
      expect(await deadLetters.purge({ eventId: rows.retrying.eventId })).toBe(0);
      expect(await deadLetters.purge({ eventId: rows.published.eventId })).toBe(0);
      expect(await deadLetters.purge({ eventId: rows.deadSubmission.eventId })).toBe(1);
      expect(await eventIds(table)).toEqual(
        [...rows.deadPulses, rows.retrying, rows.published].map((e) => e.eventId),
      );

      expect(await deadLetters.purge({ eventType: PULSE })).toBe(2);
      expect(await eventIds(table)).toEqual([rows.retrying.eventId, rows.published.eventId]);
      expect(await deadLetters.purge({ eventType: PULSE })).toBe(0);
      await expectOthersUntouched(table, rows);
    });

    it('through the CLI deletes exactly the dead letters named, by event id or by type', async () => {
      const { table, rows } = await setup();
      const cli = (...args: string[]) =>
        runOutboxCli({ DATABASE_URL: TEST_DATABASE_URL, OUTBOX_TABLE: table.table }, ...args);

      const one = cli('dead-letters', 'purge', rows.deadSubmission.eventId);
      expect(one.stderr).toBe('');
      expect(one.status).toBe(0);
      expect(one.stdout).toContain('Purged 1 dead letter(s).');
      expect(await eventIds(table)).toEqual(
        [...rows.deadPulses, rows.retrying, rows.published].map((e) => e.eventId),
      );

      const byType = cli('dead-letters', 'purge', '--type', PULSE);
      expect(byType.status).toBe(0);
      expect(byType.stdout).toContain('Purged 2 dead letter(s).');
      expect(await eventIds(table)).toEqual([rows.retrying.eventId, rows.published.eventId]);
      expect(cli('dead-letters', 'purge', rows.retrying.eventId).stdout).toContain(
        'Purged 0 dead letter(s).',
      );
      await expectOthersUntouched(table, rows);
    });
  });

  describe('requeue', () => {
    /** A requeued dead letter: a fresh attempt budget, due now. */
    async function expectRequeued(table: TestOutboxTable, event: DomainEvent) {
      const row = await rowState(table, event.eventId);
      expect(row).toMatchObject({ attempts: 0, failed_at: null, published_at: null });
      const [{ due }] = await table.dataSource.query<{ due: boolean }[]>(
        `SELECT next_attempt_at <= now() AS due FROM "${table.table}" WHERE event_id = $1`,
        [event.eventId],
      );
      expect(due).toBe(true);
    }

    it('through the service gives the dead letters named a fresh attempt budget, and only them', async () => {
      const { table, app, rows } = await setup();
      const deadLetters = app.app.get(OutboxDeadLetterService);

      expect(await deadLetters.requeue({ eventId: rows.deadPulses[0].eventId })).toBe(1);
      await expectRequeued(table, rows.deadPulses[0]);
      expect(await rowState(table, rows.deadPulses[1].eventId)).toMatchObject({ attempts: 5 });

      expect(await deadLetters.requeue({ eventType: PULSE })).toBe(1);
      await expectRequeued(table, rows.deadPulses[1]);
      expect(await rowState(table, rows.deadSubmission.eventId)).toMatchObject({
        attempts: 5,
        failed_at: expect.any(Date),
      });
      await expectOthersUntouched(table, rows);
    });

    it('through the CLI gives the dead letters named a fresh attempt budget, and only them', async () => {
      const { table, rows } = await setup();
      const requeue = runOutboxCli(
        { DATABASE_URL: TEST_DATABASE_URL, OUTBOX_TABLE: table.table },
        'dead-letters',
        'requeue',
        '--type',
        PULSE,
      );
      expect(requeue.status).toBe(0);
      expect(requeue.stdout).toContain('Requeued 2 dead letter(s).');
      for (const event of rows.deadPulses) await expectRequeued(table, event);
      expect(await rowState(table, rows.deadSubmission.eventId)).toMatchObject({ attempts: 5 });
      await expectOthersUntouched(table, rows);
    });
  });
});
