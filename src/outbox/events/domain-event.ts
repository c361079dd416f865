import { randomUUID } from 'node:crypto';
import { InvalidDomainEventError } from '../errors/invalid-domain-event.error.js';

/**
 * A fact about one aggregate, ready to be recorded in the outbox. Build it with a definition
 * from `defineDomainEvent`, so its type and version come from one place.
 * @publicApi
 */
export interface DomainEvent<TPayload = unknown> {
  readonly eventId: string;
  readonly eventType: string;
  readonly eventVersion: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly occurredAt: Date;
  readonly payload: TPayload;
  /** Extra message headers (trace context and the like). */
  readonly headers: Readonly<Record<string, string>>;
}

/** @publicApi */
export interface CreateDomainEventOptions {
  /** @default a random UUID */
  eventId?: string;
  /** @default now */
  occurredAt?: Date;
  headers?: Record<string, string>;
}

/**
 * A declared event type: stable name, version and aggregate, and a typed factory.
 * @publicApi
 */
export interface DomainEventDefinition<TPayload> {
  readonly type: string;
  readonly version: string;
  readonly aggregateType: string;
  create(
    aggregateId: string,
    payload: TPayload,
    options?: CreateDomainEventOptions,
  ): DomainEvent<TPayload>;
}

/**
 * Dot-separated lower-case words, 255 characters at most: usable as a NATS subject suffix and
 * as an AMQP routing key (whose limit is 255 bytes). An unbounded type would let one event
 * overflow nats-server's control line, which drops the connection on every publish.
 */
export const EVENT_TYPE_PATTERN = /^(?=.{1,255}$)[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

/** Whether `type` is a string that `EVENT_TYPE_PATTERN` accepts (`null` is not "null"). */
export function isEventType(type: unknown): type is string {
  return typeof type === 'string' && EVENT_TYPE_PATTERN.test(type);
}
const VERSION_PATTERN = /^\d+(\.\d+){0,2}$/;
const AGGREGATE_TYPE_PATTERN = /^[a-z][a-z0-9_]{0,99}$/;

/**
 * Declares an event type once:
 * ```ts
 * export const LearningPulseCreated = defineDomainEvent<{ title: string }>({
 *   type: 'learning_pulse.created', version: '1.0', aggregateType: 'learning_pulse',
 * });
 * await outbox.add(manager, LearningPulseCreated.create(pulse.id, { title }));
 * ```
 * @publicApi
 */
export function defineDomainEvent<TPayload>(spec: {
  type: string;
  version: string;
  aggregateType: string;
}): DomainEventDefinition<TPayload> {
  const { type, version, aggregateType } = spec;
  if (!isEventType(type)) {
    throw new InvalidDomainEventError(
      String(type),
      'the type must be dot-separated lower-case words of 255 characters at most, e.g. "learning_pulse.created"',
    );
  }
  if (!VERSION_PATTERN.test(version)) {
    throw new InvalidDomainEventError(type, `version "${version}" must look like "1" or "1.0"`);
  }
  if (!AGGREGATE_TYPE_PATTERN.test(aggregateType)) {
    throw new InvalidDomainEventError(
      type,
      `aggregate type "${aggregateType}" must be a lower-case word`,
    );
  }
  return Object.freeze({
    type,
    version,
    aggregateType,
    create(aggregateId: string, payload: TPayload, options: CreateDomainEventOptions = {}) {
      return Object.freeze({
        eventId: options.eventId ?? randomUUID(),
        eventType: type,
        eventVersion: version,
        aggregateType,
        aggregateId,
        occurredAt: options.occurredAt ?? new Date(),
        payload,
        headers: { ...options.headers },
      });
    },
  });
}
