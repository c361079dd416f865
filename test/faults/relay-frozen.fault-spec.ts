import { eventually } from '../support/eventually.js';
import { TestStream } from '../support/jetstream.js';
import { TestOutboxTable } from '../support/outbox-table.js';
import { uniqueName } from '../support/test-env.js';
import { HeldMarks } from './held-marks.js';
import { RelayBackends } from './relay-backends.js';
import { sigkill, startRelayProcess, type RelayProcess } from './relay-process.js';
import { expectEveryCommittedEventOnceInOrder, verify, writeBacklog } from './workload.js';

// 4 × publish timeout + 10 s: how long PostgreSQL lets a claim transaction live.
const PUBLISH_TIMEOUT_MS = 500;
const LOCK_LIMIT_MS = PUBLISH_TIMEOUT_MS * 4 + 10_000;

describe('a relay frozen (SIGSTOP) while holding a claimed batch', () => {
  const table = new TestOutboxTable();
  const stream = new TestStream();
  const frozenName = uniqueName('frozen_relay');
  const workers: RelayProcess[] = [];

  beforeAll(async () => {
    await table.create();
    await (await stream.connect()).create();
  });

  afterAll(async () => {
    for (const w of workers) {
      w.kill('SIGCONT');
      await sigkill(w);
    }
    await stream.destroy();
    await table.drop();
  });

  /**
   * Pending rows some session holds locked: those a KEY SHARE probe must skip. The probe's
   * own locks end with its statement.
   */
  async function lockedPending(): Promise<string[]> {
    const rows = await table.dataSource.query<{ id: string }[]>(
      `SELECT id FROM "${table.table}" o WHERE published_at IS NULL AND id NOT IN (
         SELECT id FROM "${table.table}" WHERE published_at IS NULL FOR KEY SHARE SKIP LOCKED)`,
    );
    return rows.map((r) => r.id);
  }

  async function publishedAmong(ids: readonly string[]): Promise<number> {
    const [{ n }] = await table.dataSource.query<{ n: number }[]>(
      `SELECT count(published_at)::int AS n FROM "${table.table}" WHERE id = ANY($1::bigint[])`,
      [ids],
    );
    return n;
  }

  /** Whether any of these PostgreSQL sessions still exists. */
  async function alive(pids: readonly number[]): Promise<boolean> {
    const [{ n }] = await table.dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY($1)`,
      [pids],
    );
    return n > 0;
  }

  it('loses its locks after the limit; another relay publishes its rows, and its late mark changes nothing', async () => {
    const workload = await writeBacklog(table, stream, { events: 5_000, aggregates: 200 });

    const env = {
      OUTBOX_TABLE: table.table,
      OUTBOX_STREAM: stream.stream,
      OUTBOX_SUBJECT_PREFIX: stream.subjectPrefix,
      OUTBOX_BATCH_SIZE: '200',
      OUTBOX_MAX_IN_FLIGHT: '4',
      OUTBOX_PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS),
      // One batch at a time: the one frozen is the one waiting to mark.
      OUTBOX_RELAY_CONCURRENCY: '1',
    };
    const frozen = await startRelayProcess(env, frozenName);
    workers.push(frozen);
    const backends = new RelayBackends(table.dataSource, table.table, frozenName);
    await eventually(async () => (await table.counts()).published > 200, {
      intervalMs: 5,
      what: 'the first relay under way',
    });
    // Freeze it when its batch is published and its mark waits (the test holds the table in
    // SHARE mode): frozen during the publish, its PubAck deadline would fire first on waking,
    // and it would never try to mark at all.
    const held = await HeldMarks.hold(table.dataSource, table.table);
    let frozenSessions: number[];
    try {
      frozenSessions = await eventually(
        async () => {
          const pids = await backends.waitingToMark();
          return pids.length > 0 && pids;
        },
        { intervalMs: 3, what: 'the first relay waiting to mark a published batch' },
      );
      frozen.kill('SIGSTOP');
    } finally {
      // The mark runs in PostgreSQL now; the frozen relay never commits it.
      await held.release();
    }
    // Its mark ran; the transaction waits, idle, for a COMMIT the frozen process cannot send.
    await eventually(
      async () => {
        const holding = await backends.holdingClaim();
        return frozenSessions.every((pid) => holding.includes(pid));
      },
      { what: 'the frozen relay idle in its claim transaction, its mark done' },
    );
    const frozenAt = Date.now();
    const atFreeze = await table.counts();
    expect(atFreeze.published).toBeGreaterThan(0);
    expect(atFreeze.pending).toBeGreaterThan(0);

    // Only the frozen relay runs, so the rows locked now are its batch.
    const frozenBatch = await lockedPending();
    expect(frozenBatch.length).toBeGreaterThan(0);

    const second = await startRelayProcess(env);
    workers.push(second);
    // No row of the frozen batch may be published while the frozen session lives.
    let publishedWhileFrozen = 0;
    await eventually(
      async () => {
        const published = await publishedAmong(frozenBatch);
        if (!(await alive(frozenSessions))) return true;
        publishedWhileFrozen = Math.max(publishedWhileFrozen, published);
        return false;
      },
      { timeoutMs: LOCK_LIMIT_MS + 30_000, what: "PostgreSQL to end the frozen relay's session" },
    );
    expect(publishedWhileFrozen).toBe(0);
    await eventually(async () => (await table.counts()).pending === 0, {
      timeoutMs: LOCK_LIMIT_MS + 60_000,
      what: 'the second relay to publish everything, including the frozen batch',
    });
    const tookOver = Date.now() - frozenAt;

    // The frozen relay wakes up with a dead transaction: its late mark must fail, and change
    // nothing.
    const before = await table.counts();
    const errorsBefore = frozen.errors.length;
    frozen.kill('SIGCONT');
    // Its session is gone (PostgreSQL ended it at the limit), so whatever it does next fails.
    const lateMark = await eventually(
      () =>
        frozen.errors
          .slice(errorsBefore)
          .map((line) => /Relay tick failed: .*/.exec(line)?.[0])
          .find(Boolean),
      { what: "the frozen relay's late mark to fail" },
    );
    expect(await table.counts()).toEqual(before);

    const verdict = verify(await stream.messages(), workload);
    console.log('frozen relay:', {
      ...verdict,
      frozenSessions,
      frozenBatch: frozenBatch.length,
      tookOverAfterMs: tookOver,
      lateMark,
      lockLimitMs: LOCK_LIMIT_MS,
    });
    expectEveryCommittedEventOnceInOrder(verdict, workload);
  });
});
