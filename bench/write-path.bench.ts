import { groupOutboxOptions } from '../tools/flat-outbox-options.js';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { resolveOutboxOptions } from '../src/outbox/config/resolve-outbox-options.js';
import { OutboxRepository } from '../src/outbox/write/outbox.repository.js';
import { wakeupChannel } from '../src/outbox/wakeup/wakeup.sql.js';
import {
  checkTarget,
  formatNumber,
  interleaved,
  notMeasured,
  sleep,
  readmeRow,
  summarizeRates,
  type RateSummary,
  type ScenarioReport,
  type TargetCheck,
} from './bench-support.js';
import {
  BenchOutbox,
  benchEvent,
  connectServices,
  PAYLOAD_BYTES,
  unique,
  type WakeupMode,
} from './outbox-fixture.js';
import { createMinimalEventTableSql, insertMinimalEvent } from './minimal-event-table.js';
import {
  CpuMeter,
  medianSplit,
  microsPer,
  withApplicationName,
  type CpuSplit,
} from './process-cpu.js';
import { spawnRelay } from './relay-harness.js';

/** What one transaction of a variant does beyond inserting the business row. */
interface Variant {
  readonly name:
    | 'business'
    | 'minimal-insert'
    | 'outbox-no-relay'
    | 'outbox-notify-no-relay'
    | 'outbox-off'
    | 'outbox-notify'
    | 'outbox-naive-notify';
  readonly label: string;
  /**
   * The event each transaction adds: none, one ~1 KB event with `OutboxRepository.add`, or
   * the same row by a plain INSERT into a table of the same columns with only a primary key.
   */
  readonly event: 'none' | 'outbox' | 'minimal';
  /** A relay in its own process drains the events meanwhile, as in production. */
  readonly relay: boolean;
  readonly mode: WakeupMode;
  /**
   * A `pg_notify` on the relay's channel in every transaction, busy relay or not, instead of
   * the idle-flag check: the naive wake-up, whose cost the design avoids.
   */
  readonly naiveNotify: boolean;
}

const VARIANTS: readonly Variant[] = [
  {
    name: 'business',
    label: 'business row only',
    event: 'none',
    relay: false,
    mode: 'off',
    naiveNotify: false,
  },
  {
    name: 'minimal-insert',
    label: '+ the same row, plain INSERT into a table with only a primary key, no relay',
    event: 'minimal',
    relay: false,
    mode: 'off',
    naiveNotify: false,
  },
  {
    name: 'outbox-no-relay',
    label: '+ outbox event, no relay running (the insert alone)',
    event: 'outbox',
    relay: false,
    mode: 'off',
    naiveNotify: false,
  },
  {
    // The library's NOTIFY-mode insert with the idle flag at 1 and no relay to clear it, so
    // that every commit notifies: what a NOTIFY costs the writers alone, without a relay's
    // work on the same cores. (A table no relay has drained yet starts that way.)
    name: 'outbox-notify-no-relay',
    label: '+ outbox event, NOTIFY in every transaction, no relay running',
    event: 'outbox',
    relay: false,
    mode: 'notify',
    naiveNotify: false,
  },
  {
    name: 'outbox-off',
    label: '+ outbox event, wake-up off',
    event: 'outbox',
    relay: true,
    mode: 'off',
    naiveNotify: false,
  },
  {
    name: 'outbox-notify',
    label: '+ outbox event, NOTIFY wake-up',
    event: 'outbox',
    relay: true,
    mode: 'notify',
    naiveNotify: false,
  },
  {
    name: 'outbox-naive-notify',
    label: '+ outbox event + pg_notify in every transaction',
    event: 'outbox',
    relay: true,
    mode: 'notify',
    naiveNotify: true,
  },
];

/**
 * Issue #6: outbox insert + wake-up within 10 % of business-only; the wake-up within 5 %.
 * Issue "Speed": the library's insert ≥ 0.85 × the same row into a primary-key-only table.
 */
