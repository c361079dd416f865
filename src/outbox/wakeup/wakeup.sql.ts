import { qualifiedTableName } from '../config/sql-identifier.js';

/** The sequence that tells writers whether a relay waits for a notification. */
export function relayIdleSequence(table: string, schema?: string): string {
  return qualifiedTableName(`${table.slice(0, 52)}_relay_idle`, schema);
}

/** The LISTEN/NOTIFY channel of this outbox table: a plain identifier, unique per table. */
export function wakeupChannel(table: string, schema?: string): string {
  return (schema ? `${schema}__${table}` : table).slice(0, 63);
}

/**
 * Wraps an insert so that it notifies the table's channel only when a relay advertised that
 * it is idle. A NOTIFY makes commits queue on one global lock, so while the relay drains,
 * writers pay a sequence read and nothing else. `$channelParameter` is the channel's
 * placeholder.
 */
export function notifyWhenRelayIdle(
  insert: string,
  channelParameter: string,
  table: string,
  schema?: string,
): string {
  return `WITH inserted AS (${insert} RETURNING 1)
    SELECT pg_notify(${channelParameter}, '') FROM ${relayIdleSequence(table, schema)}
     WHERE last_value = 1 AND EXISTS (SELECT FROM inserted)`;
}
