import { DataSource } from 'typeorm';
import { resolveOutboxOptions } from '../src/outbox/config/resolve-outbox-options.js';
import { OutboxRepository } from '../src/outbox/persistence/outbox.repository.js';
import {
  createOutboxTableSql,
  dropOutboxTableSql,
} from '../src/outbox/persistence/outbox-table.sql.js';
import { time, type Summary } from './bench-support.js';

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
  const table = `bench_outbox_${Date.now().toString(36)}`;
  const options = resolveOutboxOptions({ env: {}, table });
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

    const repository = new OutboxRepository(options);
    const manager = dataSource.manager;
    const probe = await time(() => repository.backlog(manager, options.healthCountCap), 50);
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