const OVERHEAD_TARGET_RATIO = 0.9;
const MINIMAL_TARGET_RATIO = 0.85;
const WAKEUP_TARGET_RATIO = 0.95;
/** Each variant writes this long once, unmeasured, before the first run. */
const WARMUP_SECONDS = 1;
/** The start of each turn that is not measured, while the writers get going. */
const RAMP_MS = 250;

export interface WriteVariantResult {
  readonly variant: Variant['name'];
  readonly label: string;
  readonly txPerSecond: RateSummary;
  /** Each run's rate, in run order (the variants of a run took turns one after another). */
  readonly txPerSecondByRun: readonly number[];
  /** Per run: this variant's rate ÷ business-only's rate in the same run. */
  readonly ratioToBusiness: RateSummary;
  /** Per run: ÷ the plain INSERT into the primary-key-only table (the library's own cost). */
  readonly ratioToMinimal: RateSummary | undefined;
  /** Per run: ÷ the outbox with the wake-up off (the wake-up's own cost), when both ran. */
  readonly ratioToWakeupOff: RateSummary | undefined;
  /** With a relay: the most events still pending when a turn ended (did it keep up?). */
  readonly maxPendingAtEnd: number | undefined;
  /** Transactions per second that sent a NOTIFY on the table's channel (counted by a listener). */
  readonly notificationsPerSecond: RateSummary;
  /**
   * CPU µs per committed transaction, by who spent it (medians of the runs), from the start
   * of a turn until its events were drained: see `CPU_BUCKETS`.
   */
  readonly cpuMicrosPerTx: CpuSplit;
}

/**
 * The buckets of a turn's CPU: the writers (the bench process) and their backends; this
 * variant's relay process and its backends; the rest of PostgreSQL (WAL writer, checkpointer,
 * autovacuum, the counting listener); nats-server; the other variants' relays, idle but
 * ticking; the rest of the machine; and the machine's total.
 */
const CPU_BUCKETS = [
  'writers',
  'pg: writers',
  'relay',
  'pg: relay',
  'pg: other',
  'nats-server',
  'other relays',
  'rest',
  'total',
] as const;

/** A sampled process's label (`CpuMeter`) as a bucket of `variant`'s turn. */
function bucketFor(variant: Variant['name']) {
  return (label: string): string => {
    if (label === `relay: ${variant}`) return 'relay';
    if (label === `pg: ${relayApplicationName(variant)}`) return 'pg: relay';
    if (label.startsWith('relay: ') || label.startsWith('pg: bench_relay')) return 'other relays';
    if (label === `pg: ${WRITERS_APPLICATION_NAME}`) return 'pg: writers';
    if (label === 'postgres' || label.startsWith('pg: ')) return 'pg: other';
    return label;
  };
}

const WRITERS_APPLICATION_NAME = 'bench_writers';
const relayApplicationName = (variant: Variant['name']) => `bench_relay_${variant}`;

export interface WritePathResult {
  readonly scenario: 'write';
  readonly writers: number;
  readonly seconds: number;
  readonly runs: number;
  readonly payloadBytes: number;
  readonly variants: WriteVariantResult[];
}

/** One variant's tables and relay, kept for the whole scenario. */
interface Setup {
  readonly variant: Variant;
  readonly fixture: BenchOutbox;
  readonly business: string;
  readonly outbox: OutboxRepository;
  readonly channel: string;
  readonly relayPid: number | undefined;
}

/**
 * Business transactions per second with `writers` concurrent writers, each transaction one
 * row in a small business table of its own, with and without an outbox event. The writers
 * share one connection pool in this process, each variant with its own tables and its own
 * `OutboxRepository`. In the variants with a relay, it runs in its own process and drains
 * concurrently, as it would in production, so their overhead includes the relay's share of
 * the machine; the variant without a relay shows the insert's own cost.
 *
 * Every variant is set up once; then, in each run, the variants take short turns one after
 * another, each starting once the previous turn's events are drained. Short adjacent turns
 * see the same background load, which on a shared machine drifts within seconds, and each
 * ratio is taken within a run.
 */
