import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { InvalidDeadLetterQueryError, OutboxDeadLetterService } from '../src/outbox/index.js';
import { eventually } from './support/eventually.js';
import { TestStream } from './support/jetstream.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { startRelayApp, type RelayApp } from './support/relay-app.js';
import { TEST_DATABASE_URL, TEST_NATS_URL } from './support/test-env.js';
import { AuditLogged, PulseCreated } from './support/events.js';
import { outboxOn } from './support/outbox-options.js';
import { runOutboxCli } from './support/outbox-cli.js';
import { rowState } from './support/outbox-rows.js';

describe('dead letters and retention', () => {
  const stream = new TestStream();
  const tables: TestOutboxTable[] = [];
  const apps: RelayApp[] = [];
  let nc: NatsConnection;

  beforeAll(async () => {
    await stream.connect();
    nc = await connect({ servers: TEST_NATS_URL });
    // Only learning_pulse.* is captured, and messages over 2,000 bytes are refused.
    await (
      await jetstreamManager(nc)
    ).streams.add({
      name: stream.stream,
      subjects: [`${stream.subjectPrefix}.learning_pulse.*`],
      max_msg_size: 2_000,
    });
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.app.close()));
  });

  afterAll(async () => {
    await stream.destroy();
    await nc.close();
    await Promise.all(tables.map((t) => t.drop()));
  });

  async function setup(options: Parameters<typeof startRelayApp>[0] = {}) {
    const table = await new TestOutboxTable().create();
    tables.push(table);
    const app = await startRelayApp({
      ...outboxOn(table, stream),
      createStream: false,
      retryBaseMs: 50,
      retryMaxMs: 100,
      ...options,
    });
    apps.push(app);
    return { table, app };
  }

  const row = async (table: TestOutboxTable, eventId: string) => (await rowState(table, eventId))!;

  const deadLetter = async (table: TestOutboxTable, eventId: string) => {
    const current = await row(table, eventId);
    return current.failed_at ? current : undefined;
  };

  it('dead-letters an event the broker can never take at once, holds its aggregate back, and lets the others flow', async () => {
    const { table, app } = await setup();
    await (await jetstreamManager(nc)).streams.update(stream.stream, { max_msg_size: 2_000 });
    const tooBig = PulseCreated.create('A', { n: 1, text: 'x'.repeat(4_000) });
    const next = PulseCreated.create('A', { n: 2 });
    const others = Array.from({ length: 5 }, (_, n) => PulseCreated.create('B', { n }));
    await table.dataSource.transaction((m) => app.repository.add(m, [tooBig, next, ...others]));

    const onStream = async (aggregate: string) =>
      (await stream.messages()).filter((m) => m.body.aggregate_id === aggregate);
    await eventually(async () => (await onStream('B')).length === 5, {
      what: "aggregate B's events",
    });
    const failed = await eventually(
      async () => (await row(table, tooBig.eventId)).failed_at && row(table, tooBig.eventId),
    );
    expect(failed.attempts).toBe(1);
    expect(failed.last_error).toMatch(/maximum/i);

    // A's next event waits behind the dead letter, tick after tick.
    const ticks = app.relay.getStatus().ticksTotal;
    await eventually(() => app.relay.getStatus().ticksTotal >= ticks + 2, {
      what: 'two more ticks',
    });
    expect((await row(table, next.eventId)).published_at).toBeNull();
    expect((await onStream('B')).map((m) => m.msgId)).toEqual(others.map((e) => e.eventId));
    expect(await onStream('A')).toEqual([]);

    const deadLetters = app.app.get(OutboxDeadLetterService);
    expect((await deadLetters.list()).map((f) => f.eventId)).toEqual([tooBig.eventId]);

    // Fix the cause, requeue: the dead letter and then the event behind it go out, in order.
    await (await jetstreamManager(nc)).streams.update(stream.stream, { max_msg_size: 1_000_000 });
    expect(await deadLetters.requeue({ eventId: tooBig.eventId })).toBe(1);
    await eventually(async () => (await onStream('A')).length === 2, {
      what: 'aggregate A after requeue',
    });
    const aggregateA = await onStream('A');
    expect(aggregateA.map((m) => m.msgId)).toEqual([tooBig.eventId, next.eventId]);
    expect((await deadLetters.list()).map((f) => f.eventId)).not.toContain(tooBig.eventId);
  });

  it('keeps an event no stream captures pending without charging attempts; the CLI lists and requeues dead letters', async () => {
    const { table, app } = await setup({ maxAttempts: 3 });
    const stray = AuditLogged.create('g-1', { n: 1 });
    const fine = PulseCreated.create('C', { n: 1 });
    const tooBig = PulseCreated.create('D', { n: 1, text: 'x'.repeat(4_000) });
    await (await jetstreamManager(nc)).streams.update(stream.stream, { max_msg_size: 2_000 });
    await table.dataSource.transaction((m) => app.repository.add(m, [stray, fine, tooBig]));

    await eventually(() => deadLetter(table, tooBig.eventId), {
      what: 'the too-big event given up',
    });
    expect((await row(table, fine.eventId)).published_at).not.toBeNull();
    // "Nobody answers this subject" is the broker's side, not the event's: it waits, uncharged.
    const ticks = app.relay.getStatus().ticksTotal;
    await eventually(() => app.relay.getStatus().ticksTotal >= ticks + 3, { what: 'three ticks' });
    expect(await row(table, stray.eventId)).toMatchObject({
      attempts: 0,
      failed_at: null,
      published_at: null,
    });

    const cli = (...args: string[]) =>
      runOutboxCli({ DATABASE_URL: TEST_DATABASE_URL, OUTBOX_TABLE: table.table }, ...args);
    const list = cli('failed', 'list');
    expect(list.status).toBe(0);
    expect(list.stdout).toContain(tooBig.eventId);
    expect(list.stdout).not.toContain(stray.eventId);

    await (await jetstreamManager(nc)).streams.update(stream.stream, { max_msg_size: 1_000_000 });
    const requeue = cli('failed', 'requeue', '--type', 'learning_pulse.created');
    expect(requeue.stdout).toContain('Requeued 1 dead letter(s).');
    await eventually(async () => (await row(table, tooBig.eventId)).published_at, {
      what: 'the requeued event published',
    });
    expect(cli('failed', 'requeue', 'not-a-uuid').status).toBe(2);
    // A typo names the command, not a missing event id.
    const bogus = cli('failed', 'bogus');
    expect(bogus.status).toBe(2);
    expect(bogus.stderr).toMatch(/Unknown command "bogus": use list, requeue or purge/);
    for (const limit of ['-1', 'ten', '99999999999999999999']) {
      const bad = cli('dead-letters', 'list', `--limit=${limit}`);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/--limit must be a whole number from 1 to 10000/);
    }
    const badUrl = runOutboxCli(
      { DATABASE_URL: 'postgres://u:hunter2@h:99999/x' },
      'dead-letters',
      'list',
    );
    expect(badUrl.status).toBe(1);
    expect(badUrl.stderr).toMatch(/DATABASE_URL: must be a postgres:\/\/ URL/);
    expect(badUrl.stderr).not.toContain('hunter2');

    // The service refuses the same input before it reaches SQL.
    const deadLetters = app.app.get(OutboxDeadLetterService);
    await expect(deadLetters.list({ limit: -1 })).rejects.toBeInstanceOf(
      InvalidDeadLetterQueryError,
    );
    await expect(deadLetters.list({ limit: 1e20 })).rejects.toThrow(/from 1 to 10000/);
    await expect(deadLetters.requeue({ eventId: "x' OR 1=1" })).rejects.toThrow(
      /is not an event id/,
    );
    await expect(
      deadLetters.purge(null as unknown as { eventType: string }),
    ).rejects.toBeInstanceOf(InvalidDeadLetterQueryError);
  });

  it('with OUTBOX_RETENTION=0 deletes a row as it is published', async () => {
    const { table, app } = await setup({ retentionMs: 0 });
    const events = Array.from({ length: 20 }, (_, n) => PulseCreated.create('R0', { n }));
    await table.dataSource.transaction((m) => app.repository.add(m, events));
    await eventually(async () => (await table.counts()).total === 0, { what: 'rows deleted' });
    const ids = new Set((await stream.messages()).map((m) => m.msgId));
    for (const e of events) expect(ids.has(e.eventId)).toBe(true);
  });

  it('purges published rows past the retention on its cron and keeps dead letters', async () => {
    const { table, app } = await setup({
      retentionMs: 1_000,
      purgeCron: '* * * * * *',
      purgeBatchSize: 7,
    });
    const events = Array.from({ length: 30 }, (_, n) => PulseCreated.create('R1', { n }));
    const doomed = PulseCreated.create('R2', { n: 0, text: 'x'.repeat(4_000) });
    await (await jetstreamManager(nc)).streams.update(stream.stream, { max_msg_size: 2_000 });
    await table.dataSource.transaction((m) => app.repository.add(m, [...events, doomed]));
    await eventually(async () => (await table.counts()).published === 30, { what: 'published' });
    await eventually(async () => (await table.counts()).total === 1, {
      what: 'published rows purged after retention',
    });
    expect((await row(table, doomed.eventId)).failed_at).not.toBeNull();
  });
});
