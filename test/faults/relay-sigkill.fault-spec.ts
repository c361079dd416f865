import { eventually } from '../support/eventually.js';
import { TestStream } from '../support/jetstream.js';
import { TestOutboxTable } from '../support/outbox-table.js';
import { uniqueName } from '../support/test-env.js';
import { HeldMarks } from './held-marks.js';
import { RelayBackends } from './relay-backends.js';
import { relayStatus, sigkill, startRelayProcess, type RelayProcess } from './relay-process.js';
import { verify, writeBacklog, expectEveryCommittedEventOnceInOrder } from './workload.js';

const EVENTS = 20_000;
const KILLS = 10;

describe('relay killed with SIGKILL mid-drain', () => {
  const table = new TestOutboxTable();
  const stream = new TestStream();
  const applicationName = uniqueName('sigkilled_relay');
  let worker: RelayProcess | undefined;
  let held: HeldMarks | undefined;

  beforeAll(async () => {
    await table.create();
    await (await stream.connect()).create();
  });

  afterAll(async () => {
    if (worker) await sigkill(worker);
    await held?.release();
    await stream.destroy();
    await table.drop();
  });

  const startWorker = () =>
    startRelayProcess(
      {
        OUTBOX_TABLE: table.table,
        OUTBOX_STREAM: stream.stream,
        OUTBOX_SUBJECT_PREFIX: stream.subjectPrefix,
        OUTBOX_BATCH_SIZE: '200',
      },
      applicationName,
    );

  /** Kills the worker; the kill must end it, and land with work both done and left. */
  async function killMidRun(): Promise<void> {
    const signal = await sigkill(worker!);
    const atKill = await table.counts();
    expect(signal).toBe('SIGKILL');
    expect(atKill.published).toBeGreaterThan(0);
    expect(atKill.pending).toBeGreaterThan(0);
  }

  it(`loses nothing, publishes nothing rolled back and keeps per-aggregate order across ${KILLS + 1} kills`, async () => {
    const workload = await writeBacklog(table, stream, { events: EVENTS, aggregates: 200 });

    for (let kill = 0; kill < KILLS; kill++) {
      worker = await startWorker();
      const before = (await table.counts()).published;
      // Kill at a random point once this incarnation has made some progress; at most
      // 10 × 1,200 of the 18,000 committed, so every kill leaves work pending.
      const target = before + 200 + Math.floor(Math.random() * 1_000);
      await eventually(async () => (await table.counts()).published >= target, {
        intervalMs: 5,
        timeoutMs: 30_000,
        what: `progress before kill ${kill + 1}`,
      });
      await killMidRun();
    }

    // A random kill need not land between a PubAck and the mark's commit; this one does.
    // Every event JetStream stored whose row is not marked is published again by the next
    // relay, and JetStream must report each of those as a duplicate.
    held = await HeldMarks.hold(table.dataSource, table.table);
    worker = await startWorker();
    const backends = new RelayBackends(table.dataSource, table.table, applicationName);
    await eventually(async () => (await backends.waitingToMark()).length > 0, {
      intervalMs: 5,
      what: 'the relay to publish a batch and wait to mark it',
    });
    await killMidRun();
    const acknowledgedNotMarked = (await stream.count()) - (await table.counts()).published;
    await held.release();
    expect(acknowledgedNotMarked).toBeGreaterThan(0);

    worker = await startWorker();
    await eventually(async () => (await table.counts()).pending === 0, {
      timeoutMs: 120_000,
      what: 'the drain to finish after the last restart',
    });
    const status = await relayStatus(worker);

    const verdict = verify(await stream.messages(), workload);
    console.log(`SIGKILL x${KILLS + 1}:`, {
      ...verdict,
      acknowledgedNotMarked,
      duplicatesDropped: status.duplicatesTotal,
    });
    expectEveryCommittedEventOnceInOrder(verdict, workload);
    expect(status.duplicatesTotal).toBe(acknowledgedNotMarked);
  });
});
