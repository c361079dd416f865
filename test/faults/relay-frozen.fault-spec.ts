import type { ChildProcess } from 'node:child_process';
import { eventually } from '../support/eventually.js';
import { TestStream } from '../support/jetstream.js';
import { TestOutboxTable } from '../support/outbox-table.js';
import { startRelayApp } from '../support/relay-app.js';
import { TEST_DATABASE_URL } from '../support/test-env.js';
import { startRelayProcess } from './relay-process.js';
import {
  emptyWorkload,
  expectEveryCommittedEventOnceInOrder,
  verify,
  writeEvents,
} from './workload.js';
import { outboxOn } from '../support/outbox-options.js';

// 4 × publish timeout + 10 s: how long PostgreSQL lets a claim transaction live.
const PUBLISH_TIMEOUT_MS = 500;
const LOCK_LIMIT_MS = PUBLISH_TIMEOUT_MS * 4 + 10_000;
const FROZEN_APP_NAME = 'outbox_frozen_relay';

describe('a relay frozen (SIGSTOP) while holding a claimed batch', () => {
  const table = new TestOutboxTable();
  const stream = new TestStream();
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    await table.create();
    await (await stream.connect()).create();
  });

  afterAll(async () => {
    for (const w of workers) {
      w.kill('SIGCONT');
      w.kill('SIGKILL');
    }
    await stream.destroy();
    await table.drop();
  });

  it('loses its locks after the limit; another relay publishes its rows, and its late mark changes nothing', async () => {
    const writer = await startRelayApp({
      ...outboxOn(table, stream),
      relayEnabled: false,
    });
    const workload = emptyWorkload();
    await writeEvents(table.dataSource, writer.repository, workload, {
      events: 5_000,
      aggregates: 200,
    });
    await writer.app.close();

    const env = {
      OUTBOX_TABLE: table.table,
      OUTBOX_STREAM: stream.stream,
      OUTBOX_SUBJECT_PREFIX: stream.subjectPrefix,
      OUTBOX_BATCH_SIZE: '200',
      OUTBOX_MAX_IN_FLIGHT: '4',
      OUTBOX_PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS),
    };
    const frozen = await startRelayProcess({
      ...env,
      DATABASE_URL: `${TEST_DATABASE_URL}?application_name=${FROZEN_APP_NAME}`,
    });
    workers.push(frozen);
    await eventually(async () => (await table.counts()).published > 200, {
      intervalMs: 5,
      what: 'the first relay under way',
    });
    // Freeze it while it holds row locks in an open transaction (mid-batch). Between two
    // batches it holds nothing: then let it run a moment and freeze it again.
    const holdingLocks = async () =>
      (
        await table.dataSource.query<{ holding: boolean }[]>(
          `SELECT count(*) > 0 AS holding FROM pg_stat_activity
            WHERE application_name = $1 AND state = 'idle in transaction'`,
          [FROZEN_APP_NAME],
        )
      )[0].holding;
    const holding = await eventually(
      async () => {
        frozen.kill('SIGSTOP');
        if (await holdingLocks()) return true;
        frozen.kill('SIGCONT');
        return false;
      },
      { intervalMs: 3, what: 'the first relay frozen while it holds a batch' },
    );
    expect(holding).toBe(true);
    const frozenAt = Date.now();
    expect((await table.counts()).pending).toBeGreaterThan(0);

    const second = await startRelayProcess(env);
    workers.push(second);
    await eventually(async () => (await table.counts()).pending === 0, {
      timeoutMs: LOCK_LIMIT_MS + 60_000,
      what: 'the second relay to publish everything, including the frozen batch',
    });
    const tookOver = Date.now() - frozenAt;

    // The frozen relay wakes up with a dead transaction: its mark cannot land.
    frozen.kill('SIGCONT');
    const before = await table.counts();
    await eventually(() => frozen.errors.some((line) => /Relay tick failed/.test(line)), {
      what: "the frozen relay's late mark to fail",
    });
    expect(await table.counts()).toEqual(before);
    // Its rows could only be taken once PostgreSQL ended its transaction.
    expect(tookOver).toBeGreaterThanOrEqual(LOCK_LIMIT_MS - 1_000);

    const verdict = verify(await stream.messages(), workload);
    console.log('frozen relay:', {
      ...verdict,
      frozenHoldingLocks: holding,
      tookOverAfterMs: tookOver,
      lockLimitMs: LOCK_LIMIT_MS,
    });
    expectEveryCommittedEventOnceInOrder(verdict, workload);
  });
});
