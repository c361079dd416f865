import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createInboxTableSql, dropInboxTableSql } from '../src/outbox/inbox/inbox-table.sql.js';
import { resolveInboxOptions } from '../src/outbox/inbox/resolve-inbox-options.js';

/**
 * Creates the inbox table of idempotent consumers, named by OUTBOX_INBOX_TABLE /
 * OUTBOX_INBOX_SCHEMA (default `event_inbox`). Only needed where `OutboxInboxModule` is used.
 */
export class CreateEventInbox1732500000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    const { table, schema } = resolveInboxOptions();
    if (schema) await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    for (const statement of createInboxTableSql(table, schema)) await runner.query(statement);
  }

  async down(runner: QueryRunner): Promise<void> {
    const { table, schema } = resolveInboxOptions();
    await runner.query(dropInboxTableSql(table, schema));
  }
}