export async function benchWritePath(
  databaseUrl: string,
  natsUrl: string,
  options: { writers: number; seconds: number; modes: readonly WakeupMode[]; runs: number },
): Promise<WritePathResult> {
  const { admin, jsm, close } = await connectServices(databaseUrl, natsUrl);
  const pool = new DataSource({
    type: 'postgres',
    url: withApplicationName(databaseUrl, WRITERS_APPLICATION_NAME),
    extra: { max: options.writers },
  });
  const variants = VARIANTS.filter(
    (v) => (!v.relay && v.mode === 'off') || options.modes.includes(v.mode),
  );
  const rates = new Map<Variant['name'], number[]>(variants.map((v) => [v.name, []]));
  const notified = new Map<Variant['name'], number[]>(variants.map((v) => [v.name, []]));
  const pendingAtEnd = new Map<Variant['name'], number>();
  const cpu = new Map<Variant['name'], CpuSplit[]>(variants.map((v) => [v.name, []]));
  const stops: (() => Promise<void>)[] = [];
  try {
    await pool.initialize();
    const notifications = await listener(databaseUrl);
    stops.push(notifications.stop);
    const setups: Setup[] = [];
    const meter = new CpuMeter(
      admin,
      () =>
        new Map(
          setups.flatMap((s) => (s.relayPid ? [[s.relayPid, `relay: ${s.variant.name}`]] : [])),
        ),
    );
    for (const variant of variants) {
      const fixture = new BenchOutbox(admin, jsm, 'bench_write');
      const business = unique('bench_business');
      stops.push(async () => {
        await admin.query(`DROP TABLE IF EXISTS "${business}"`);
        await fixture.drop();
      });
      if (variant.event === 'minimal') {
        await admin.query(createMinimalEventTableSql(fixture.table));
      } else {
        await fixture.create();
      }
      await admin.query(
        `CREATE TABLE "${business}" (
           id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
           writer int NOT NULL, amount int NOT NULL, note text NOT NULL,
           created_at timestamptz NOT NULL DEFAULT now())`,
      );
      const relayOptions = { ...fixture.relayOptions(natsUrl), relayWakeup: variant.mode };
      const relay = variant.relay
        ? await spawnRelay(
            withApplicationName(databaseUrl, relayApplicationName(variant.name)),
            relayOptions,
          )
        : undefined;
      if (relay) stops.push(relay.stop);
      const channel = wakeupChannel(fixture.table);
      await notifications.listen(channel);
      // The naive writer notifies by hand, so its own idle-flag check is off.
      const writerMode = variant.naiveNotify ? 'off' : variant.mode;
      const outbox = new OutboxRepository(
        resolveOutboxOptions(groupOutboxOptions({ ...relayOptions, relayWakeup: writerMode })),
      );
      setups.push({ variant, fixture, business, outbox, channel, relayPid: relay?.pid });
    }
    const turn = (setup: Setup, seconds: number) => writeFor(pool, setup, options.writers, seconds);
    for (const setup of setups) await turn(setup, WARMUP_SECONDS);
    await interleaved(setups, options.runs, async (setup, run) => {
      const { name } = setup.variant;
      if (setup.variant.relay) await drained(setup.fixture);
      const cpuFrom = await meter.sample();
      const { from, to, committed, total } = await turn(setup, options.seconds);
      rates.get(name)![run] = Math.round(committed / options.seconds);
      // Pending events when the writers stop (up to a second's with the wake-up off) are part
      // of what the turn costs: its CPU is counted until the relay has drained them.
      const pending = setup.variant.relay ? await setup.fixture.pending() : 0;
      if (setup.variant.relay) await drained(setup.fixture);
      const split = CpuMeter.split(cpuFrom, await meter.sample(), bucketFor(name));
      cpu.get(name)![run] = microsPer(split, total, 'writers');
      const sent = notifications.count(setup.channel, from, to);
      notified.get(name)![run] = Math.round(sent / options.seconds);
      if (setup.variant.relay) {
        pendingAtEnd.set(name, Math.max(pendingAtEnd.get(name) ?? 0, pending));
      }
    });
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    if (pool.isInitialized) await pool.destroy();
    await close();
  }
  const business = rates.get('business')!;
  const off = rates.get('outbox-off');
  const minimal = rates.get('minimal-insert')!;
  return {
    scenario: 'write',
    writers: options.writers,
    seconds: options.seconds,
    runs: options.runs,
    payloadBytes: PAYLOAD_BYTES,
    variants: variants.map((v) => {
      const own = rates.get(v.name)!;
      return {
        variant: v.name,
        label: v.label,
        txPerSecond: summarizeRates(own),
        txPerSecondByRun: own,
        ratioToBusiness: ratios(own, business),
        ratioToMinimal: v.event === 'outbox' ? ratios(own, minimal) : undefined,
        ratioToWakeupOff: v.relay && off ? ratios(own, off) : undefined,
        maxPendingAtEnd: pendingAtEnd.get(v.name),
        notificationsPerSecond: summarizeRates(notified.get(v.name)!),
        cpuMicrosPerTx: medianSplit(cpu.get(v.name)!, CPU_BUCKETS),
      };
    }),
  };
}

