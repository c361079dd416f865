import { InvalidDomainEventError } from '../errors/invalid-domain-event.error.js';
import { PayloadNotSerializableError } from '../errors/payload-not-serializable.error.js';
import { isEventType, type DomainEvent } from '../events/domain-event.js';
import { isUuid } from '../utils/uuid.js';

const VERSION = /^\d+(\.\d+){0,2}$/;
const AGGREGATE_TYPE = /^[a-z][a-z0-9_]{0,99}$/;
/** An aggregate id is an identifier (a UUID, a number, a slug), not a document. */
export const MAX_AGGREGATE_ID_LENGTH = 512;
// Header names are HTTP-style tokens; values must fit on one line. Nats-* headers belong to
// the broker protocol: a user-supplied Nats-Msg-Id would break de-duplication.
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/**
 * A `\u0000` or a lone-surrogate escape that JSON.stringify wrote for a real character: one
 * preceded by an even number of backslashes. The text `\u0000` itself (a backslash, then
 * `u0000`) is written `\\u0000` and is legitimate content. PostgreSQL's jsonb accepts neither.
 */
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

/**
 * Refuses, with a typed error naming the problem, any event PostgreSQL or a broker could not
 * take. Runs before any SQL, so the caller's transaction is still its own to roll back.
 */
export function assertValidEvent(event: unknown): asserts event is DomainEvent {
  if (event === null || typeof event !== 'object') {
    throw new InvalidDomainEventError(
      String(event),
      'not an event: build it with defineDomainEvent',
    );
  }
  const e = event as Partial<DomainEvent>;
  const type = String(e.eventType);
  const problem = (reason: string) => new InvalidDomainEventError(type, reason);
  if (!isEventType(e.eventType)) {
    throw problem('malformed event type: dot-separated lower-case words, 255 characters at most');
  }
  if (!isUuid(e.eventId)) {
    throw problem('the event id must be a UUID');
  }
  if (typeof e.eventVersion !== 'string' || !VERSION.test(e.eventVersion)) {
    throw problem('the version must look like "1" or "1.0"');
  }
  if (typeof e.aggregateType !== 'string' || !AGGREGATE_TYPE.test(e.aggregateType)) {
    throw problem('the aggregate type must be a lower-case word of 100 characters at most');
  }
  if (typeof e.aggregateId !== 'string' || e.aggregateId.trim() === '') {
    throw problem('the aggregate id is missing');
  }
  if (e.aggregateId.length > MAX_AGGREGATE_ID_LENGTH || !isStorableText(e.aggregateId)) {
    throw problem(
      `the aggregate id must be text without NUL or lone surrogates, ${MAX_AGGREGATE_ID_LENGTH} characters at most`,
    );
  }
  if (!(e.occurredAt instanceof Date) || Number.isNaN(e.occurredAt.getTime())) {
    throw problem('occurredAt must be a valid Date');
  }
  for (const [name, value] of Object.entries(e.headers ?? {})) {
    const reason = !HEADER_NAME.test(name)
      ? `header name ${JSON.stringify(name)} is not a token`
      : /^nats-/i.test(name)
        ? `header ${name} is reserved for the broker`
        : typeof value !== 'string' || /[\r\n\0]/.test(value) || LONE_SURROGATE.test(value)
          ? `header ${name} must be a single-line string`
          : undefined;
    if (reason) throw problem(reason);
  }
}

/** Refuses two events with one id in one write: the second would abort the transaction. */
export function assertDistinctIds(events: readonly DomainEvent[]): void {
  const seen = new Set<string>();
  for (const event of events) {
    if (seen.has(event.eventId.toLowerCase())) {
      throw new InvalidDomainEventError(
        event.eventType,
        `event id ${event.eventId} appears twice in one write`,
      );
    }
    seen.add(event.eventId.toLowerCase());
  }
}

/** The payload as JSON text, or a typed error when it cannot be written as jsonb. */
export function serializePayload(event: DomainEvent): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(event.payload);
  } catch (error) {
    throw new PayloadNotSerializableError(event.eventType, event.eventId, error);
  }
  if (json === undefined) {
    throw new PayloadNotSerializableError(event.eventType, event.eventId, 'it is undefined');
  }
  if (UNSTORABLE_ESCAPE.test(json)) {
    throw new PayloadNotSerializableError(
      event.eventType,
      event.eventId,
      'a string holds a NUL character or a lone surrogate, which PostgreSQL cannot store',
    );
  }
  return json;
}

function isStorableText(text: string): boolean {
  return !text.includes('\0') && !LONE_SURROGATE.test(text);
}
