import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import {
  checkTarget,
  envNumber,
  formatNumber,
  interleaved,
  median,
  readmeRow,
  sleep,
  summarizeRates,
  type CpuPerEvent,
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
import { leanDrain, type LeanRelaySettings } from './lean-relay.js';
import {
  CpuMeter,
  medianSplit,
  microsPer,
  type CpuSnapshot,
  type CpuSplit,
} from './process-cpu.js';
import { startRelay } from './relay-harness.js';

export interface DrainResult {
  readonly scenario: 'drain';
  readonly events: number;
  readonly payloadBytes: number;
  readonly oneRelay: RateSummary;
  /** The hand-written reference relay (bench/lean-relay.ts) on the same backlog, same runs. */
  readonly lean: RateSummary;
  readonly leanSettings: LeanRelaySettings;
  /** Per run: the library's rate ÷ the lean relay's. */
  readonly ratioToLean: RateSummary;
  readonly claimMarkCeiling: RateSummary;
  readonly publishCeiling: RateSummary;
  readonly combinedCeilingEventsPerSecond: number;
  readonly oneRelayRatioToCombined: number;
  readonly streamHeldEachIdOnce: boolean;
  /**
   * CPU per event while each drained, medians of the runs: the bench process (the relay and
   * little else) and the whole machine (the relay, PostgreSQL, nats-server and anything else
   * running). Where the two relays differ, this says on which side.
   */
  readonly cpuMicrosPerEvent: Readonly<Record<Variant, CpuPerEvent>>;
  /**
   * The same split by process (medians of the runs): the relay (the bench process),
   * PostgreSQL (all its processes), nats-server, the rest of the machine, and the total.
   */
  readonly cpuByProcessMicrosPerEvent: Readonly<Record<Variant, CpuSplit>>;
  /**
   * The library with `retentionMs: 0`: the mark is a DELETE rather than an UPDATE, which
   * PostgreSQL does for a tenth of the cost (no new row version, no index entries). Not the
   * default (published rows are kept 7 days), so not what the target is measured on.
   */
  readonly deleting: RateSummary;
  readonly deletingRatioToLean: RateSummary;
}

/**
 * Issue #6: one relay drains ≥ 15,000 events/s, and ≥ 0.85 × what its two halves allow;
 * issue "Speed": at least as fast as the lean hand-written relay.
 */
const TARGET_EVENTS_PER_SECOND = 15_000;
const TARGET_RATIO_TO_COMBINED = 0.85;
const TARGET_RATIO_TO_LEAN = 1;

/** 1,000-row claims; a few in flight so claims, publishes and marks overlap. */
const LEAN: LeanRelaySettings = {
  batch: 1_000,
  inFlight: envNumber('BENCH_LEAN_IN_FLIGHT', 3),
  ackTimeoutMs: 10_000,
};

const BATCH = 500;
const IN_FLIGHT = 256;

/**
 * Drain rate of the real relay on `events` pending ~1 KB events, beside, in the same run: the
 * lean hand-written relay on an identical backlog (taking turns with the library, so both see
 * the same load), and the two raw halves: claim+mark with plain `pg` and no broker, and
 * pipelined acknowledged JetStream publishes with the bare client and no database.
 */
export async function benchDrain(
  databaseUrl: string,
  natsUrl: string,
  events: number,
  runs: number,
): Promise<DrainResult> {
  const { admin, nc, jsm, close } = await connectServices(databaseUrl, natsUrl);
  const rates: Record<Variant, number[]> = { library: [], deleting: [], lean: [] };
  const byProcess: Record<Variant, CpuSplit[]> = { library: [], deleting: [], lean: [] };
  const meter = new CpuMeter(admin);
  const claimMark: number[] = [];
  const publish: number[] = [];
  let eachIdOnce = true;
  try {
    for (let run = 0; run < runs; run++) {
      await interleaved(VARIANTS, 1, async (variant) => {
        const rate =
          variant === 'lean'
            ? await leanOnce(admin, jsm, nc, meter, databaseUrl, events)
            : await drainOnce(
                admin,
                jsm,
                meter,
                databaseUrl,
                natsUrl,
                events,
                variant === 'deleting',
              );
        rates[variant].push(rate.eventsPerSecond);
        byProcess[variant].push(rate.byProcess);
        eachIdOnce &&= rate.eachIdOnce;
      });
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
  const one = rate(rates.library);
  // Each run's rate ÷ the lean relay's in the same run.
  const toLean = (own: readonly number[]) =>
    rate(own.map((r, i) => Math.round((r / rates.lean[i]) * 1000) / 1000));
  return {
    scenario: 'drain',
    events,
    payloadBytes: PAYLOAD_BYTES,
    oneRelay: one,
    lean: rate(rates.lean),
    leanSettings: LEAN,
    ratioToLean: toLean(rates.library),
    deleting: rate(rates.deleting),
    deletingRatioToLean: toLean(rates.deleting),
    claimMarkCeiling: claim,
    publishCeiling: pub,
    combinedCeilingEventsPerSecond: Math.round(combined),
    oneRelayRatioToCombined: Math.round((one.median / combined) * 100) / 100,
    streamHeldEachIdOnce: eachIdOnce,
    cpuMicrosPerEvent: {
      library: relayAndMachine(byProcess.library),
      deleting: relayAndMachine(byProcess.deleting),
      lean: relayAndMachine(byProcess.lean),
    },
    cpuByProcessMicrosPerEvent: {
      library: medianSplit(byProcess.library, DRAIN_BUCKETS),
      deleting: medianSplit(byProcess.deleting, DRAIN_BUCKETS),
      lean: medianSplit(byProcess.lean, DRAIN_BUCKETS),
    },
  };
}

/** The library with its defaults, the library deleting on publish, the lean relay. */
const VARIANTS = ['library', 'deleting', 'lean'] as const;
type Variant = (typeof VARIANTS)[number];

async function drainOnce(
  admin: DataSource,
  jsm: JetStreamManager,
  meter: CpuMeter,
  databaseUrl: string,
  natsUrl: string,
  events: number,
  deleteOnPublish: boolean,
): Promise<DrainRate> {
  const fixture = new BenchOutbox(admin, jsm, 'bench_drain');
  let started: Awaited<ReturnType<typeof startRelay>> | undefined;
  try {
    await fixture.createSeeded(events);
    started = await startRelay(databaseUrl, {
      ...fixture.relayOptions(natsUrl),
      ...(deleteOnPublish ? { retentionMs: 0 } : {}),
      batchSize: BATCH,
      maxInFlight: IN_FLIGHT,
    });
    // Timed from when the application is up, as the lean relay is timed from when its
    // connections are: what either published while starting counts for neither. The relay is
    // in this process, so its counter says when it is done, at no cost to the database.
    const published = () => started!.relay.getStatus().publishedTotal;
    const byProcess0 = await meter.sample();
    const t0 = performance.now();
    const before = published();
    while (published() < events) await sleep(5);
    const seconds = (performance.now() - t0) / 1000;
    return {
      eventsPerSecond: Math.round((events - before) / seconds),
      byProcess: perEvent(byProcess0, await meter.sample(), events - before),
      eachIdOnce: (await fixture.storedMessages()) === events,
    };
  } finally {
    await started?.app.close();
    await fixture.drop();
  }
}

/** The lean relay on the same backlog, in this process like the library's. */
async function leanOnce(
  admin: DataSource,
  jsm: JetStreamManager,
  nc: NatsConnection,
  meter: CpuMeter,
  databaseUrl: string,
  events: number,
): Promise<DrainRate> {
  const fixture = new BenchOutbox(admin, jsm, 'bench_lean');
  try {
    await fixture.createSeeded(events);
    // Also counts its three connections opening and closing: milliseconds, in seconds.
    const byProcess0 = await meter.sample();
    const drain = await leanDrain(databaseUrl, nc, fixture, LEAN);
    const byProcess = perEvent(byProcess0, await meter.sample(), drain.marked);
    if (drain.refused > 0) throw new Error(`lean relay: ${drain.refused} publishes refused`);
    return {
      eventsPerSecond: Math.round(drain.marked / drain.seconds),
      byProcess,
      eachIdOnce: drain.marked === events && (await fixture.storedMessages()) === events,
    };
  } finally {
    await fixture.drop();
  }
}

interface DrainRate {
  readonly eventsPerSecond: number;
  readonly eachIdOnce: boolean;
  /** CPU µs per event, by process (`DRAIN_BUCKETS`). */
  readonly byProcess: CpuSplit;
}

/** The buckets of `cpuByProcessMicrosPerEvent`. */
const DRAIN_BUCKETS = ['relay', 'postgres', 'nats-server', 'rest', 'total'] as const;

/** CPU µs per event between two samples: the relay (this process), PostgreSQL, nats-server. */
function perEvent(from: CpuSnapshot, to: CpuSnapshot, events: number): CpuSplit {
  const split = CpuMeter.split(from, to, (label) =>
    label === 'postgres' || label.startsWith('pg: ') ? 'postgres' : label,
  );
  return microsPer(split, events, 'relay');
}

function cpuText(cpu: CpuPerEvent): string {
  return `${cpu.processMicros} µs; ${cpu.machineMicros} µs`;
}

/** The relay's process and the whole machine, medians of the runs' splits. */
function relayAndMachine(runs: readonly CpuSplit[]): CpuPerEvent {
  return {
    processMicros: median(runs.map((r) => r.relay)),
    machineMicros: median(runs.map((r) => r.total)),
  };
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
  const leanTargets = [
    checkTarget({
      scenario,
      target: `≥ ${TARGET_RATIO_TO_LEAN} × the lean relay`,
      value: drain.ratioToLean.median,
      unit: '×',
      limit: TARGET_RATIO_TO_LEAN,
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
  const byProcess: Record<string, CpuSplit> = {
    library: drain.cpuByProcessMicrosPerEvent.library,
    'library, retention 0': drain.cpuByProcessMicrosPerEvent.deleting,
    'lean relay': drain.cpuByProcessMicrosPerEvent.lean,
  };
  return {
    tables: {
      [scenario]: {
        'relay, 1 instance': perSecond(drain.oneRelay),
        'relay, 1 instance, retention 0 (deletes on publish)': perSecond(drain.deleting),
        [`lean hand-written relay (${drain.leanSettings.inFlight} × ${drain.leanSettings.batch}-row claims in flight)`]:
          perSecond(drain.lean),
        'baseline: claim+mark, plain pg, no broker': perSecond(drain.claimMarkCeiling),
        'baseline: pipelined acked JetStream publish, no db': perSecond(drain.publishCeiling),
      },
      [`${scenario}: CPU µs per event by process`]: byProcess,
    },
    lines: [
      `drain: 1 relay ${formatNumber(drain.oneRelay.median)}/s = ${drain.oneRelayRatioToCombined} × ` +
        `the combined ceiling ${formatNumber(drain.combinedCeilingEventsPerSecond)}/s, ` +
        `${drain.ratioToLean.median} × the lean relay (${formatNumber(drain.lean.median)}/s); ` +
        `stream held each id once: ${drain.streamHeldEachIdOnce}`,
      `drain with retention 0 (delete on publish): ${formatNumber(drain.deleting.median)}/s, ` +
        `${drain.deletingRatioToLean.median} × the lean relay`,
      `drain CPU per event: library ${cpuText(drain.cpuMicrosPerEvent.library)}; ` +
        `deleting ${cpuText(drain.cpuMicrosPerEvent.deleting)}; ` +
        `lean ${cpuText(drain.cpuMicrosPerEvent.lean)}`,
    ],
    targets: [...targets, ...leanTargets],
    readme: [
      rate(`${scenario}, 1 relay`, drain.oneRelay, targets),
      rate(
        `reference: lean hand-written relay, plain \`pg\` + core NATS client, ${drain.leanSettings.inFlight} × ${formatNumber(drain.leanSettings.batch)}-row batches in flight`,
        drain.lean,
      ),
      readmeRow(
        'library ÷ lean, per run',
        `${drain.ratioToLean.median}×`,
        `${drain.ratioToLean.min}×`,
        `${drain.ratioToLean.max}×`,
        leanTargets,
      ),
      rate('baseline: claim + mark with plain `pg`, no broker', drain.claimMarkCeiling),
      rate(
        'baseline: pipelined acknowledged JetStream publishes, no database',
        drain.publishCeiling,
      ),
      readmeRow(
        'CPU per event while draining: library (its process; the whole machine)',
        cpuText(drain.cpuMicrosPerEvent.library),
      ),
      rate('library with `OUTBOX_RETENTION=0`: the mark deletes (not the default)', drain.deleting),
      readmeRow(
        'library with `OUTBOX_RETENTION=0` ÷ lean, per run',
        `${drain.deletingRatioToLean.median}×`,
        `${drain.deletingRatioToLean.min}×`,
        `${drain.deletingRatioToLean.max}×`,
      ),
      readmeRow(
        'CPU per event while draining: library with `OUTBOX_RETENTION=0` (its process; the whole machine)',
        cpuText(drain.cpuMicrosPerEvent.deleting),
      ),
      readmeRow(
        'CPU per event while draining: lean relay (its process; the whole machine)',
        cpuText(drain.cpuMicrosPerEvent.lean),
      ),
      readmeRow(
        'combined ceiling, 1 / (1/claim + 1/publish)',
        `${formatNumber(drain.combinedCeilingEventsPerSecond)} events/s`,
      ),
    ],
  };
}
