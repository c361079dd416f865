import { createTableMigration, type OutboxMigrationClass } from '../persistence/table-migration.js';
import { createInboxTableSql, dropInboxTableSql } from './inbox-table.sql.js';
import { resolveInboxOptions } from './resolve-inbox-options.js';

/**
 * Builds the migration of the inbox table, for the same `table`/`schema` as
 * `OutboxInboxModule.forRoot()`; left out, they are read from `OUTBOX_INBOX_TABLE` and
 * `OUTBOX_INBOX_SCHEMA` when it runs.
 * @publicApi
 */
export function createInboxMigration(
  options: { table?: string; schema?: string; name?: string } = {},
): OutboxMigrationClass {
  return createTableMigration({
    name: options.name ?? 'CreateEventInbox1732500000000',
    target: () => resolveInboxOptions({ table: options.table, schema: options.schema }),
    create: createInboxTableSql,
    drop: dropInboxTableSql,
  });
}

/**
 * The inbox table's migration, configured by `OUTBOX_INBOX_TABLE` and `OUTBOX_INBOX_SCHEMA`
 * when it runs. Only needed where `OutboxInboxModule` is used.
 * @publicApi
 */
export class CreateEventInbox1732500000000 extends createInboxMigration() {}
