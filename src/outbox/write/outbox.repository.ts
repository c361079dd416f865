import { Inject, Injectable, Optional } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { qualifiedTableName } from '../config/sql-identifier.js';
import { InvalidDomainEventError } from '../errors/invalid-domain-event.error.js';
import { OutboxTransactionRequiredError } from '../errors/outbox-transaction-required.error.js';
import { PayloadTooLargeError } from '../errors/payload-too-large.error.js';
import type { DomainEvent } from '../events/domain-event.js';
import { OutboxInstrumentation } from '../instrumentation/outbox-instrumentation.js';
import {
  OUTBOX_ENTITY_MANAGER_RESOLVER,
  OUTBOX_OPTIONS,
  type OutboxEntityManagerResolver,
} from '../outbox.constants.js';
import { runOutboxQuery } from '../table/run-outbox-query.js';
import { notifyWhenRelayIdle, wakeupChannel } from '../wakeup/wakeup.sql.js';
import { assertDistinctIds, assertValidEvent, serializePayload } from './event-validation.js';

/**
 * Where events are written: validated, then inserted through the caller's `EntityManager`.
 * This class never opens a transaction or a connection of its own.
 * @publicApi
 */
@Injectable()
export class OutboxRepository {
  private readonly table: string;
  private readonly channel: string;
  /** The insert of one event, and of several: the same columns, parameters $1-$8 (and $9). */
  private readonly insertOneSql: string;
  private readonly insertManySql: string;
  constructor(
    @Inject(OUTBOX_OPTIONS) private readonly options: ResolvedOutboxOptions,
    @Optional()
    @Inject(OUTBOX_ENTITY_MANAGER_RESOLVER)
    private readonly currentManager?: OutboxEntityManagerResolver,
    @Optional() private readonly instrumentation?: OutboxInstrumentation,
  ) {
    this.table = qualifiedTableName(options.table, options.schema);
    this.channel = wakeupChannel(options.table, options.schema);
    const into = `INSERT INTO ${this.table}
         (event_id, event_type, event_version, aggregate_type, aggregate_id, occurred_at, payload, headers)`;
    // One event, the usual case, is one VALUES row: unpacking arrays cost the database about
    // a tenth of a one-row transaction.
    const one = `${into} VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;
    // unnest() keeps the statement and its parameter count the same for 2 or 10,000 events;
    // ORDINALITY makes the ids follow the order the caller gave.
    const many = `${into}
       SELECT e, t, v, at, ai, o, p, h
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                     $6::timestamptz[], $7::jsonb[], $8::jsonb[])
              WITH ORDINALITY AS u(e, t, v, at, ai, o, p, h, n)
        ORDER BY n`;
    const withWakeup = (insert: string) =>
      options.relayWakeup === 'notify'
        ? notifyWhenRelayIdle(insert, '$9', options.table, options.schema)
        : insert;
    this.insertOneSql = withWakeup(one);
    this.insertManySql = withWakeup(many);
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
    const list: readonly unknown[] = Array.isArray(events) ? events : [events];
    if (list.length === 0) return;
    list.forEach(assertValidEvent);
    assertDistinctIds(list as readonly DomainEvent[]);
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
    for (const event of list as readonly DomainEvent[]) {
      columns.eventId.push(event.eventId);
      columns.eventType.push(event.eventType);
      columns.eventVersion.push(event.eventVersion);
      columns.aggregateType.push(event.aggregateType);
      columns.aggregateId.push(event.aggregateId);
      columns.occurredAt.push(event.occurredAt.toISOString());
      const payload = serializePayload(event);
      const headers = JSON.stringify({ ...stamped, ...event.headers });
      this.assertSize(event, payload, headers);
      columns.payload.push(payload);
      columns.headers.push(headers);
    }
    const one = list.length === 1;
    const parameters: unknown[] = Object.values(columns).map((values) =>
      one ? values[0] : values,
    );
    if (this.options.relayWakeup === 'notify') parameters.push(this.channel);
    try {
      await this.run(manager, one ? this.insertOneSql : this.insertManySql, parameters);
    } catch (error) {
      throw duplicateEventError(error) ?? error;
    }
    this.instrumentation?.eventsRecorded(list as readonly DomainEvent[]);
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

/** A unique violation on `event_id` as a typed error naming the id; anything else: undefined. */
function duplicateEventError(error: unknown): InvalidDomainEventError | undefined {
  type PgError = { code?: string; detail?: string };
  const driver: PgError | undefined =
    (error as { driverError?: PgError } | undefined)?.driverError ?? (error as PgError);
  const detail = typeof driver?.detail === 'string' ? driver.detail : '';
  if (driver?.code !== '23505' || !/\(event_id\)/.test(detail)) return undefined;
  const id = /=\(([^)]*)\)/.exec(detail)?.[1] ?? 'of this write';
  return new InvalidDomainEventError(
    '(outbox)',
    `event id ${id} is already recorded: each event is recorded once`,
  );
}
