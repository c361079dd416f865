import { DataSource } from 'typeorm';
import {
  createOutboxTableSql,
  dropOutboxTableSql,
} from '../../src/outbox/table/outbox-table.sql.js';
import { TEST_DATABASE_URL, uniqueName } from './test-env.js';

/** A DataSource on the test database plus an outbox table of the test file's own. */
export class TestOutboxTable {
  readonly table = uniqueName('outbox');
  readonly dataSource = new DataSource({ type: 'postgres', url: TEST_DATABASE_URL });

  async create(): Promise<this> {
    await this.dataSource.initialize();
    for (const sql of createOutboxTableSql(this.table)) await this.dataSource.query(sql);
    return this;
  }

  async drop(): Promise<void> {
    if (!this.dataSource.isInitialized) return;
    await this.dataSource.query(dropOutboxTableSql(this.table));
    await this.dataSource.destroy();
  }

  async counts(): Promise<{ total: number; published: number; pending: number }> {
    const [row] = await this.dataSource.query<
      { total: number; published: number; pending: number }[]
    >(
      `SELECT count(*)::int AS total,
              count(published_at)::int AS published,
              (count(*) - count(published_at))::int AS pending
         FROM "${this.table}"`,
    );
    return row;
  }

  async publishedEventIds(): Promise<string[]> {
    const rows = await this.dataSource.query<{ event_id: string }[]>(
      `SELECT event_id FROM "${this.table}" WHERE published_at IS NOT NULL`,
    );
    return rows.map((r) => r.event_id);
  }
}
