import type { MigrationInterface, QueryRunner } from 'typeorm';
import { resolveOutboxOptions } from '../src/outbox/config/resolve-outbox-options.js';
import {
  createOutboxTableSql,
  dropOutboxTableSql,
} from '../src/outbox/persistence/outbox-table.sql.js';

/** Creates the outbox table named by OUTBOX_TABLE / OUTBOX_SCHEMA (default `event_outbox`). */
export class CreateEventOutbox1732300000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    const { table, schema } = resolveOutboxOptions();
    if (schema) await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    for (const statement of createOutboxTableSql(table, schema)) await runner.query(statement);
  }

  async down(runner: QueryRunner): Promise<void> {
    const { table, schema } = resolveOutboxOptions();
    await runner.query(dropOutboxTableSql(table, schema));
  }
}
