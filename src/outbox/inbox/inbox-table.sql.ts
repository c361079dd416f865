import { qualifiedTableName, quoteIdentifier } from '../config/sql-identifier.js';

/**
 * DDL of the inbox table, shared by the shipped migration and the tests. One row per event a
 * consumer has processed: the primary key `(consumer, event_id)` lets several handlers each
 * process the same event once, and makes a second insert of a key wait for, then see, the
 * first one's transaction.
 */
export function createInboxTableSql(table: string, schema?: string): string[] {
  const name = qualifiedTableName(table, schema);
  const processedIndex = quoteIdentifier(`${table}_processed_idx`.slice(0, 63));
  return [
    `CREATE TABLE IF NOT EXISTS ${name} (
      consumer     text        NOT NULL,
      event_id     text        NOT NULL,
      processed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer, event_id)
    )`,
    // The purge deletes the oldest rows first, in bounded batches.
    `CREATE INDEX IF NOT EXISTS ${processedIndex} ON ${name} (processed_at)`,
  ];
}

export function dropInboxTableSql(table: string, schema?: string): string {
  return `DROP TABLE IF EXISTS ${qualifiedTableName(table, schema)}`;
}
