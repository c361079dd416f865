import type { DataSource } from 'typeorm';
import type { DomainEvent, OutboxRepository } from '../../src/outbox/index.js';
import { eventually } from '../support/eventually.js';
import { TestStream } from '../support/jetstream.js';
import { TestOutboxTable } from '../support/outbox-table.js';
import { startRelayApp, type RelayApp } from '../support/relay-app.js';
import { uniqueName } from '../support/test-env.js';
import {
  emptyWorkload,
  LessonStep,
  verify,
  type Workload,
  expectEveryCommittedEventOnceInOrder,
} from './workload.js';
import { outboxOn } from '../support/outbox-options.js';

const WRITERS = 4;
const TRANSACTIONS_PER_WRITER = 400;
const AGGREGATES = 200;

/**
 * One writer: transactions of 1–5 events on random aggregates. Each event takes the next
 * number of its aggregate from a counter row, whose lock orders writers of one aggregate the
 * way an aggregate's own row would: that number is the order the broker must keep.
 */
async function writer(
  dataSource: DataSource,
  repository: OutboxRepository,
  counters: string,
  workload: Workload,
): Promise<void> {
  for (let t = 0; t < TRANSACTIONS_PER_WRITER; t++) {
    const aggregates = Array.from(
      { length: 1 + Math.floor(Math.random() * 5) },
      () => `lesson-${Math.floor(Math.random() * AGGREGATES)}`,
    ).sort(); // one lock order for everyone: no deadlocks
    const rollBack = Math.random() < 0.1;
    const written: [DomainEvent<{ seq: number }>, string][] = [];
    try {
      await dataSource.transaction(async (m) => {
        for (const aggregate of aggregates) {
          const [{ seq }] = await m.query<{ seq: number }[]>(
            `INSERT INTO "${counters}" (aggregate, seq) VALUES ($1, 1)
             ON CONFLICT (aggregate) DO UPDATE SET seq = "${counters}".seq + 1 RETURNING seq`,
            [aggregate],
          );
          written.push([LessonStep.create(aggregate, { seq }), aggregate]);
        }
        await repository.add(
          m,
          written.map(([e]) => e),
        );
        if (rollBack) throw new Error('rolled back on purpose');
      });
      for (const [e, aggregate] of written) {
        workload.committed.set(e.eventId, { aggregate, seq: e.payload.seq });
      }
    } catch {
      for (const [e] of written) workload.rolledBack.add(e.eventId);
    }
  }
}

describe('four relays and four writers at once', () => {
  const table = new TestOutboxTable();
  const stream = new TestStream();
  const counters = uniqueName('counters');
  const relays: RelayApp[] = [];

  beforeAll(async () => {
    await table.create();
    await table.dataSource.query(
      `CREATE TABLE "${counters}" (aggregate text PRIMARY KEY, seq int NOT NULL)`,
    );
    await (await stream.connect()).create();
  });

  afterAll(async () => {
    await Promise.all(relays.map((r) => r.app.close()));
    await stream.destroy();
    await table.dataSource.query(`DROP TABLE IF EXISTS "${counters}"`);
    await table.drop();
  });

  it('publishes every committed event once, none rolled back, in each aggregate’s commit order', async () => {
    const options = {
      ...outboxOn(table, stream),
      createStream: false,
      batchSize: 100,
    };
    relays.push(...(await Promise.all(Array.from({ length: 4 }, () => startRelayApp(options)))));
    const workload = emptyWorkload();
    await Promise.all(
      Array.from({ length: WRITERS }, () =>
        writer(table.dataSource, relays[0].repository, counters, workload),
      ),
    );
    await eventually(async () => (await table.counts()).pending === 0, {
      timeoutMs: 120_000,
      what: 'the drain to finish',
    });

    const verdict = verify(await stream.messages(), workload);
    const published = relays.map((r) => r.relay.getStatus().publishedTotal);
    console.log('4 relays x 4 writers:', { ...verdict, publishedPerRelay: published });
    expectEveryCommittedEventOnceInOrder(verdict, workload);
    expect(published.filter((n) => n > 0).length).toBeGreaterThan(1);
  });
});
