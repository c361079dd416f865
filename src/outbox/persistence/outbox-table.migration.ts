import { resolveOutboxOptions } from '../config/resolve-outbox-options.js';
import { createOutboxTableSql, dropOutboxTableSql } from './outbox-table.sql.js';
import { createTableMigration, type OutboxMigrationClass } from './table-migration.js';

export type { OutboxMigrationClass } from './table-migration.js';

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

/**
 * Builds the TypeORM migration that creates (and on revert drops) the outbox table and its
 * indexes. Add the result to your DataSource's `migrations`:
 * ```ts
 * migrations: [createOutboxMigration({ table: 'shop_outbox', schema: 'shop' })]
 * ```
 * @publicApi
 */
export function createOutboxMigration(options: OutboxMigrationOptions = {}): OutboxMigrationClass {
  return createTableMigration({
    name: options.name ?? 'CreateEventOutbox1732300000000',
    target: () => resolveOutboxOptions({ table: options.table, schema: options.schema }),
    create: createOutboxTableSql,
    drop: dropOutboxTableSql,
  });
}

/**
 * The outbox table's migration, configured by `OUTBOX_TABLE` and `OUTBOX_SCHEMA` when it runs.
 * For a table named in code, use `createOutboxMigration({ table, schema })`.
 * @publicApi
 */
export class CreateEventOutbox1732300000000 extends createOutboxMigration() {}
