import type { MigrationInterface, QueryRunner } from 'typeorm';
import { resolveOutboxOptions } from '../config/resolve-outbox-options.js';
import { quoteIdentifier } from '../config/sql-identifier.js';
import { createOutboxTableSql, dropOutboxTableSql } from './outbox-table.sql.js';

/**
 * Options of `createOutboxMigration()`: give it the same `table` and `schema` as
 * `OutboxModule.forRoot()`, so the migration creates the table the module uses.
 * @publicApi
 */
export interface OutboxMigrationOptions {
  /**
   * Outbox table name. Left out, it is read when the migration runs, from `OUTBOX_TABLE`.
   * @default 'event_outbox'
   */
  table?: string;
  /**
   * Schema of the outbox table, created when missing. Left out, it is read when the migration
   * runs, from `OUTBOX_SCHEMA`.
   * @default the connection's search_path
   */
  schema?: string;
  /**
   * The migration's name in TypeORM's migrations table. TypeORM needs it to end in a 13-digit
   * timestamp; give each outbox table of one database its own.
   * @default 'CreateEventOutbox1732300000000'
   */
  name?: string;
}

/** A TypeORM migration class, for a DataSource's `migrations`. @publicApi */
export type OutboxMigrationClass = new () => MigrationInterface & { readonly name: string };

/**
 * Builds the TypeORM migration that creates (and on revert drops) the outbox table and its
 * indexes. Add the result to your DataSource's `migrations`:
 * ```ts
 * migrations: [createOutboxMigration({ table: 'shop_outbox', schema: 'shop' })]
 * ```
 * @publicApi
 */
export function createOutboxMigration(options: OutboxMigrationOptions = {}): OutboxMigrationClass {
  const name = options.name ?? 'CreateEventOutbox1732300000000';
  // Resolved when the migration runs, not when it is built: the migrations list is usually
  // assembled at import time, before the environment of a test or a CLI run is final.
  const target = () => resolveOutboxOptions({ table: options.table, schema: options.schema });
  return class OutboxTableMigration implements MigrationInterface {
    // TypeORM records a migration by `name`, falling back to its class name.
    readonly name = name;

    async up(runner: QueryRunner): Promise<void> {
      const { table, schema } = target();
      if (schema) await runner.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
      for (const statement of createOutboxTableSql(table, schema)) await runner.query(statement);
    }

    async down(runner: QueryRunner): Promise<void> {
      const { table, schema } = target();
      await runner.query(dropOutboxTableSql(table, schema));
    }
  };
}

/**
 * The outbox table's migration, configured by `OUTBOX_TABLE` and `OUTBOX_SCHEMA` when it runs.
 * For a table named in code, use `createOutboxMigration({ table, schema })`.
 * @publicApi
 */
export class CreateEventOutbox1732300000000 extends createOutboxMigration() {}
