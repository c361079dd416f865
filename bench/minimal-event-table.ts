import type { EntityManager } from 'typeorm';
import type { DomainEvent } from '../src/outbox/index.js';
import { createOutboxTableSql } from '../src/outbox/table/outbox-table.sql.js';

/**
 * The write path's floor: the outbox table's own columns and defaults, taken from the
 * library's DDL so that the row stays the same shape, with the primary key as its only index
 * (no unique `event_id`, no partial indexes, no idle-flag sequence).
 */
export function createMinimalEventTableSql(table: string): string {
  const [create] = createOutboxTableSql(table);
  const bare = create.replace(/(event_id\s+uuid\s+NOT NULL) UNIQUE/, '$1');
  if (bare === create)
    throw new Error('minimal event table: the DDL no longer has UNIQUE event_id');
  return bare;
}

/**
 * The same row the library writes, as a hand-written INSERT would: one VALUES row, the
 * payload serialized once, no validation, no wake-up.
 */
export async function insertMinimalEvent(
  manager: EntityManager,
  table: string,
  event: DomainEvent,
): Promise<void> {
  await manager.query(
    `INSERT INTO "${table}" (event_id, event_type, event_version, aggregate_type, aggregate_id,
                             occurred_at, payload, headers)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      event.eventId,
      event.eventType,
      event.eventVersion,
      event.aggregateType,
      event.aggregateId,
      event.occurredAt.toISOString(),
      JSON.stringify(event.payload),
      JSON.stringify(event.headers),
    ],
  );
}
