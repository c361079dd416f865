import { createTableMigration, type OutboxMigrationClass } from '../table/table-migration.js';
import { createInboxTableSql, dropInboxTableSql } from './inbox-table.sql.js';
import { resolveInboxOptions } from './resolve-inbox-options.js';

/**
 * Builds the migration of the inbox table, for the same `table`/`schema` as
 * `OutboxInboxModule.forRoot()` (left out: `event_inbox` on the connection's search path).
 * @publicApi
 */
export function createInboxMigration(
  options: {
    table?: string;
    schema?: string;
    name?: string;
    /** The table and schema, asked for when the migration runs (see createOutboxMigration). */
    target?: () => { table?: string; schema?: string };
  } = {},
): OutboxMigrationClass {
  return createTableMigration({
    name: options.name ?? 'CreateEventInbox1732500000000',
    target: () => {
      const { table, schema } = options.target?.() ?? options;
      return resolveInboxOptions({ table, schema });
    },
    create: createInboxTableSql,
    drop: dropInboxTableSql,
  });
}

/**
 * The migration of the default inbox table, `event_inbox`. Only needed where
 * `OutboxInboxModule` is used.
 * @publicApi
 */
export class CreateEventInbox1732500000000 extends createInboxMigration() {}
