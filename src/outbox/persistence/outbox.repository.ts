import { Inject, Injectable, Optional } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { qualifiedTableName } from '../config/sql-identifier.js';
import { InvalidDomainEventError } from '../errors/invalid-domain-event.error.js';
import { OutboxTransactionRequiredError } from '../errors/outbox-transaction-required.error.js';
import { PayloadNotSerializableError } from '../errors/payload-not-serializable.error.js';
import { PayloadTooLargeError } from '../errors/payload-too-large.error.js';
import { isEventType, type DomainEvent } from '../events/domain-event.js';
import type { EventEnvelope } from '../events/event-envelope.js';
import { OutboxInstrumentation } from '../instrumentation/outbox-instrumentation.js';
import {
  OUTBOX_ENTITY_MANAGER_RESOLVER,
  OUTBOX_OPTIONS,
  type OutboxEntityManagerResolver,
} from '../outbox.constants.js';
import type { ClaimedEvent } from './claimed-event.js';
import { relayIdleSequence, wakeupChannel } from './outbox-table.sql.js';
import { runOutboxQuery } from './run-outbox-query.js';

/** A publish that failed for this event, to be retried later or given up. */
export interface EventFailure {
  readonly id: string;
  /** Already free of credentials. */
  readonly error: string;
  readonly retryInMs: number;
  /** Out of attempts, or the broker can never take it (too large): keep it as a dead letter. */
  readonly giveUp: boolean;
}

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

/** What one claim returned. */
export interface ClaimedBatch {
  /** Rows locked, including those held back for ordering: a full batch means "look again". */
  readonly locked: number;
  /** The rows that may be published now, in id order. */
  readonly events: ClaimedEvent[];
}

interface ClaimedRow {
  id: string;
  attempts: number;
  /** False while an earlier row of the aggregate is unpublished and not in this batch. */
  ready: boolean;
  event_id: string;
  event_type: string;
  event_version: string;
  aggregate_type: string;
  aggregate_id: string;
  occurred_at: Date;
  created_at: Date;
  payload_json: string;
  headers: Record<string, string>;
}

/**
 * Every SQL statement on the outbox table. Writes always go through the caller's
 * `EntityManager`: this class never opens a transaction or a connection of its own for them.
 * @publicApi
 */
@Injectable()
export class OutboxRepository {
  private readonly table: string;
  private readonly channel: string;
  private readonly insertSql: string;
  /**
   * Rows `o` a claim may take: pending, due, and not behind an earlier row of their aggregate
   * that waits for a retry or is dead-lettered. That last part comes before the LIMIT, so a
   * blocked aggregate cannot fill every batch and starve the others.
   */
  private readonly due: string;

  constructor(
    @Inject(OUTBOX_OPTIONS) private readonly options: ResolvedOutboxOptions,
    @Optional()
    @Inject(OUTBOX_ENTITY_MANAGER_RESOLVER)
    private readonly currentManager?: OutboxEntityManagerResolver,
    @Optional() private readonly instrumentation?: OutboxInstrumentation,
  ) {
    this.table = qualifiedTableName(options.table, options.schema);
    this.channel = wakeupChannel(options.table, options.schema);
    this.due = `o.published_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= now()
      AND NOT EXISTS (
            SELECT 1 FROM ${this.table} s
             WHERE s.aggregate_type = o.aggregate_type AND s.aggregate_id = o.aggregate_id
               AND s.id < o.id AND s.published_at IS NULL AND s.attempts > 0
               AND (s.failed_at IS NOT NULL OR s.next_attempt_at > now()))`;
    // unnest() keeps the statement and its parameter count the same for 1 or 10,000 events;
    // ORDINALITY makes the ids follow the order the caller gave.
    const insert = `INSERT INTO ${this.table}
         (event_id, event_type, event_version, aggregate_type, aggregate_id, occurred_at, payload, headers)
       SELECT e, t, v, at, ai, o, p, h
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                     $6::timestamptz[], $7::jsonb[], $8::jsonb[])
              WITH ORDINALITY AS u(e, t, v, at, ai, o, p, h, n)
        ORDER BY n`;
    // A NOTIFY makes commits queue on one global lock, so only a writer that finds the relay
    // idle sends one; while the relay drains, writers pay a sequence read and nothing else.
    this.insertSql =
      options.relayWakeup === 'notify'
        ? `WITH inserted AS (${insert} RETURNING 1)
           SELECT pg_notify($9, '') FROM ${relayIdleSequence(options.table, options.schema)}
            WHERE last_value = 1 AND EXISTS (SELECT FROM inserted)`
        : insert;
  }

