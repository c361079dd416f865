import { qualifiedTableName, quoteIdentifier } from '../config/sql-identifier.js';
import { relayIdleSequence } from '../wakeup/wakeup.sql.js';

/**
 * DDL of the outbox table, shared by the shipped migration and the tests, so both create the
 * same shape. The columns later features rely on are here from the start: retries
 * (`attempts`, `next_attempt_at`, `last_error`), dead letters (`failed_at`) and commit-order
 * safety (`transaction_id`, the writer's transaction id).
 */
export function createOutboxTableSql(table: string, schema?: string): string[] {
  const name = qualifiedTableName(table, schema);
  const pendingIndex = quoteIdentifier(`${table}_pending_idx`.slice(0, 63));
  const failedIndex = quoteIdentifier(`${table}_failed_idx`.slice(0, 63));
  const aggregateIndex = quoteIdentifier(`${table}_aggregate_pending_idx`.slice(0, 63));
  const retryingIndex = quoteIdentifier(`${table}_retrying_idx`.slice(0, 63));
  const publishedIndex = quoteIdentifier(`${table}_published_idx`.slice(0, 63));
  return [
    `CREATE TABLE IF NOT EXISTS ${name} (
      id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      event_id        uuid        NOT NULL UNIQUE,
      event_type      text        NOT NULL,
      event_version   text        NOT NULL,
      aggregate_type  text        NOT NULL,
      aggregate_id    text        NOT NULL,
      payload         jsonb       NOT NULL,
      headers         jsonb       NOT NULL DEFAULT '{}'::jsonb,
      occurred_at     timestamptz NOT NULL,
      created_at      timestamptz NOT NULL DEFAULT now(),
      transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
      attempts        integer     NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      last_error      text,
      published_at    timestamptz,
      failed_at       timestamptz
    )`,
    // Only pending rows are indexed for claiming, so the claim and the backlog count stay
    // cheap however many published rows remain.
    `CREATE INDEX IF NOT EXISTS ${pendingIndex} ON ${name} (id)
      WHERE published_at IS NULL AND failed_at IS NULL`,
    // Dead letters are few; this keeps counting and listing them off the full table.
    `CREATE INDEX IF NOT EXISTS ${failedIndex} ON ${name} (id) WHERE failed_at IS NOT NULL`,
    // The claim's per-aggregate order check: "is an earlier row of this aggregate unpublished?"
    `CREATE INDEX IF NOT EXISTS ${aggregateIndex} ON ${name} (aggregate_type, aggregate_id, id)
      WHERE published_at IS NULL`,
    // "Is an earlier row of this aggregate stuck in a retry or dead-lettered?": only rows that
    // failed at least once, so it stays tiny.
    `CREATE INDEX IF NOT EXISTS ${retryingIndex} ON ${name} (aggregate_type, aggregate_id, id)
      WHERE published_at IS NULL AND attempts > 0`,
    // Retention purges the oldest published rows first, in bounded batches.
    `CREATE INDEX IF NOT EXISTS ${publishedIndex} ON ${name} (published_at)
      WHERE published_at IS NOT NULL`,
    // The relay's "I am idle, wake me" flag (1 = idle). A sequence because setval() is seen
    // by every session at once, outside any transaction, and reading it writes nothing.
    // Owned by the table, so dropping the table drops it too.
    `CREATE SEQUENCE IF NOT EXISTS ${relayIdleSequence(table, schema)}
      MINVALUE 0 MAXVALUE 1 START 1 NO CYCLE OWNED BY ${name}.id`,
  ];
}

/** Drops the table, and with it the sequence it owns. */
export function dropOutboxTableSql(table: string, schema?: string): string {
  return `DROP TABLE IF EXISTS ${qualifiedTableName(table, schema)}`;
}
