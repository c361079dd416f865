import { groupOutboxOptions } from '../tools/flat-outbox-options.js';
import { DataSource } from 'typeorm';
import { resolveOutboxOptions } from '../src/outbox/config/resolve-outbox-options.js';
import { OutboxBacklogReader } from '../src/outbox/table/outbox-backlog.reader.js';
import { createOutboxTableSql, dropOutboxTableSql } from '../src/outbox/table/outbox-table.sql.js';
import {
  checkTarget,
  formatNumber,
  readmeRow,
  time,
  type ScenarioReport,
  type Summary,
  type TargetCheck,
} from './bench-support.js';
import { unique } from './outbox-fixture.js';

export interface HealthProbeResult {
  readonly scenario: 'health';
  readonly pendingRows: number;
  readonly publishedRows: number;
  readonly probe: Summary;
  readonly baselineSelect1: Summary;
  readonly uncappedCount: Summary;
  readonly targetMs: number;
}

/**
 * The backlog probe's time on a table with `pendingRows` pending (and as many published)
 * rows, beside `SELECT 1` on the same connection pool as the noise floor and a plain
 * count(*) to show what the cap saves.
 */
export async function benchHealthProbe(
  databaseUrl: string,
  pendingRows = 1_000_000,
): Promise<HealthProbeResult> {
  const table = unique('bench_health');
  const options = resolveOutboxOptions(groupOutboxOptions({ table }));
  const dataSource = await new DataSource({ type: 'postgres', url: databaseUrl }).initialize();
  try {
    for (const sql of createOutboxTableSql(table)) await dataSource.query(sql);
    const fill = (published: boolean) =>
      dataSource.query(
        `INSERT INTO "${table}" (event_id, event_type, event_version, aggregate_type, aggregate_id,
                                 occurred_at, payload, published_at)
         SELECT gen_random_uuid(), 'bench.created', '1.0', 'bench', (g % 1000)::text, now(),
                jsonb_build_object('n', g), ${published ? 'now()' : 'NULL'}
           FROM generate_series(1, $1) g`,
        [pendingRows],
      );
    await fill(true);
    await fill(false);
    await dataSource.query(`VACUUM ANALYZE "${table}"`);

    const reader = new OutboxBacklogReader(options);
    const manager = dataSource.manager;
    const probe = await time(() => reader.backlog(manager, options.healthCountCap), 50);
    const baselineSelect1 = await time(() => manager.query('SELECT 1'), 50);
    const uncappedCount = await time(
      () =>
        manager.query(
          `SELECT count(*) FROM "${table}" WHERE published_at IS NULL AND failed_at IS NULL`,
        ),
      5,
      1,
    );
    return {
      scenario: 'health',
      pendingRows,
      publishedRows: pendingRows,
      probe,
      baselineSelect1,
      uncappedCount,
      targetMs: 5,
    };
  } finally {
    await dataSource.query(dropOutboxTableSql(table));
    await dataSource.destroy();
  }
}

export function reportHealth(health: HealthProbeResult): ScenarioReport {
  const row = (s: Summary) => ({
    'median ms': s.medianMs,
    'min ms': s.minMs,
    'max ms': s.maxMs,
    'p95 ms': s.p95Ms,
    runs: s.runs,
  });
  const scenario = `backlog probe, ${formatNumber(health.pendingRows)} pending rows`;
  const timesSelect1 = health.probe.medianMs / health.baselineSelect1.medianMs;
  const probeTarget = checkTarget({
    scenario,
    target: `median ≤ ${health.targetMs} ms`,
    value: health.probe.medianMs,
    unit: ' ms',
    limit: health.targetMs,
    atMost: true,
  });
  const ms = (value: number) => `${formatNumber(value)} ms`;
  const timing = (label: string, s: Summary, checks: TargetCheck[] = []) =>
    readmeRow(label, `${ms(s.medianMs)} (p95 ${ms(s.p95Ms)})`, ms(s.minMs), ms(s.maxMs), checks);
  return {
    tables: {
      [scenario]: {
        'backlog probe (capped)': row(health.probe),
        'baseline: SELECT 1': row(health.baselineSelect1),
        'uncapped count(*) for comparison': row(health.uncappedCount),
      },
    },
    lines: [
      `health probe: median ${health.probe.medianMs} ms, ${timesSelect1.toFixed(1)}× SELECT 1`,
    ],
    targets: [probeTarget],
    readme: [
      timing(`${scenario} + ${formatNumber(health.publishedRows)} published`, health.probe, [
        probeTarget,
      ]),
      timing('baseline: `SELECT 1` on the same pool', health.baselineSelect1),
      timing('for comparison: an uncapped `count(*)` of pending rows', health.uncappedCount),
    ],
  };
}
