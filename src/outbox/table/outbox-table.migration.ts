import { OUTBOX_SETTINGS } from '../config/outbox-settings.js';
import { resolveSettings } from '../config/setting.js';
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
   * Outbox table name.
   * @default 'event_outbox'
   */
  table?: string;
  /**
   * Schema of the outbox table, created when missing.
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
export function createOutboxMigration(
  options: OutboxMigrationOptions & {
    /**
     * The table and schema, asked for when the migration runs rather than when it is built:
     * `() => outboxOptionsFromEnv(process.env)` reads `OUTBOX_TABLE` and `OUTBOX_SCHEMA` then.
     */
    target?: () => Pick<OutboxMigrationOptions, 'table' | 'schema'>;
  } = {},
): OutboxMigrationClass {
  return createTableMigration({
    name: options.name ?? 'CreateEventOutbox1732300000000',
    target: () => resolveTableName(options.target?.() ?? options),
    create: createOutboxTableSql,
    drop: dropOutboxTableSql,
  });
}

/**
 * The migration of the default outbox table, `event_outbox` on the connection's search path.
 * For another table or schema, use `createOutboxMigration({ table, schema })`.
 * @publicApi
 */
export class CreateEventOutbox1732300000000 extends createOutboxMigration() {}

/** The table and schema, validated as identifiers before they reach any SQL. */
function resolveTableName(options: Pick<OutboxMigrationOptions, 'table' | 'schema'>): {
  table: string;
  schema?: string;
} {
  const names = OUTBOX_SETTINGS.filter((s) => s.path === 'table' || s.path === 'schema');
  return resolveSettings(names, options, 'createOutboxMigration');
}
