import { Client } from 'pg';
import { wakeupChannel } from '../src/outbox/persistence/outbox-table.sql.js';
import {
  checkTarget,
  formatNumber,
  interleaved,
  notMeasured,
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
import { spawnRelay, startWriter } from './relay-harness.js';

/** What one transaction of a variant does beyond inserting the business row. */
interface Variant {
  readonly name:
    'business' | 'outbox-no-relay' | 'outbox-off' | 'outbox-notify' | 'outbox-naive-notify';
  readonly label: string;
  /** Adds one ~1 KB event with `OutboxRepository.add`. */
  readonly outbox: boolean;
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
    outbox: false,
    relay: false,
    mode: 'off',
    naiveNotify: false,
  },
  {
    name: 'outbox-no-relay',
    label: '+ outbox event, no relay running (the insert alone)',
    outbox: true,
    relay: false,
    mode: 'off',
    naiveNotify: false,
  },
  {
    name: 'outbox-off',
    label: '+ outbox event, wake-up off',
    outbox: true,
    relay: true,
    mode: 'off',
    naiveNotify: false,
  },
  {
    name: 'outbox-notify',
    label: '+ outbox event, NOTIFY wake-up',
    outbox: true,
    relay: true,
    mode: 'notify',
    naiveNotify: false,
  },
  {
    name: 'outbox-naive-notify',
    label: '+ outbox event + pg_notify in every transaction',
    outbox: true,
    relay: true,
    mode: 'notify',
    naiveNotify: true,
  },
];

/** Issue #6: outbox insert + wake-up within 10 % of business-only; the wake-up within 5 %. */
const OVERHEAD_TARGET_RATIO = 0.9;
const WAKEUP_TARGET_RATIO = 0.95;
const WARMUP_MS = 1_000;

export interface WriteVariantResult {
  readonly variant: Variant['name'];
  readonly label: string;
  readonly txPerSecond: RateSummary;
  /** Per run: this variant's rate ÷ business-only's rate in the same run. */
  readonly ratioToBusiness: RateSummary;
  /** Per run: ÷ the outbox with the wake-up off (the wake-up's own cost), when both ran. */
  readonly ratioToWakeupOff: RateSummary | undefined;
  /** With a relay: the most events still pending when a run ended (did it keep up?). */
  readonly maxPendingAtEnd: number | undefined;
  /** Transactions per second that sent a NOTIFY on the table's channel (counted by a listener). */
  readonly notificationsPerSecond: RateSummary;
}

export interface WritePathResult {
  readonly scenario: 'write';
  readonly writers: number;
  readonly seconds: number;
  readonly runs: number;
  readonly payloadBytes: number;
  readonly variants: WriteVariantResult[];
}

/**
 * Business transactions per second with `writers` concurrent writers, each transaction one
 * row in a small business table of its own, with and without an outbox event. The writers
 * are a writer-only replica (`relayEnabled: false`) in this process. In the variants with a
 * relay, it runs in its own process and drains concurrently, as it would in production, so
 * their overhead includes the relay's share of the machine; the variant without a relay
 * shows the insert's own cost. Variants alternate within each run, so they share the noise,
 * and each ratio is taken within a run.
 */
