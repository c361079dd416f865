import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { qualifiedTableName } from '../config/sql-identifier.js';
import { InvalidDomainEventError } from '../errors/invalid-domain-event.error.js';
import { OutboxTableMissingError } from '../errors/outbox-table-missing.error.js';
import { OutboxTransactionRequiredError } from '../errors/outbox-transaction-required.error.js';
import { PayloadNotSerializableError } from '../errors/payload-not-serializable.error.js';
import { PayloadTooLargeError } from '../errors/payload-too-large.error.js';
import { EVENT_TYPE_PATTERN, type DomainEvent } from '../events/domain-event.js';
import { OUTBOX_OPTIONS } from '../outbox.constants.js';
import type { ClaimedEvent } from './claimed-event.js';

/** Backlog figures as the health indicators see them. @publicApi */
export interface OutboxBacklog {
  /** Pending events, counted up to the cap. */
  readonly pending: number;
  /** True when the count stopped at the cap: there are at least `pending`. */
  readonly pendingCapped: boolean;
  /** Age of the oldest pending event (database clock), or null without backlog. */
  readonly oldestPendingAgeMs: number | null;
  /** Events that gave up (dead letters), counted up to the cap. */
  readonly failed: number;
}

interface ClaimedRow {
  id: string;
  event_id: string;
  event_type: string;
  event_version: string;
  aggregate_type: string;
  aggregate_id: string;
  occurred_at: Date;
  payload: unknown;
  headers: Record<string, string>;
}

const UNDEFINED_TABLE = '42P01';

/**
 * Every SQL statement on the outbox table. Writes always go through the caller's
 * `EntityManager`: this class never opens a transaction or a connection of its own for them.
 * @publicApi
 */
@Injectable()
export class OutboxRepository {
  private readonly table: string;

  constructor(@Inject(OUTBOX_OPTIONS) private readonly options: ResolvedOutboxOptions) {
    this.table = qualifiedTableName(options.table, options.schema);
  }

  /**
   * Records events in the caller's transaction, in one statement whatever their number.
   * Validation happens before any SQL, so a bad event fails the caller's transaction
   * while it can still be rolled back.
   */
  async add(manager: EntityManager, events: DomainEvent | readonly DomainEvent[]): Promise<void> {
    const list: readonly DomainEvent[] = Array.isArray(events) ? events : [events as DomainEvent];
    if (list.length === 0) return;
    if (this.options.requireTransaction && !manager.queryRunner?.isTransactionActive) {
      throw new OutboxTransactionRequiredError();
    }
    const columns = {
      eventId: [] as string[],
      eventType: [] as string[],
      eventVersion: [] as string[],
      aggregateType: [] as string[],
      aggregateId: [] as string[],
      occurredAt: [] as string[],
      payload: [] as string[],
      headers: [] as string[],
    };
    for (const event of list) {
      columns.eventId.push(event.eventId);
      columns.eventType.push(event.eventType);
      columns.eventVersion.push(event.eventVersion);
      columns.aggregateType.push(event.aggregateType);
      columns.aggregateId.push(this.checkedAggregateId(event));
      columns.occurredAt.push(event.occurredAt.toISOString());
      columns.payload.push(this.serializedPayload(event));
      columns.headers.push(JSON.stringify(checkedHeaders(event)));
    }
    // unnest() keeps the statement and its parameter count the same for 1 or 10,000 events;
    // ORDINALITY makes the ids follow the order the caller gave.
    await this.run(
      manager,
      `INSERT INTO ${this.table}
         (event_id, event_type, event_version, aggregate_type, aggregate_id, occurred_at, payload, headers)
       SELECT e, t, v, at, ai, o, p, h
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                     $6::timestamptz[], $7::jsonb[], $8::jsonb[])
              WITH ORDINALITY AS u(e, t, v, at, ai, o, p, h, n)
        ORDER BY n`,
      Object.values(columns),
    );
  }

  /**
   * Locks up to `limit` pending rows, oldest first, skipping rows another relay holds.
   * The locks last until the caller's transaction ends, which is what keeps two relays
   * from publishing the same row at the same time.
   */
  async claim(manager: EntityManager, limit: number): Promise<ClaimedEvent[]> {
    const rows = await this.run<ClaimedRow[]>(
      manager,
      `SELECT id, event_id, event_type, event_version, aggregate_type, aggregate_id,
              occurred_at, payload, headers
         FROM ${this.table}
        WHERE published_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
        ORDER BY id
        LIMIT $1
          FOR UPDATE SKIP LOCKED`,
      [limit],
    );
    return rows.map((row) => ({
      id: row.id,
      message: {
        envelope: {
          event_id: row.event_id,
          event_type: row.event_type,
          event_version: row.event_version,
          aggregate_type: row.aggregate_type,
          aggregate_id: row.aggregate_id,
          occurred_at: row.occurred_at.toISOString(),
          payload: row.payload,
        },
        headers: row.headers,
      },
    }));
  }

