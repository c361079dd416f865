import type { OutboxMessage } from './outbox-message.js';

/**
 * How an event travels: the plain envelope, or a CloudEvents 1.0 event in binary content mode
 * (attributes as message headers, the payload as the body) or structured content mode (the
 * whole event as JSON in the body).
 * @publicApi
 */
export type OutboxMessageFormat = 'envelope' | 'cloudevents-binary' | 'cloudevents-structured';

/** The media type of a structured-mode body (the JSON event format). */
export const CLOUDEVENTS_JSON_CONTENT_TYPE = 'application/cloudevents+json; charset=UTF-8';

/**
 * An outbox event as a CloudEvents 1.0 event. `eventversion` and `aggregatetype` are extension
 * attributes (names: lower-case letters and digits, at most 20 characters); `traceparent` and
 * `tracestate` are the Distributed Tracing extension, filled from the event's own headers.
 * @publicApi
 */
export interface CloudEvent<TData = unknown> {
  readonly specversion: '1.0';
  /** `event_id`. */
  readonly id: string;
  /** `OUTBOX_CLOUDEVENTS_SOURCE`: the producing service, a URI-reference. */
  readonly source: string;
  /** `event_type`. */
  readonly type: string;
  /** `aggregate_id`: what the event is about, within its source. */
  readonly subject: string;
  /** `occurred_at` (RFC 3339, UTC). */
  readonly time: string;
  readonly datacontenttype: 'application/json';
  /** `event_version`. */
  readonly eventversion: string;
  /** `aggregate_type`. */
  readonly aggregatetype: string;
  readonly traceparent?: string;
  readonly tracestate?: string;
  /** `payload`. */
  readonly data: TData;
}

/** Maps an outbox message to a CloudEvent; pure, no I/O, no JSON round trip. */
export function toCloudEvent(message: OutboxMessage, source: string): CloudEvent {
  const { envelope, headers } = message;
  let traceparent: string | undefined;
  let tracestate: string | undefined;
  for (const [name, value] of Object.entries(headers)) {
    // W3C trace context header names are case-insensitive.
    const lower = name.toLowerCase();
    if (lower === 'traceparent') traceparent = value;
    else if (lower === 'tracestate') tracestate = value;
  }
  return {
    specversion: '1.0',
    id: envelope.event_id,
    source,
    type: envelope.event_type,
    subject: envelope.aggregate_id,
    time: envelope.occurred_at,
    datacontenttype: 'application/json',
    eventversion: envelope.event_version,
    aggregatetype: envelope.aggregate_type,
    ...(traceparent !== undefined && { traceparent }),
    ...(tracestate !== undefined && { tracestate }),
    // Read only if something reads it: binary mode sends the stored payload JSON as the body
    // and never needs it parsed.
    get data() {
      return envelope.payload;
    },
  };
}

/**
 * Every context attribute (all but `data`) with its canonical string value, for binary content
 * mode, where each becomes a message header named by the protocol binding.
 */
export function contextAttributes(event: CloudEvent): [name: string, value: string][] {
  const attributes: [string, string][] = [];
  for (const [name, value] of Object.entries(event)) {
    if (name !== 'data') attributes.push([name, value as string]);
  }
  return attributes;
}

const encoder = new TextEncoder();
// Printable US-ASCII except space, '"' and '%': kept as they are.
const NEEDS_NO_ENCODING = /^[!#$&-~]*$/;
const NEEDS_ENCODING = /[^!#$&-~]/gu;

/**
 * A header value as the NATS binding (like the HTTP binding) requires: space, `"`, `%` and
 * everything outside printable US-ASCII percent-encoded as UTF-8 bytes, upper-case hex.
 */
export function percentEncodeHeaderValue(value: string): string {
  if (NEEDS_NO_ENCODING.test(value)) return value;
  return value.replace(NEEDS_ENCODING, (character) => {
    let encoded = '';
    for (const byte of encoder.encode(character)) {
      encoded += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
    return encoded;
  });
}

/** What a serializer needs to know about the format. @publicApi */
export interface MessageFormatOptions {
  /** @default 'envelope' */
  readonly messageFormat?: OutboxMessageFormat;
  /** Required with a CloudEvents format. */
  readonly cloudEventsSource?: string;
}

/** The CloudEvents source to write with, or undefined for the envelope; throws if it is missing. */
export function cloudEventsSourceOf({
  messageFormat = 'envelope',
  cloudEventsSource,
}: MessageFormatOptions): string | undefined {
  if (messageFormat === 'envelope') return undefined;
  if (!cloudEventsSource) {
    throw new TypeError(`cloudEventsSource is required with messageFormat '${messageFormat}'`);
  }
  return cloudEventsSource;
}
