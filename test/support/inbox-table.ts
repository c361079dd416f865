import { DataSource } from 'typeorm';
import { createInboxTableSql, dropInboxTableSql } from '../../src/outbox/inbox/inbox-table.sql.js';
import { TEST_DATABASE_URL, uniqueName } from './test-env.js';

/** A DataSource on the test database plus an inbox table of the test file's own. */
export class TestInboxTable {
  readonly table = uniqueName('inbox');
  readonly dataSource = new DataSource({ type: 'postgres', url: TEST_DATABASE_URL });

  async create(): Promise<this> {
    await this.dataSource.initialize();
    for (const sql of createInboxTableSql(this.table)) await this.dataSource.query(sql);
    return this;
  }

  async drop(): Promise<void> {
    if (!this.dataSource.isInitialized) return;
    await this.dataSource.query(dropInboxTableSql(this.table));
    await this.dataSource.destroy();
  }

  /** The event ids `consumer` has recorded, in no particular order. */
  async eventIds(consumer: string): Promise<string[]> {
    const rows = await this.dataSource.query<{ event_id: string }[]>(
      `SELECT event_id FROM "${this.table}" WHERE consumer = $1`,
      [consumer],
    );
    return rows.map((r) => r.event_id);
  }
}