  /** Bounds the current transaction's statements and idle time (milliseconds). */
  async limitTransaction(manager: EntityManager, ms: number): Promise<void> {
    await manager.query(
      `SELECT set_config('idle_in_transaction_session_timeout', $1, true),
              set_config('statement_timeout', $1, true)`,
      [String(ms)],
    );
  }

  /** Marks rows published, in one statement. Call it in the transaction that claimed them. */
  async markPublished(manager: EntityManager, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.run(
      manager,
      `UPDATE ${this.table}
          SET published_at = now()
        WHERE id = ANY($1::bigint[])`,
      [ids],
    );
  }

  /**
   * Pending count, age of the oldest pending row and dead-letter count. Every part reads a
   * partial index and stops at `cap` rows, so the cost does not grow with the table.
   */
  async backlog(manager: EntityManager, cap: number): Promise<OutboxBacklog> {
    const [row] = await this.run<
      { pending: number; oldest_age_ms: number | null; failed: number }[]
    >(
      manager,
      `SELECT (SELECT count(*)::int FROM (SELECT 1 FROM ${this.table}
                WHERE published_at IS NULL AND failed_at IS NULL LIMIT $1) p) AS pending,
              (SELECT (extract(epoch FROM now() - created_at) * 1000)::float8 FROM ${this.table}
                WHERE published_at IS NULL AND failed_at IS NULL ORDER BY id LIMIT 1) AS oldest_age_ms,
              (SELECT count(*)::int FROM (SELECT 1 FROM ${this.table}
                WHERE failed_at IS NOT NULL LIMIT $1) f) AS failed`,
      [cap],
    );
    return {
      pending: row.pending,
      pendingCapped: row.pending >= cap,
      oldestPendingAgeMs:
        row.oldest_age_ms === null ? null : Math.max(0, Math.round(row.oldest_age_ms)),
      failed: row.failed,
    };
  }

  private checkedAggregateId(event: DomainEvent): string {
    if (!EVENT_TYPE_PATTERN.test(event.eventType)) {
      throw new InvalidDomainEventError(event.eventType, 'malformed event type');
    }
    if (typeof event.aggregateId !== 'string' || event.aggregateId.trim() === '') {
      throw new InvalidDomainEventError(event.eventType, 'the aggregate id is missing');
    }
    return event.aggregateId;
  }

  private serializedPayload(event: DomainEvent): string {
    let json: string | undefined;
    try {
      json = JSON.stringify(event.payload);
    } catch (error) {
      throw new PayloadNotSerializableError(event.eventType, event.eventId, error);
    }
    if (json === undefined) {
      throw new PayloadNotSerializableError(event.eventType, event.eventId, 'it is undefined');
    }
    if (json.includes('\\u0000')) {
      // PostgreSQL's jsonb cannot store NUL characters.
      throw new PayloadNotSerializableError(event.eventType, event.eventId, 'it contains \\u0000');
    }
    const size = Buffer.byteLength(json);
    if (size > this.options.maxPayloadBytes) {
      throw new PayloadTooLargeError(
        event.eventType,
        event.eventId,
        size,
        this.options.maxPayloadBytes,
      );
    }
    return json;
  }

  private async run<T = unknown>(
    manager: EntityManager,
    sql: string,
    parameters?: unknown[],
  ): Promise<T> {
    try {
      return await manager.query<T>(sql, parameters);
    } catch (error) {
      if (sqlState(error) === UNDEFINED_TABLE) throw new OutboxTableMissingError(this.table);
      throw error;
    }
  }
}

// Header names are HTTP-style tokens; values must fit on one line. Nats-* headers belong to
// the broker protocol: a user-supplied Nats-Msg-Id would break de-duplication.
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

function checkedHeaders(event: DomainEvent): Readonly<Record<string, string>> {
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    const problem = !HEADER_NAME.test(name)
      ? `header name ${JSON.stringify(name)} is not a token`
      : /^nats-/i.test(name)
        ? `header ${name} is reserved for the broker`
        : typeof value !== 'string' || /[\r\n\0]/.test(value)
          ? `header ${name} must be a single-line string`
          : undefined;
    if (problem) throw new InvalidDomainEventError(event.eventType, problem);
  }
  return event.headers ?? {};
}

function sqlState(error: unknown): string | undefined {
  const e = error as { code?: string; driverError?: { code?: string } };
  return e?.driverError?.code ?? e?.code;
}