  /**
   * Records events in the ambient transaction, the one `OUTBOX_ENTITY_MANAGER_RESOLVER`
   * returns (for example the one `@Transactional()` opened). Same rules as `add()`.
   */
  record(events: DomainEvent | readonly DomainEvent[]): Promise<void> {
    if (!this.currentManager) throw new OutboxTransactionRequiredError();
    return this.add(this.currentManager(), events);
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
    const stamped = this.instrumentation?.writeHeaders();
    for (const event of list) {
      assertValid(event);
      columns.eventId.push(event.eventId);
      columns.eventType.push(event.eventType);
      columns.eventVersion.push(event.eventVersion);
      columns.aggregateType.push(event.aggregateType);
      columns.aggregateId.push(event.aggregateId);
      columns.occurredAt.push(event.occurredAt.toISOString());
      const payload = this.serializedPayload(event);
      const headers = JSON.stringify(
        stamped ? { ...stamped, ...checkedHeaders(event) } : checkedHeaders(event),
      );
      this.assertSize(event, payload, headers);
      columns.payload.push(payload);
      columns.headers.push(headers);
    }
    const parameters: unknown[] = Object.values(columns);
    if (this.options.relayWakeup === 'notify') parameters.push(this.channel);
    await this.run(manager, this.insertSql, parameters);
    this.instrumentation?.eventsRecorded(list);
  }

  /**
   * Locks up to `limit` due rows in id order, skipping rows another relay holds, and returns
   * those that may go out now. The locks last until the caller's transaction ends, which is
   * what keeps two relays from publishing the same row at the same time. Order per aggregate:
   * a row is held back while an earlier committed row of its aggregate is unpublished and not in this
   *   batch (locked by another relay, waiting for a retry, or dead-lettered); it stays locked
   *   until this transaction ends, and is looked at again by the next claim.
   */
  async claim(manager: EntityManager, limit: number): Promise<ClaimedBatch> {
    // Rows behind a stuck predecessor (retry pending, or dead letter) are skipped before the
    // LIMIT, so a blocked aggregate cannot fill every batch and starve the others.
    const rows = await this.run<ClaimedRow[]>(
      manager,
      `WITH candidates AS (
         SELECT o.id FROM ${this.table} o
          WHERE ${this.due}
          ORDER BY o.id
          LIMIT $1
            FOR UPDATE SKIP LOCKED
       )
       SELECT o.id, o.attempts, o.event_id, o.event_type, o.event_version, o.aggregate_type,
              o.aggregate_id, o.occurred_at, o.created_at, o.payload::text AS payload_json, o.headers,
              NOT EXISTS (
                SELECT 1 FROM ${this.table} e
                 WHERE e.aggregate_type = o.aggregate_type AND e.aggregate_id = o.aggregate_id
                   AND e.id < o.id AND e.published_at IS NULL
                   AND e.id NOT IN (SELECT id FROM candidates)) AS ready
         FROM ${this.table} o JOIN candidates c ON c.id = o.id
        ORDER BY o.id`,
      [limit],
    );
    const events = rows
      .filter((row) => row.ready)
      .map((row) => ({
        id: row.id,
        attempts: row.attempts,
        createdAt: row.created_at,
        message: {
          envelope: envelopeOf(row),
          headers: row.headers,
          payloadJson: row.payload_json,
        },
      }));
    return { locked: rows.length, events };
  }

