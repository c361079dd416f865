import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import {
  checkTarget,
  formatNumber,
  readmeRow,
  sleep,
  summarizeRates,
  type RateSummary,
  type ScenarioReport,
  type TargetCheck,
} from './bench-support.js';
import {
  BenchOutbox,
  connectServices,
  PAYLOAD_BYTES,
  PAYLOAD_PAD,
  unique,
} from './outbox-fixture.js';
import { startRelay } from './relay-harness.js';

export interface DrainResult {
  readonly scenario: 'drain';
  readonly events: number;
  readonly payloadBytes: number;
  readonly oneRelay: RateSummary;
  readonly twoRelays: RateSummary;
  readonly claimMarkCeiling: RateSummary;
  readonly publishCeiling: RateSummary;
  readonly combinedCeilingEventsPerSecond: number;
  readonly oneRelayRatioToCombined: number;
  readonly streamHeldEachIdOnce: boolean;
}

/** Issue #6: one relay drains ≥ 15,000 events/s, and ≥ 0.85 × what its two halves allow. */
const TARGET_EVENTS_PER_SECOND = 15_000;
const TARGET_RATIO_TO_COMBINED = 0.85;

const BATCH = 500;
const IN_FLIGHT = 256;

/**
 * Drain rate of the real relay (one and two instances) on `events` pending ~1 KB events,
 * beside the two raw halves measured in the same run: claim+mark with plain `pg` and no
 * broker, and pipelined acknowledged JetStream publishes with the bare client and no database.
 */
export async function benchDrain(
  databaseUrl: string,
  natsUrl: string,
  events: number,
  runs: number,
): Promise<DrainResult> {
  const { admin, nc, jsm, close } = await connectServices(databaseUrl, natsUrl);
  const oneRelay: number[] = [];
  const twoRelays: number[] = [];
  const claimMark: number[] = [];
  const publish: number[] = [];
  let eachIdOnce = true;
  try {
    for (let run = 0; run < runs; run++) {
      for (const relays of [1, 2]) {
        const rate = await drainOnce(admin, jsm, databaseUrl, natsUrl, events, relays);
        (relays === 1 ? oneRelay : twoRelays).push(rate.eventsPerSecond);
        eachIdOnce &&= rate.eachIdOnce;
      }
      claimMark.push(await claimMarkOnce(admin, databaseUrl, events));
      publish.push(await publishOnce(nc, jsm, events));
    }
  } finally {
    await close();
  }
  const rate = summarizeRates;
  const claim = rate(claimMark);
  const pub = rate(publish);
  const combined = 1 / (1 / claim.median + 1 / pub.median);
  const one = rate(oneRelay);
  return {
    scenario: 'drain',
    events,
    payloadBytes: PAYLOAD_BYTES,
    oneRelay: one,
    twoRelays: rate(twoRelays),
    claimMarkCeiling: claim,
    publishCeiling: pub,
    combinedCeilingEventsPerSecond: Math.round(combined),
    oneRelayRatioToCombined: Math.round((one.median / combined) * 100) / 100,
    streamHeldEachIdOnce: eachIdOnce,
  };
}

async function drainOnce(
  admin: DataSource,
  jsm: JetStreamManager,
  databaseUrl: string,
  natsUrl: string,
  events: number,
  relays: number,
): Promise<{ eventsPerSecond: number; eachIdOnce: boolean }> {
  const fixture = new BenchOutbox(admin, jsm, 'bench_drain');
  const started: Awaited<ReturnType<typeof startRelay>>[] = [];
  try {
    await fixture.createSeeded(events);
    const t0 = performance.now();
    for (let i = 0; i < relays; i++) {
      started.push(
        await startRelay(databaseUrl, {
          ...fixture.relayOptions(natsUrl),
          batchSize: BATCH,
          maxInFlight: IN_FLIGHT,
        }),
      );
    }
    // The relays are in this process: their counters say when they are done, at no cost to
    // the database they are measured on.
    const published = () => started.reduce((n, s) => n + s.relay.getStatus().publishedTotal, 0);
    while (published() < events) await sleep(5);
    const seconds = (performance.now() - t0) / 1000;
    return {
      eventsPerSecond: Math.round(events / seconds),
      eachIdOnce: (await fixture.storedMessages()) === events,
    };
  } finally {
    await Promise.all(started.map((s) => s.app.close()));
    await fixture.drop();
  }
}

