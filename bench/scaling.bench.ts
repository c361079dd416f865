import { cpus } from 'node:os';
import type { DataSource } from 'typeorm';
import { wakeupChannel } from '../src/outbox/wakeup/wakeup.sql.js';
import {
  formatNumber,
  readmeRow,
  sleep,
  summarizeRates,
  type RateSummary,
  type ScenarioReport,
} from './bench-support.js';
import { BenchOutbox, connectServices } from './outbox-fixture.js';
import { spawnRelay, type RelayProcess } from './relay-harness.js';

const SAMPLE_EVERY_MS = 50;
/** A drain that publishes nothing for this long has failed; it is not waited for. */
const STALL_MS = 30_000;

export interface ScalingRow {
  readonly relays: number;
  /** All relays together. */
  readonly eventsPerSecond: RateSummary;
  /** Per run, what each relay published of the backlog (its share). */
  readonly publishedByRelay: number[][];
  readonly eachIdOnce: boolean;
  /** Every aggregate's events stored in the order they were seeded, in every run. */
  readonly inAggregateOrder: boolean;
}

export interface ScalingResult {
  readonly scenario: 'scaling';
  readonly events: number;
  readonly cpus: number;
  readonly rows: ScalingRow[];
}

/**
 * Replicas sharing one backlog: 1, 2 and 4 relays, each in a process of its own with the
 * default settings, drain the same `events` pending ~1 KB events. The relays start on an empty
 * table and wait; the backlog then appears in one committed INSERT … SELECT, analyzed and
 * sending their wake-up in the same transaction, so the clock starts at that commit and no
 * relay has a head start.
 */
export async function benchScaling(
  databaseUrl: string,
  natsUrl: string,
  options: { events: number; relays: readonly number[]; runs: number },
): Promise<ScalingResult> {
  const { admin, jsm, close } = await connectServices(databaseUrl, natsUrl);
  const rows: ScalingRow[] = [];
  try {
    for (const relays of options.relays) {
      const rates: number[] = [];
      const shares: number[][] = [];
      let eachIdOnce = true;
      let inAggregateOrder = true;
      for (let run = 0; run < options.runs; run++) {
        const fixture = new BenchOutbox(admin, jsm, 'bench_scaling');
        const started: RelayProcess[] = [];
        try {
          await fixture.create();
          for (let i = 0; i < relays; i++) {
            started.push(
              await spawnRelay(databaseUrl, fixture.relayOptions(natsUrl), SAMPLE_EVERY_MS),
            );
          }
          const t0 = await appear(admin, fixture, options.events);
          const seconds = (await drained(started, options.events, t0)) / 1000;
          rates.push(Math.round(options.events / seconds));
          shares.push(started.map((p) => p.samples.at(-1)?.published ?? 0));
          eachIdOnce &&= (await fixture.storedMessages()) === options.events;
          inAggregateOrder &&= await fixture.inAggregateOrder();
        } finally {
          await Promise.all(started.map((p) => p.stop()));
          await fixture.drop();
        }
      }
      rows.push({
        relays,
        eventsPerSecond: summarizeRates(rates),
        publishedByRelay: shares,
        eachIdOnce,
        inAggregateOrder,
      });
    }
  } finally {
    await close();
  }
  return { scenario: 'scaling', events: options.events, cpus: cpus().length, rows };
}

/** The backlog, committed at once with the relays' wake-up; returns the time of the commit. */
async function appear(admin: DataSource, fixture: BenchOutbox, events: number): Promise<number> {
  const runner = admin.createQueryRunner();
  try {
    await runner.startTransaction();
    await runner.query(...fixture.seedStatement(events));
    // Statistics for the new rows, committed with them: ANALYZE in the inserting transaction
    // counts its own rows. Without it the relays plan their claims for an empty table, and
    // drain at a fraction of their rate until autovacuum gets to it.
    await runner.query(`ANALYZE "${fixture.table}"`);
    await runner.query(`SELECT pg_notify($1, '')`, [wakeupChannel(fixture.table)]);
    await runner.commitTransaction();
    return performance.now();
  } finally {
    await runner.release();
  }
}

/** Milliseconds from `t0` until the relays' reported counts add up to `events`. */
async function drained(relays: readonly RelayProcess[], events: number, t0: number) {
  let progress = { published: -1, atMs: performance.now() };
  for (;;) {
    const latest = relays.map((r) => r.samples.at(-1));
    const published = latest.reduce((n, s) => n + (s?.published ?? 0), 0);
    if (published >= events) return Math.max(...latest.map((s) => s!.atMs)) - t0;
    if (published > progress.published) progress = { published, atMs: performance.now() };
    if (performance.now() - progress.atMs > STALL_MS) {
      throw new Error(`scaling: the relays stalled at ${published} of ${events} events`);
    }
    await sleep(SAMPLE_EVERY_MS / 2);
  }
}

export function reportScaling(scaling: ScalingResult): ScenarioReport {
  const scenario = `replicas, ${formatNumber(scaling.events)} pending ~1 KB events, each relay in its own process`;
  const one = scaling.rows.find((r) => r.relays === 1)?.eventsPerSecond.median;
  const table: Record<string, Record<string, unknown>> = {};
  for (const row of scaling.rows) {
    table[`${row.relays} relay${row.relays > 1 ? 's' : ''}`] = {
      'median events/s': row.eventsPerSecond.median,
      'min events/s': row.eventsPerSecond.min,
      'max events/s': row.eventsPerSecond.max,
      'per relay': Math.round(row.eventsPerSecond.median / row.relays),
      '÷ 1 relay': one ? Math.round((row.eventsPerSecond.median / one) * 100) / 100 : '',
      'shares, last run': row.publishedByRelay.at(-1)!.join(' / '),
      'each id once': row.eachIdOnce,
      'order per aggregate': row.inAggregateOrder,
    };
  }
  return {
    tables: { [scenario]: table },
    lines: [
      `replicas: on ${scaling.cpus} cores shared with PostgreSQL and nats-server; ` +
        `every stored id once: ${scaling.rows.every((r) => r.eachIdOnce)}`,
      `order per aggregate kept: ${scaling.rows.every((r) => r.inAggregateOrder)}`,
    ],
    targets: [],
    readme: scaling.rows.map((row) =>
      readmeRow(
        `replicas: ${row.relays} relay process${row.relays > 1 ? 'es' : ''} on one backlog`,
        `${formatNumber(row.eventsPerSecond.median)} events/s ` +
          `(${formatNumber(row.eventsPerSecond.median / row.relays)} per relay)`,
        formatNumber(row.eventsPerSecond.min),
        formatNumber(row.eventsPerSecond.max),
      ),
    ),
  };
}