  /**
   * Whether a claim would find a row now: one probe of the pending index, no lock, no
   * transaction. The relay polls it for a few milliseconds after running dry.
   */
  async hasDue(manager: EntityManager): Promise<boolean> {
    const [row] = await this.run<{ due: boolean }[]>(
      manager,
      `SELECT EXISTS (
         SELECT 1 FROM ${this.table} o
          WHERE ${this.due}) AS due`,
    );
    return row.due;
  }

  /**
   * Sets up the relay's claim transaction: bounds its statements and idle time
   * (milliseconds), and lets its commit return before the WAL is flushed. A mark lost in a
   * database crash only makes its rows pending again, to be published again and dropped by
   * the broker's de-duplication: at-least-once allows that, and the relay's commits then no
   * longer queue for the disk with the writers'.
   */
  async limitTransaction(manager: EntityManager, ms: number): Promise<void> {
    await manager.query(
      `SELECT set_config('idle_in_transaction_session_timeout', $1, true),
              set_config('statement_timeout', $1, true),
              set_config('synchronous_commit', 'off', true)`,
      [String(ms)],
    );
  }

  /**
   * Marks rows published, in one statement; with a retention of 0 it deletes them instead.
   * Call it in the transaction that claimed them.
   */
  async markPublished(manager: EntityManager, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.run(
      manager,
      this.options.retentionMs === 0
        ? `DELETE FROM ${this.table} WHERE id = ANY($1::bigint[])`
        : `UPDATE ${this.table} SET published_at = now() WHERE id = ANY($1::bigint[])`,
      [ids],
    );
  }

  /**
   * Counts an attempt for each failed row and schedules its retry, or gives it up (dead
   * letter). One statement for the whole batch.
   */
  async recordFailures(manager: EntityManager, failures: readonly EventFailure[]): Promise<void> {
    if (failures.length === 0) return;
    await this.run(
      manager,
      `UPDATE ${this.table} t
          SET attempts = t.attempts + 1,
              last_error = u.error,
              next_attempt_at = now() + u.retry_in_ms * interval '1 millisecond',
              failed_at = CASE WHEN u.give_up THEN now() END
         FROM unnest($1::bigint[], $2::text[], $3::float8[], $4::bool[])
              AS u(id, error, retry_in_ms, give_up)
        WHERE t.id = u.id`,
      [
        failures.map((f) => f.id),
        failures.map((f) => f.error.slice(0, 1_000)),
        failures.map((f) => f.retryInMs),
        failures.map((f) => f.giveUp),
      ],
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
    return json;
  }

  /** The headers travel with the payload, so the broker's size limit is on both. */
  private assertSize(event: DomainEvent, payload: string, headers: string): void {
    const size = Buffer.byteLength(payload) + Buffer.byteLength(headers);
    if (size > this.options.maxPayloadBytes) {
      throw new PayloadTooLargeError(
        event.eventType,
        event.eventId,
        size,
        this.options.maxPayloadBytes,
      );
    }
  }

  private run<T = unknown>(manager: EntityManager, sql: string, parameters?: unknown[]) {
    return runOutboxQuery<T>(manager, this.table, sql, parameters);
  }
}

/**
 * The envelope of a claimed row. Its payload is parsed only if something reads it: the NATS
 * serializer splices `payloadJson` into the body instead.
 */
function envelopeOf(row: ClaimedRow): EventEnvelope {
  let payload: unknown;
  let parsed = false;
  return {
    event_id: row.event_id,
    event_type: row.event_type,
    event_version: row.event_version,
    aggregate_type: row.aggregate_type,
    aggregate_id: row.aggregate_id,
    occurred_at: row.occurred_at.toISOString(),
    get payload(): unknown {
      if (!parsed) {
        payload = JSON.parse(row.payload_json);
        parsed = true;
      }
      return payload;
    },
  };
}

function assertValid(event: DomainEvent): void {
  if (!isEventType(event.eventType)) {
    throw new InvalidDomainEventError(
      String(event.eventType),
      'malformed event type: dot-separated lower-case words, 255 characters at most',
    );
  }
  if (typeof event.aggregateId !== 'string' || event.aggregateId.trim() === '') {
    throw new InvalidDomainEventError(event.eventType, 'the aggregate id is missing');
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
