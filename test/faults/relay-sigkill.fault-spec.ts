import type { ChildProcess } from 'node:child_process';
import { startRelayApp } from '../support/relay-app.js';
import { eventually } from '../support/eventually.js';
import { TestStream } from '../support/jetstream.js';
import { TestOutboxTable } from '../support/outbox-table.js';
import { startRelayProcess } from './relay-process.js';
import {
  emptyWorkload,
  verify,
  writeEvents,
  expectEveryCommittedEventOnceInOrder,
} from './workload.js';
import { outboxOn } from '../support/outbox-options.js';

const EVENTS = 20_000;
const KILLS = 10;

describe('relay killed with SIGKILL mid-drain', () => {
  const table = new TestOutboxTable();
  const stream = new TestStream();
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    await table.create();
    await (await stream.connect()).create();
  });

  afterAll(async () => {
    worker?.kill('SIGKILL');
    await stream.destroy();
    await table.drop();
  });

  const startWorker = () =>
    startRelayProcess({
      OUTBOX_TABLE: table.table,
      OUTBOX_STREAM: stream.stream,
      OUTBOX_SUBJECT_PREFIX: stream.subjectPrefix,
      OUTBOX_BATCH_SIZE: '200',
    });

  it(`loses nothing, publishes nothing rolled back and keeps per-aggregate order across ${KILLS} kills`, async () => {
    const writer = await startRelayApp({
      ...outboxOn(table, stream),
      relayEnabled: false,
    });
    const workload = emptyWorkload();
    await writeEvents(table.dataSource, writer.repository, workload, {
      events: EVENTS,
      aggregates: 200,
    });
    await writer.app.close();

    for (let kill = 0; kill < KILLS; kill++) {
      worker = await startWorker();
      const before = (await table.counts()).published;
      // Kill at a random point once this incarnation has made some progress.
      const target = before + 200 + Math.floor(Math.random() * 1_500);
      await eventually(
        async () => (await table.counts()).published >= Math.min(target, workload.committed.size),
        {
          intervalMs: 5,
          timeoutMs: 30_000,
          what: `progress before kill ${kill + 1}`,
        },
      );
      const exited = new Promise((resolve) => worker!.once('exit', resolve));
      worker.kill('SIGKILL');
      await exited;
    }
    worker = await startWorker();
    await eventually(async () => (await table.counts()).pending === 0, {
      timeoutMs: 120_000,
      what: 'the drain to finish after the last restart',
    });
    worker.kill('SIGTERM');

    const verdict = verify(await stream.messages(), workload);
    console.log(`SIGKILL x${KILLS}:`, verdict);
    expectEveryCommittedEventOnceInOrder(verdict, workload);
  });
});
