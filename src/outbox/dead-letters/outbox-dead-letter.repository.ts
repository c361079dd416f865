import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { qualifiedTableName } from '../config/sql-identifier.js';
import { InvalidDeadLetterQueryError } from '../errors/invalid-dead-letter-query.error.js';
import { OUTBOX_OPTIONS } from '../outbox.constants.js';
import { runOutboxQuery } from '../table/run-outbox-query.js';
import { isUuid } from '../utils/uuid.js';

/** The most dead letters one `list` returns. */
export const MAX_DEAD_LETTER_LIMIT = 10_000;

/** A dead letter: an event the relay gave up on. It stays in the table until requeued or purged. @publicApi */
export interface FailedEvent {
  readonly id: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly occurredAt: Date;
  readonly failedAt: Date;
}

/** Which dead letters an operation applies to: one event, or every one of a type. @publicApi */
export type FailedEventFilter = { readonly eventId: string } | { readonly eventType: string };

/**
 * Statements outside the relay's hot path: dead letters and retention. Kept apart from
 * `OutboxRepository` so the write and relay paths read on their own.
 */
@Injectable()
export class OutboxDeadLetterRepository {
  private readonly table: string;

  constructor(@Inject(OUTBOX_OPTIONS) options: ResolvedOutboxOptions) {
    this.table = qualifiedTableName(options.table, options.schema);
  }

  async listFailed(
    manager: EntityManager,
    { eventType, limit = 100 }: { eventType?: string; limit?: number } = {},
  ): Promise<FailedEvent[]> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DEAD_LETTER_LIMIT) {
      throw new InvalidDeadLetterQueryError(
        `limit must be a whole number from 1 to ${MAX_DEAD_LETTER_LIMIT} (got ${String(limit)})`,
      );
    }
    if (eventType !== undefined && typeof eventType !== 'string') {
      throw new InvalidDeadLetterQueryError('eventType must be a string');
    }
    const rows = await runOutboxQuery<Record<string, unknown>[]>(
      manager,
      this.table,
      `SELECT id, event_id, event_type, aggregate_type, aggregate_id, attempts, last_error,
              occurred_at, failed_at
         FROM ${this.table}
        WHERE failed_at IS NOT NULL AND ($1::text IS NULL OR event_type = $1)
        ORDER BY id
        LIMIT $2`,
      [eventType ?? null, limit],
    );
    return rows.map((r) => ({
      id: r.id as string,
      eventId: r.event_id as string,
      eventType: r.event_type as string,
      aggregateType: r.aggregate_type as string,
      aggregateId: r.aggregate_id as string,
      attempts: r.attempts as number,
      lastError: r.last_error as string | null,
      occurredAt: r.occurred_at as Date,
      failedAt: r.failed_at as Date,
    }));
  }

  /** Gives matching dead letters a fresh attempt budget; they are published on the next tick. */
  async requeue(manager: EntityManager, filter: FailedEventFilter): Promise<number> {
    const value = filterValue(filter);
    const [, count] = await runOutboxQuery<[unknown[], number]>(
      manager,
      this.table,
      `UPDATE ${this.table}
          SET failed_at = NULL, attempts = 0, next_attempt_at = now()
        WHERE failed_at IS NOT NULL AND ${this.match(filter)}`,
      [value],
    );
    return count;
  }

  /** Deletes matching dead letters for good. */
  async purgeFailed(manager: EntityManager, filter: FailedEventFilter): Promise<number> {
    const value = filterValue(filter);
    const [, count] = await runOutboxQuery<[unknown[], number]>(
      manager,
      this.table,
      `DELETE FROM ${this.table} WHERE failed_at IS NOT NULL AND ${this.match(filter)}`,
      [value],
    );
    return count;
  }

  /**
   * Deletes up to `limit` rows published more than `olderThanMs` ago, oldest first. Bounded,
   * so no single statement holds many locks or writes a huge amount of WAL.
   */
  async purgePublished(
    manager: EntityManager,
    olderThanMs: number,
    limit: number,
  ): Promise<number> {
    const [, count] = await runOutboxQuery<[unknown[], number]>(
      manager,
      this.table,
      `DELETE FROM ${this.table}
        WHERE id IN (SELECT id FROM ${this.table}
                      WHERE published_at < now() - $1 * interval '1 millisecond'
                      ORDER BY published_at
                      LIMIT $2)`,
      [olderThanMs, limit],
    );
    return count;
  }

  private match(filter: FailedEventFilter): string {
    return 'eventId' in filter ? 'event_id = $1::uuid' : 'event_type = $1';
  }
}

/** The filter's one value, checked before it reaches SQL. */
function filterValue(filter: FailedEventFilter): string {
  if (filter && 'eventId' in filter) {
    if (!isUuid(filter.eventId)) {
      throw new InvalidDeadLetterQueryError(
        `"${String(filter.eventId)}" is not an event id (a UUID)`,
      );
    }
    return filter.eventId;
  }
  if (filter && 'eventType' in filter && typeof filter.eventType === 'string' && filter.eventType) {
    return filter.eventType;
  }
  throw new InvalidDeadLetterQueryError('give an eventId or an eventType');
}