/** The database half alone: claim a batch with SKIP LOCKED, mark it, commit; no broker. */
async function claimMarkOnce(admin: DataSource, databaseUrl: string, events: number) {
  const fixture = new BenchOutbox(admin, undefined, 'bench_claim');
  const { table } = fixture;
  const client = new Client({ connectionString: databaseUrl });
  try {
    await fixture.createSeeded(events);
    await client.connect();
    const t0 = performance.now();
    for (;;) {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: string }>(
        // The whole pending predicate, as a hand-written relay on this table would write it:
        // with "published_at IS NULL" alone the planner walks the primary key past every
        // published row, and each claim gets slower as the drain goes on.
        `SELECT id, event_id, payload FROM "${table}"
          WHERE published_at IS NULL AND failed_at IS NULL
          ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [BATCH],
      );
      await client.query(
        `UPDATE "${table}" SET published_at = now() WHERE id = ANY($1::bigint[])`,
        [rows.map((r) => r.id)],
      );
      await client.query('COMMIT');
      if (rows.length < BATCH) break;
    }
    return Math.round(events / ((performance.now() - t0) / 1000));
  } finally {
    await client.end();
    await fixture.drop();
  }
}

/** The broker half alone: pipelined, acknowledged JetStream publishes; no database. */
async function publishOnce(nc: NatsConnection, jsm: JetStreamManager, events: number) {
  const stream = unique('BENCH_PUB').toUpperCase();
  const subject = unique('benchpub').replace(/_/g, '-');
  await jsm.streams.add({ name: stream, subjects: [`${subject}.>`] });
  const js = jetstream(nc);
  const body = new TextEncoder().encode(JSON.stringify({ n: 0, pad: PAYLOAD_PAD }));
  try {
    const t0 = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < events) {
        const n = next++;
        await js.publish(`${subject}.recorded`, body, { msgID: `m-${n}` });
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    return Math.round(events / ((performance.now() - t0) / 1000));
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
  }
}

export function reportDrain(drain: DrainResult): ScenarioReport {
  const perSecond = (r: RateSummary) => ({
    'median events/s': r.median,
    'min events/s': r.min,
    'max events/s': r.max,
    runs: r.runs,
  });
  const scenario = `drain, ${formatNumber(drain.events)} pending ~1 KB events`;
  const targets = [
    checkTarget({
      scenario,
      target: `≥ ${formatNumber(TARGET_EVENTS_PER_SECOND)}/s`,
      value: drain.oneRelay.median,
      unit: '/s',
      limit: TARGET_EVENTS_PER_SECOND,
      atMost: false,
    }),
    checkTarget({
      scenario,
      target: `≥ ${TARGET_RATIO_TO_COMBINED} × combined ceiling`,
      value: drain.oneRelayRatioToCombined,
      unit: '×',
      limit: TARGET_RATIO_TO_COMBINED,
      atMost: false,
    }),
  ];
  const rate = (label: string, r: RateSummary, checks: TargetCheck[] = []) =>
    readmeRow(
      label,
      `${formatNumber(r.median)} events/s`,
      formatNumber(r.min),
      formatNumber(r.max),
      checks,
    );
  return {
    tables: {
      [scenario]: {
        'relay, 1 instance': perSecond(drain.oneRelay),
        'relay, 2 instances': perSecond(drain.twoRelays),
        'baseline: claim+mark, plain pg, no broker': perSecond(drain.claimMarkCeiling),
        'baseline: pipelined acked JetStream publish, no db': perSecond(drain.publishCeiling),
      },
    },
    lines: [
      `drain: 1 relay ${formatNumber(drain.oneRelay.median)}/s = ${drain.oneRelayRatioToCombined} × ` +
        `the combined ceiling ${formatNumber(drain.combinedCeilingEventsPerSecond)}/s; ` +
        `stream held each id once: ${drain.streamHeldEachIdOnce}`,
    ],
    targets,
    readme: [
      rate(`${scenario}, 1 relay`, drain.oneRelay, targets),
      rate('drain, 2 relays', drain.twoRelays),
      rate('baseline: claim + mark with plain `pg`, no broker', drain.claimMarkCeiling),
      rate(
        'baseline: pipelined acknowledged JetStream publishes, no database',
        drain.publishCeiling,
      ),
      readmeRow(
        'combined ceiling, 1 / (1/claim + 1/publish)',
        `${formatNumber(drain.combinedCeilingEventsPerSecond)} events/s`,
      ),
    ],
  };
}