export async function benchWritePath(
  databaseUrl: string,
  natsUrl: string,
  options: { writers: number; seconds: number; modes: readonly WakeupMode[]; runs: number },
): Promise<WritePathResult> {
  const { admin, jsm, close } = await connectServices(databaseUrl, natsUrl);
  const variants = VARIANTS.filter((v) => !v.outbox || options.modes.includes(v.mode));
  const rates = new Map<Variant['name'], number[]>(variants.map((v) => [v.name, []]));
  const pendingAtEnd = new Map<Variant['name'], number>();
  const notified = new Map<Variant['name'], number[]>(variants.map((v) => [v.name, []]));
  try {
    await interleaved(variants, options.runs, async (variant, run) => {
      const fixture = new BenchOutbox(admin, jsm, 'bench_write');
      const business = unique('bench_business');
      const stops: (() => Promise<void>)[] = [];
      try {
        await fixture.create();
        await admin.query(
          `CREATE TABLE "${business}" (
             id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
             writer int NOT NULL, amount int NOT NULL, note text NOT NULL,
             created_at timestamptz NOT NULL DEFAULT now())`,
        );
        const relayOptions = { ...fixture.relayOptions(natsUrl), relayWakeup: variant.mode };
        if (variant.relay) stops.push((await spawnRelay(databaseUrl, relayOptions)).stop);
        // The naive writer notifies by hand, so its own idle-flag check is off.
        const writer = await startWriter(databaseUrl, {
          ...relayOptions,
          relayWakeup: variant.naiveNotify ? 'off' : variant.mode,
        });
        stops.push(writer.close);
        const transaction = (writerNo: number, n: number) =>
          writer.dataSource.transaction(async (manager) => {
            await manager.query(
              `INSERT INTO "${business}" (writer, amount, note) VALUES ($1, $2, 'order placed')`,
              [writerNo, n],
            );
            if (variant.outbox) await writer.outbox.add(manager, benchEvent(n));
            if (variant.naiveNotify) {
              await manager.query(`SELECT pg_notify($1, '')`, [wakeupChannel(fixture.table)]);
            }
          });
        const notifications = await listen(databaseUrl, wakeupChannel(fixture.table));
        stops.push(notifications.stop);
        const measuredFrom = performance.now() + WARMUP_MS;
        const end = measuredFrom + options.seconds * 1000;
        let committed = 0;
        const loop = async (writerNo: number) => {
          for (let n = 0; performance.now() < end; n++) {
            await transaction(writerNo, n);
            const now = performance.now();
            if (now > measuredFrom && now <= end) committed++;
          }
        };
        await Promise.all(Array.from({ length: options.writers }, (_, w) => loop(w)));
        rates.get(variant.name)![run] = Math.round(committed / options.seconds);
        const inWindow = notifications.at.filter((t) => t > measuredFrom && t <= end);
        notified.get(variant.name)![run] = Math.round(inWindow.length / options.seconds);
        if (variant.relay) {
          const pending = await fixture.pending();
          pendingAtEnd.set(variant.name, Math.max(pendingAtEnd.get(variant.name) ?? 0, pending));
        }
      } finally {
        for (const stop of stops.reverse()) await stop().catch(() => undefined);
        await admin.query(`DROP TABLE IF EXISTS "${business}"`);
        await fixture.drop();
      }
    });
  } finally {
    await close();
  }
  const business = rates.get('business')!;
  const off = rates.get('outbox-off');
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
        ratioToBusiness: ratios(own, business),
        ratioToWakeupOff: v.relay && off ? ratios(own, off) : undefined,
        maxPendingAtEnd: pendingAtEnd.get(v.name),
        notificationsPerSecond: summarizeRates(notified.get(v.name)!),
      };
    }),
  };
}

/**
 * When each notification on `channel` arrived: how many transactions paid for a NOTIFY. A
 * second listener beside the relay's costs a notifying commit one more signal, not a lock.
 */
async function listen(databaseUrl: string, channel: string) {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const at: number[] = [];
  client.on('notification', () => at.push(performance.now()));
  await client.query(`LISTEN "${channel}"`);
  return { at, stop: () => client.end() };
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
      '÷ wake-up off': v.ratioToWakeupOff?.median ?? '',
      'pending at end': v.maxPendingAtEnd ?? '',
      'NOTIFYs/s': v.notificationsPerSecond.median,
      runs: v.txPerSecond.runs,
    };
  }
  const scenario = `write path, ${write.writers} writers`;
  const find = (name: Variant['name']) => write.variants.find((v) => v.variant === name);
  const off = find('outbox-off');
  const notify = find('outbox-notify');
  // Each check goes on the row of the variant it judges.
  const checks = new Map<Variant['name'], TargetCheck[]>();
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
    tables: { [`${scenario}, ${write.runs} × ${write.seconds} s`]: table },
    lines: [
      `write path: business only ${formatNumber(business)} tx/s; the outbox variants run a relay ` +
        `in another process meanwhile`,
    ],
    targets: [...checks.values()].flat(),
    readme: write.variants.map((v) =>
      readmeRow(
        `${scenario}: ${v.label}`,
        `${formatNumber(v.txPerSecond.median)} tx/s (${v.ratioToBusiness.median}×)`,
        formatNumber(v.txPerSecond.min),
        formatNumber(v.txPerSecond.max),
        checks.get(v.variant),
      ),
    ),
  };
}
