import { Inject, Injectable, Optional } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { qualifiedTableName } from '../config/sql-identifier.js';
import { InvalidDomainEventError } from '../errors/invalid-domain-event.error.js';
import { OutboxTransactionRequiredError } from '../errors/outbox-transaction-required.error.js';
import { PayloadNotSerializableError } from '../errors/payload-not-serializable.error.js';
import { PayloadTooLargeError } from '../errors/payload-too-large.error.js';
import { isEventType, type DomainEvent } from '../events/domain-event.js';
import { OutboxInstrumentation } from '../instrumentation/outbox-instrumentation.js';
import {
  OUTBOX_ENTITY_MANAGER_RESOLVER,
  OUTBOX_OPTIONS,
  type OutboxEntityManagerResolver,
} from '../outbox.constants.js';
import { runOutboxQuery } from '../table/run-outbox-query.js';
import { notifyWhenRelayIdle, wakeupChannel } from '../wakeup/wakeup.sql.js';

/**
 * Where events are written: validated, then inserted through the caller's `EntityManager`.
 * This class never opens a transaction or a connection of its own.
 * @publicApi
 */
@Injectable()
export class OutboxRepository {
  private readonly table: string;
  private readonly channel: string;
  private readonly insertSql: string;
  constructor(
    @Inject(OUTBOX_OPTIONS) private readonly options: ResolvedOutboxOptions,
    @Optional()
    @Inject(OUTBOX_ENTITY_MANAGER_RESOLVER)
    private readonly currentManager?: OutboxEntityManagerResolver,
    @Optional() private readonly instrumentation?: OutboxInstrumentation,
  ) {
    this.table = qualifiedTableName(options.table, options.schema);
    this.channel = wakeupChannel(options.table, options.schema);
    // unnest() keeps the statement and its parameter count the same for 1 or 10,000 events;
    // ORDINALITY makes the ids follow the order the caller gave.
    const insert = `INSERT INTO ${this.table}
         (event_id, event_type, event_version, aggregate_type, aggregate_id, occurred_at, payload, headers)
       SELECT e, t, v, at, ai, o, p, h
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                     $6::timestamptz[], $7::jsonb[], $8::jsonb[])
              WITH ORDINALITY AS u(e, t, v, at, ai, o, p, h, n)
        ORDER BY n`;
    this.insertSql =
      options.relayWakeup === 'notify'
        ? notifyWhenRelayIdle(insert, '$9', options.table, options.schema)
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