/**
 * `writers` loops committing the variant's transaction for a short ramp plus `seconds`;
 * counts the commits that returned inside the measured window.
 */
async function writeFor(pool: DataSource, setup: Setup, writers: number, seconds: number) {
  const { variant, business, outbox, channel } = setup;
  const transaction = (writer: number, n: number) =>
    pool.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO "${business}" (writer, amount, note) VALUES ($1, $2, 'order placed')`,
        [writer, n],
      );
      if (variant.event === 'outbox') await outbox.add(manager, benchEvent(n));
      if (variant.event === 'minimal') {
        await insertMinimalEvent(manager, setup.fixture.table, benchEvent(n));
      }
      if (variant.naiveNotify) await manager.query(`SELECT pg_notify($1, '')`, [channel]);
    });
  const from = performance.now() + RAMP_MS;
  const to = from + seconds * 1000;
  let committed = 0;
  let total = 0;
  const loop = async (writer: number) => {
    for (let n = 0; performance.now() < to; n++) {
      await transaction(writer, n);
      total++;
      const now = performance.now();
      if (now > from && now <= to) committed++;
    }
  };
  await Promise.all(Array.from({ length: writers }, (_, w) => loop(w)));
  return { from, to, committed, total };
}

/** Waits until the relay has published the previous turn's events (at most a few seconds). */
async function drained(fixture: BenchOutbox): Promise<void> {
  const deadline = performance.now() + 5_000;
  while ((await fixture.pending()) > 0 && performance.now() < deadline) await sleep(50);
}

/**
 * One connection listening on every variant's wake-up channel, noting when each notification
 * arrived: how many transactions paid for a NOTIFY. A second listener beside the relay's
 * costs a notifying commit one more signal, not a lock.
 */
async function listener(databaseUrl: string) {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const at = new Map<string, number[]>();
  client.on('notification', ({ channel }) => at.get(channel)?.push(performance.now()));
  return {
    listen: async (channel: string) => {
      at.set(channel, []);
      await client.query(`LISTEN "${channel}"`);
    },
    count: (channel: string, from: number, to: number) =>
      (at.get(channel) ?? []).filter((t) => t > from && t <= to).length,
    stop: () => client.end(),
  };
}

/** Run-by-run ratios `a[i] / b[i]`, summarized. */
function ratios(a: readonly number[], b: readonly number[]): RateSummary {
  return summarizeRates(a.map((x, i) => Math.round((x / b[i]) * 1000) / 1000));
}

export function reportWritePath(write: WritePathResult): ScenarioReport {
  const table: Record<string, Record<string, unknown>> = {};
  for (const v of write.variants) {
    table[v.label] = {
      'median tx/s': v.txPerSecond.median,
      'min tx/s': v.txPerSecond.min,
      'max tx/s': v.txPerSecond.max,
      '÷ business only': v.ratioToBusiness.median,
      'ratio min-max': `${v.ratioToBusiness.min}-${v.ratioToBusiness.max}`,
      '÷ minimal insert': v.ratioToMinimal?.median ?? '',
      '÷ wake-up off': v.ratioToWakeupOff?.median ?? '',
      'pending at end': v.maxPendingAtEnd ?? '',
      'NOTIFYs/s': v.notificationsPerSecond.median,
      runs: v.txPerSecond.runs,
    };
  }
  const cpuTable: Record<string, Record<string, unknown>> = {};
  for (const v of write.variants) cpuTable[v.label] = { ...v.cpuMicrosPerTx };
  const scenario = `write path, ${write.writers} writers`;
  const find = (name: Variant['name']) => write.variants.find((v) => v.variant === name);
  const off = find('outbox-off');
  const notify = find('outbox-notify');
  const insertAlone = find('outbox-no-relay')!;
  // Each check goes on the row of the variant it judges.
  const checks = new Map<Variant['name'], TargetCheck[]>([
    [
      'outbox-no-relay',
      [
        checkTarget({
          scenario,
          target: `≥ ${MINIMAL_TARGET_RATIO} × minimal insert`,
          value: insertAlone.ratioToMinimal!.median,
          unit: '×',
          limit: MINIMAL_TARGET_RATIO,
          atMost: false,
        }),
      ],
    ],
  ]);
  if (notify) {
    checks.set('outbox-notify', [
      checkTarget({
        scenario,
        target: `≥ ${OVERHEAD_TARGET_RATIO} × business only`,
        value: notify.ratioToBusiness.median,
        unit: '×',
        limit: OVERHEAD_TARGET_RATIO,
        atMost: false,
      }),
      notify.ratioToWakeupOff
        ? checkTarget({
            scenario,
            target: `≥ ${WAKEUP_TARGET_RATIO} × wake-up off`,
            value: notify.ratioToWakeupOff.median,
            unit: '×',
            limit: WAKEUP_TARGET_RATIO,
            atMost: false,
          })
        : notMeasured(scenario, `≥ ${WAKEUP_TARGET_RATIO} × wake-up off`, 'off not run'),
    ]);
  } else if (off) {
    checks.set('outbox-off', [
      checkTarget({
        scenario,
        target: `outbox insert ≥ ${OVERHEAD_TARGET_RATIO} × business only`,
        value: off.ratioToBusiness.median,
        unit: '×',
        limit: OVERHEAD_TARGET_RATIO,
        atMost: false,
      }),
      notMeasured(scenario, `NOTIFY wake-up ≥ ${WAKEUP_TARGET_RATIO} × off`, 'not run'),
    ]);
  }
  const business = find('business')!.txPerSecond.median;
  return {
    tables: {
      [`${scenario}, ${write.runs} × ${write.seconds} s`]: table,
      [`${scenario}: CPU µs per committed transaction, until its events were drained`]: cpuTable,
    },
    lines: [
      `write path: business only ${formatNumber(business)} tx/s; the outbox variants run a relay ` +
        `in another process meanwhile`,
    ],
    targets: [...checks.values()].flat(),
    readme: write.variants.map((v) =>
      readmeRow(
        `${scenario}: ${v.label}`,
        `${formatNumber(v.txPerSecond.median)} tx/s (${v.ratioToBusiness.median}×` +
          (v.ratioToMinimal ? `; ${v.ratioToMinimal.median}× minimal)` : ')'),
        formatNumber(v.txPerSecond.min),
        formatNumber(v.txPerSecond.max),
        checks.get(v.variant),
      ),
    ),
  };
}
